"""The Da Vinci PAS request Bundle: its rules, and its resources matched to ours.

Checked (every problem reported at once, each with its expression): a ``collection``
Bundle with an identifier and a timestamp; a Claim first, ``use`` preauthorization or
claim, with insurance and items (sequence, productOrService); every entry with a unique
fullUrl; the Claim's patient, insurer, provider and coverages found in the Bundle.

A Bundle resource is ours when its id names a stored resource of its type, or when its
first identifier finds exactly one. The Claim we store points at ours; a resource we do
not hold becomes a logical reference (its identifier, its display).
"""

from __future__ import annotations

import copy

from ..errors import BadRequest, Unprocessable
from .lookup import identifier_token, search

CLAIM_REFERENCES = (("patient", "Patient"), ("insurer", "Organization"), ("provider", None))


def check(bundle: dict) -> dict:
    """The Claim of a valid PAS Bundle; BadRequest listing every violation otherwise."""
    problems: list[tuple[str, str]] = []
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BadRequest("Claim/$submit takes a PAS Bundle (type collection, the Claim first)",
                         code="structure", expression="Bundle")
    if bundle.get("type") != "collection":
        problems.append(("Bundle.type", f"must be 'collection', not {bundle.get('type')!r}"))
    if not (bundle.get("identifier") or {}).get("value"):
        problems.append(("Bundle.identifier", "is required"))
    if not bundle.get("timestamp"):
        problems.append(("Bundle.timestamp", "is required"))
    entries = _objects(bundle, "entry", "Bundle", problems)
    first = entries[0].get("resource") if entries else None
    if not isinstance(first, dict) or first.get("resourceType") != "Claim":
        raise BadRequest("The first entry of the Bundle must be the Claim", code="required",
                         expression="Bundle.entry[0].resource")
    seen = set()
    for i, entry in enumerate(entries):
        url = entry.get("fullUrl")
        if not url or not isinstance(url, str):
            problems.append((f"Bundle.entry[{i}].fullUrl", "is required"))
        elif url in seen:
            problems.append((f"Bundle.entry[{i}].fullUrl", f"{url!r} appears twice"))
        seen.add(url)
        if not isinstance(entry.get("resource"), dict):
            problems.append((f"Bundle.entry[{i}].resource", "is required"))
    claim = first
    where = "Bundle.entry[0].resource"
    if claim.get("use") not in ("preauthorization", "claim"):
        problems.append((f"{where}.use", f"must be 'preauthorization' or 'claim', not {claim.get('use')!r}"))
    for element, _ in CLAIM_REFERENCES:
        _check_reference(bundle, claim, element, f"{where}.{element}", problems)
    insurances = _objects(claim, "insurance", where, problems)
    if not insurances:
        problems.append((f"{where}.insurance", "at least one insurance is required"))
    for i, insurance in enumerate(insurances):
        _check_reference(bundle, insurance, "coverage", f"{where}.insurance[{i}].coverage", problems)
    items = _objects(claim, "item", where, problems)
    if not items:
        problems.append((f"{where}.item", "at least one item is required"))
    for i, item in enumerate(items):
        if not isinstance(item.get("sequence"), int) or isinstance(item.get("sequence"), bool):
            problems.append((f"{where}.item[{i}].sequence", "is required"))
        service = item.get("productOrService")
        if not isinstance(service, dict) or not isinstance(service.get("coding"), list) or not service["coding"]:
            problems.append((f"{where}.item[{i}].productOrService", "needs a coded service"))
    if problems:
        (expression, message), *rest = problems
        raise BadRequest(f"{expression} {message}", code="invalid", expression=expression, issues=[
            {"severity": "error", "code": "invalid", "diagnostics": f"{e} {m}", "expression": [e]} for e, m in rest])
    return claim


def _objects(holder: dict, element: str, where: str, problems: list) -> list[dict]:
    """The JSON objects of a list element; anything else is a problem (and left out)."""
    value = holder.get(element)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append((f"{where}.{element}", "must be a list"))
        return []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            problems.append((f"{where}.{element}[{i}]", "must be an object"))
    return [item for item in value if isinstance(item, dict)]


def _check_reference(bundle: dict, holder: dict, element: str, expression: str, problems: list) -> None:
    value = holder.get(element)
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str) or not reference:
        problems.append((expression, "is required"))
    elif entry_for(bundle, reference) is None:
        problems.append((expression, f"{reference!r} is not in the Bundle (PAS: every referenced resource is sent)"))


def entry_for(bundle: dict, reference: str) -> dict | None:
    """The Bundle resource a reference designates: by fullUrl, or Type/id at its end."""
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else ""
        if reference == url or (resource.get("id") and reference == f"{resource.get('resourceType')}/{resource['id']}"):
            return resource
        if url.endswith("/" + reference):
            return resource
    return None


def ours(uow, resource: dict) -> str | None:
    """'Type/id' of our copy of a Bundle resource, or None."""
    kind = resource.get("resourceType")
    if resource.get("id") and uow.pid_of(kind, resource["id"]) is not None:
        return f"{kind}/{resource['id']}"
    identifiers = resource.get("identifier")
    token = identifier_token(identifiers[0]) if isinstance(identifiers, list) and identifiers else None
    if token:
        found = search(uow, kind, [("identifier", token)], limit=2)
        if len(found) == 1:
            return f"{kind}/{found[0]['id']}"
    return None


def localize(uow, bundle: dict, claim: dict) -> dict:
    """A copy of the Claim whose references point at our resources; patient, insurer and
    coverages must be ours (422 naming the element otherwise)."""
    local = copy.deepcopy({k: v for k, v in claim.items() if k not in ("id", "meta")})
    required = {"patient": "Patient", "insurer": "Organization"}
    for element, kind in required.items():
        _require(uow, bundle, local[element], f"Bundle.entry[0].resource.{element}", kind)
    for i, insurance in enumerate(local.get("insurance", [])):
        _require(uow, bundle, insurance["coverage"], f"Bundle.entry[0].resource.insurance[{i}].coverage", "Coverage")
    _rewrite(uow, bundle, local)
    return local


def _require(uow, bundle: dict, reference: dict, expression: str, kind: str) -> None:
    resource = entry_for(bundle, reference["reference"]) or {}
    if resource.get("resourceType") != kind:
        raise Unprocessable(f"{reference['reference']} should be a {kind}", code="invalid", expression=expression)
    found = ours(uow, resource)
    if found is None:
        raise Unprocessable(f"Unknown {kind}: no {kind} here has the id or identifier of {reference['reference']}",
                            code="not-found", expression=expression)
    reference["reference"] = found


def _rewrite(uow, bundle: dict, node) -> None:
    if isinstance(node, list):
        for item in node:
            _rewrite(uow, bundle, item)
        return
    if not isinstance(node, dict):
        return
    reference = node.get("reference")
    if isinstance(reference, str) and not reference.startswith("#"):
        resource = entry_for(bundle, reference)
        if resource is not None:
            found = ours(uow, resource)
            node.pop("reference")
            if found:
                node["reference"] = found
            else:  # not ours: a logical reference
                node["type"] = resource.get("resourceType")
                if isinstance(resource.get("identifier"), list) and resource["identifier"]:
                    node["identifier"] = {k: resource["identifier"][0][k] for k in ("system", "value")
                                          if k in resource["identifier"][0]}
                node.setdefault("display", _display(resource))
        elif not _local(uow, reference):
            node.pop("reference")
            node.setdefault("display", reference)
    for key, value in node.items():
        if key != "reference":
            _rewrite(uow, bundle, value)


def _local(uow, reference: str) -> bool:
    kind, _, fhir_id = reference.partition("/")
    return bool(fhir_id) and "/" not in fhir_id and kind[:1].isupper() and uow.pid_of(kind, fhir_id) is not None


def _display(resource: dict) -> str:
    name = resource.get("name")
    if isinstance(name, str):
        return name
    if isinstance(name, list) and name:
        first = name[0]
        return first.get("text") or " ".join([*first.get("given", []), first.get("family", "")]).strip() or "unnamed"
    return resource.get("resourceType", "resource")
