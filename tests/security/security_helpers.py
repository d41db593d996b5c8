"""Helpers of the enforcement tests."""

from __future__ import annotations

RATE_LIMIT = 40  # requests a minute per client on the secure server (test_edge spends it)
MAX_BODY = 1_000_000  # the secure server's body limit


def ids(bundle: dict, mode: str | None = None) -> set[str]:
    """Type/id of a Bundle's entries (of one search mode if given)."""
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])
            if "resource" in e and e["resource"].get("id")
            and (mode is None or e.get("search", {}).get("mode") == mode)}
