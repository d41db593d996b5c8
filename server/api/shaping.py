"""_summary and _elements: shaping a resource before it is returned (R4 3.1.1.5.7-8)."""

from __future__ import annotations

from functools import cache

from profiles import load_bundle

from ..errors import BadRequest

SUMMARY_VALUES = ("true", "text", "data", "count", "false")
_ALWAYS = ("resourceType", "id", "meta")
_SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}


@cache
def _elements_table() -> dict:
    return load_bundle("summary-elements.json.gz")


def _keep(resource: dict, names) -> dict:
    """Top-level elements whose name is listed; value[x] choices match by prefix."""
    kept = {}
    for key, value in resource.items():
        base = key[1:] if key.startswith("_") else key  # primitive extensions go with their value
        if key in _ALWAYS or base in names or any(base.startswith(n) and base[len(n):][:1].isupper() for n in names):
            kept[key] = value
    return kept


def _mark_subsetted(resource: dict) -> dict:
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    meta["tag"] = [*tags, _SUBSETTED]
    return {**resource, "meta": meta}


def shape(resource: dict, summary: str | None = None, elements: str | None = None) -> dict:
    if summary in (None, "false") and not elements:
        return resource
    if summary and summary not in SUMMARY_VALUES:
        raise BadRequest(f"_summary must be one of {', '.join(SUMMARY_VALUES)}", expression="_summary")
    if summary == "data":
        shaped = {k: v for k, v in resource.items() if k not in ("text", "_text")}
    elif summary in ("true", "text"):
        info = _elements_table().get(resource["resourceType"], {"summary": [], "mandatory": []})
        names = set(info["summary"]) if summary == "true" else {"text", *info["mandatory"]}
        shaped = _keep(resource, names)
    else:
        names = {n.strip().split(".")[-1] for n in elements.split(",") if n.strip()}
        shaped = _keep(resource, names)
    return _mark_subsetted(shaped)
