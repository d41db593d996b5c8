"""The FHIR RESTful interactions, independent of HTTP.

The HTTP routes and the batch/transaction processor both call these, so a Bundle
entry behaves exactly like the same request sent alone. Each function works inside
a unit of work it is given and returns an ``Answer``.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl

from .. import patch as fhir_patch
from ..authz.access import current
from ..authz.guard import check_instance, check_written
from ..authz.history import check_version
from ..errors import BadRequest, MultipleMatches, NotFound, PreconditionFailed, Unprocessable
from ..search.service import find_ids_each
from ..storage.repository import UnitOfWork
from .outcome import Answer, informational

JSON_PATCH = "application/json-patch+json"


def check_type(resource: dict, resource_type: str) -> None:
    if resource.get("resourceType") != resource_type:
        raise BadRequest(
            f"The resource is a {resource.get('resourceType')!r}, the URL names {resource_type!r}",
            expression="resourceType",
        )


def parse_etag(value: str | None) -> int | None:
    """If-Match: W/"3" (or "3") -> 3."""
    if not value:
        return None
    tag = value.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    if not tag.isdigit():
        raise BadRequest(f"Malformed ETag {value!r}: expected W/\"<versionId>\"", code="value")
    return int(tag)


def conditional_key(resource_type: str, query: str) -> str:
    """The criteria of a conditional interaction, one spelling for all parameter orders."""
    return f"{resource_type}?" + "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(query, keep_blank_values=True)))


def conditional_matches(uow: UnitOfWork, resource_type: str, query: str) -> list[tuple[str, int]]:
    """(id, pid) of the resources a conditional interaction's criteria select."""
    return conditional_matches_each(uow, [(resource_type, query)])[0]


def conditional_matches_each(uow: UnitOfWork, criteria: list[tuple[str, str]]) -> list[list[tuple[str, int]]]:
    """``conditional_matches`` of several (type, query) at once, in one search statement
    (a transaction Bundle's conditional entries).

    Two requests with the same criteria at the same moment would both find nothing and
    both create: criteria that match nothing are locked until the transaction ends, all in
    one statement (one order: no deadlock), and searched again under the lock, so the
    second request searches after the first committed. Criteria that match already need
    no lock: both requests act on that match (every ADT of a ward names its Location)."""
    lookups = []
    for resource_type, query in criteria:
        params = parse_qsl(query, keep_blank_values=True)
        if not params:
            raise BadRequest(f"A conditional interaction on {resource_type} needs search criteria")
        lookups.append((resource_type, params))
    found = find_ids_each(uow, lookups, strict=True, limit=2)
    unmatched = [i for i, matches in enumerate(found) if not matches]
    if uow.lock(conditional_key(*criteria[i]) for i in unmatched):
        for i, matches in zip(unmatched, find_ids_each(uow, [lookups[i] for i in unmatched], strict=True, limit=2)):
            found[i] = matches
    return found


def create(uow: UnitOfWork, resource_type: str, resource: dict, *, if_none_exist: str | None = None,
           fhir_id: str | None = None) -> Answer:
    check_type(resource, resource_type)
    if if_none_exist:
        matches = conditional_matches(uow, resource_type, if_none_exist.split("?", 1)[-1])
        if len(matches) > 1:
            raise MultipleMatches(f"If-None-Exist '{if_none_exist}' matches more than one {resource_type}")
        if matches:
            return Answer(200, uow.read(resource_type, matches[0][0]))
    current().require("c", resource_type)
    # R4 3.1.0.5: the server ignores any id the client put in a create.
    stored = uow.create(resource, fhir_id=fhir_id)
    check_written(uow, "c", resource_type, stored.id)
    return Answer(201, stored, location=_location(stored))


def read(uow: UnitOfWork, resource_type: str, fhir_id: str) -> Answer:
    check_instance(uow, "r", resource_type, fhir_id)
    return Answer(200, uow.read(resource_type, fhir_id))


def not_modified(answer: Answer, *, if_none_match: str | None = None,
                 if_modified_since: str | None = None) -> Answer:
    """A read answered 304 when the client's copy is current (If-None-Match wins)."""
    stored = answer.stored
    if if_none_match:
        tags = [t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")]
        return Answer(304, stored) if str(stored.version_id) in tags or "*" in tags else answer
    if if_modified_since:
        try:
            moment = parsedate_to_datetime(if_modified_since).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError):
            return answer  # RFC 9110: an invalid date is ignored
        if stored.last_updated.replace(microsecond=0) <= moment:
            return Answer(304, stored)
    return answer


def vread(uow: UnitOfWork, resource_type: str, fhir_id: str, version_id: str) -> Answer:
    if not version_id.isdigit():
        raise NotFound(f"{resource_type}/{fhir_id}/_history/{version_id} is not known")
    check_instance(uow, "r", resource_type, fhir_id)
    # The instance is within reach now; this version must have been too (moved resources).
    return Answer(200, check_version(uow, uow.vread(resource_type, fhir_id, int(version_id))))


def update(uow: UnitOfWork, resource_type: str, fhir_id: str, resource: dict, *,
           if_match: str | None = None) -> Answer:
    check_type(resource, resource_type)
    if resource.get("id") != fhir_id:
        raise BadRequest(
            f"The resource id ({resource.get('id')!r}) must match the id in the URL ({fhir_id!r})",
            expression=f"{resource_type}.id",
        )
    letter = _check_replace(uow, resource_type, fhir_id)
    stored, created = uow.update(resource, fhir_id, if_match=parse_etag(if_match))
    check_written(uow, letter, resource_type, fhir_id)
    return Answer(201 if created else 200, stored, location=_location(stored))


def _check_replace(uow: UnitOfWork, resource_type: str, fhir_id: str) -> str:
    """An update of a resource the token can see needs 'u'; an update-as-create, 'c'."""
    if current().internal:
        return "u"
    if uow.pid_of(resource_type, fhir_id) is None:
        current().require("c", resource_type)
        return "c"
    check_instance(uow, "u", resource_type, fhir_id)
    return "u"


def conditional_update(uow: UnitOfWork, resource_type: str, query: str, resource: dict, *,
                       if_match: str | None = None) -> Answer:
    check_type(resource, resource_type)
    matches = conditional_matches(uow, resource_type, query)
    if len(matches) > 1:
        raise MultipleMatches(f"Conditional update '{resource_type}?{query}' matches more than one resource")
    if matches:
        fhir_id = matches[0][0]
        if resource.get("id") not in (None, fhir_id):
            raise BadRequest(
                f"The resource id {resource['id']!r} differs from the matching resource {resource_type}/{fhir_id}",
                expression=f"{resource_type}.id",
            )
        return update(uow, resource_type, fhir_id, {**resource, "id": fhir_id}, if_match=if_match)
    if resource.get("id"):  # no match, client id given: update-as-create
        return update(uow, resource_type, resource["id"], resource, if_match=if_match)
    return create(uow, resource_type, resource)


def delete(uow: UnitOfWork, resource_type: str, fhir_id: str, *, if_match: str | None = None) -> Answer:
    current().require("d", resource_type)
    if uow.pid_of(resource_type, fhir_id) is not None:
        check_instance(uow, "d", resource_type, fhir_id)
    stored = uow.delete(resource_type, fhir_id, if_match=parse_etag(if_match))
    if stored is None:
        return Answer(200, body=informational(f"{resource_type}/{fhir_id} did not exist or was already deleted"))
    return Answer(200, body=informational(f"Deleted {resource_type}/{fhir_id}"), headers={"ETag": stored.etag})


def conditional_delete(uow: UnitOfWork, resource_type: str, query: str) -> Answer:
    matches = conditional_matches(uow, resource_type, query)
    if len(matches) > 1:
        raise MultipleMatches(f"Conditional delete '{resource_type}?{query}' matches more than one resource")
    if not matches:
        return Answer(200, body=informational(f"No {resource_type} matched '{query}': nothing deleted"))
    return delete(uow, resource_type, matches[0][0])


def patch(uow: UnitOfWork, resource_type: str, fhir_id: str, content_type: str, document, *,
          if_match: str | None = None) -> Answer:
    check_instance(uow, "u", resource_type, fhir_id)
    existing = uow.read(resource_type, fhir_id)
    expected = parse_etag(if_match)
    if expected is not None and expected != existing.version_id:
        raise PreconditionFailed(
            f"Version conflict on {resource_type}/{fhir_id}: If-Match asks for version {expected}, "
            f"the current version is {existing.version_id}"
        )
    resource = existing.resource()
    if content_type == JSON_PATCH:
        if not isinstance(document, list):
            raise BadRequest("A JSON Patch document is a JSON array of operations")
        patched = fhir_patch.apply_json_patch(resource, document)
    else:
        if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
            raise BadRequest("A FHIRPath Patch is a Parameters resource (or send application/json-patch+json)")
        patched = fhir_patch.apply_fhirpath_patch(resource, document)
    if not isinstance(patched, dict) or patched.get("resourceType") != resource_type or patched.get("id") != fhir_id:
        raise Unprocessable("A patch may not change the resource's type or id", expression=f"{resource_type}.id")
    stored, _ = uow.update(patched, fhir_id, if_match=existing.version_id, method="PATCH")
    check_written(uow, "u", resource_type, fhir_id)
    return Answer(200, stored, location=_location(stored))


def conditional_patch(uow: UnitOfWork, resource_type: str, query: str, content_type: str, document, *,
                      if_match: str | None = None) -> Answer:
    matches = conditional_matches(uow, resource_type, query)
    if len(matches) > 1:
        raise MultipleMatches(f"Conditional patch '{resource_type}?{query}' matches more than one resource")
    if not matches:
        raise NotFound(f"No {resource_type} matches '{query}'")
    return patch(uow, resource_type, matches[0][0], content_type, document, if_match=if_match)


def _location(stored) -> str:
    return f"{stored.resource_type}/{stored.id}/_history/{stored.version_id}"
