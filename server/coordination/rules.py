"""Site adjudication rules for prior authorization, held as data (JSON).

Shape (``data/claim-rules.json`` is the example): ``authorizationRequired``,
``autoApprove`` (with optional ``maxQuantity`` and ``maxUnitPrice``, and ``overLimit``:
``pend`` (the default: a coordinator decides) or ``modify`` (certify ``maxQuantity`` of a
larger request: a partial approval, X12 306 A6)), ``pendForReview`` and ``notCovered``,
each a list of codes (system + code) of Claim.item.productOrService.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

DEFAULT_RULES = Path(__file__).parent / "data" / "claim-rules.json"


@dataclass(frozen=True)
class AutoApprove:
    max_quantity: Decimal | None = None
    max_unit_price: Decimal | None = None
    currency: str | None = None
    modify_over_limit: bool = False  # above maxQuantity: certify maxQuantity (A6) rather than pend


@dataclass(frozen=True)
class ClaimRules:
    authorization_required: frozenset[tuple[str, str]] = frozenset()
    auto_approve: dict[tuple[str, str], AutoApprove] = field(default_factory=dict)
    pend_for_review: frozenset[tuple[str, str]] = frozenset()
    not_covered: frozenset[tuple[str, str]] = frozenset()


def _codes(data: dict, key: str, path: str) -> list[tuple[tuple[str, str], dict]]:
    out = []
    for i, item in enumerate(data.get(key, [])):
        if not isinstance(item, dict) or not item.get("system") or not item.get("code"):
            raise ValueError(f"{path}: {key}[{i}] needs a system and a code")
        out.append(((item["system"], item["code"]), item))
    return out


@lru_cache(maxsize=8)
def load_rules(path: str = "") -> ClaimRules:
    """The rules in ``path`` (empty: the bundled example). ValueError names the faulty entry."""
    source = Path(path) if path else DEFAULT_RULES
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"claim rules {source}: {exc}") from None
    auto = {}
    for key, item in _codes(data, "autoApprove", str(source)):
        price = item.get("maxUnitPrice") or {}
        over = item.get("overLimit", "pend")
        if over not in ("pend", "modify") or (over == "modify" and item.get("maxQuantity") is None):
            raise ValueError(f"{source}: autoApprove {key[1]}: overLimit is 'pend' or 'modify' "
                             f"(which needs a maxQuantity), not {over!r}")
        auto[key] = AutoApprove(
            Decimal(str(item["maxQuantity"])) if item.get("maxQuantity") is not None else None,
            Decimal(str(price["value"])) if price.get("value") is not None else None,
            price.get("currency"), over == "modify")
    return ClaimRules(
        frozenset(k for k, _ in _codes(data, "authorizationRequired", str(source))),
        auto,
        frozenset(k for k, _ in _codes(data, "pendForReview", str(source))),
        frozenset(k for k, _ in _codes(data, "notCovered", str(source))),
    )
