"""$meta, $meta-add, $meta-delete (http://hl7.org/fhir/R4/resource-operations.html#meta).

Tags, profiles and security labels in use come from the search index (_tag,
_profile, _security), so the type and system levels do not read any resource.
$meta-add and $meta-delete write a new version: versions here are immutable.
"""

from __future__ import annotations

from sqlalchemy import select

from ..api.outcome import Answer
from ..errors import BadRequest
from ..storage.models import IdxToken, IdxUri
from .registry import OperationCall, operation

BASE = "http://hl7.org/fhir/OperationDefinition/Resource-"


def _parameters(meta: dict) -> dict:
    return {"resourceType": "Parameters", "parameter": [{"name": "return", "valueMeta": meta}]}


def _meta_in_use(call: OperationCall) -> dict:
    tokens = select(IdxToken.param, IdxToken.system, IdxToken.code).where(IdxToken.param.in_(("_tag", "_security")))
    uris = select(IdxUri.uri).where(IdxUri.param == "_profile")
    if call.resource_type:
        tokens = tokens.where(IdxToken.resource_type == call.resource_type)
        uris = uris.where(IdxUri.resource_type == call.resource_type)
    meta: dict = {}
    for row in call.uow.conn.execute(tokens.distinct().order_by(IdxToken.system, IdxToken.code)):
        key = "tag" if row.param == "_tag" else "security"
        meta.setdefault(key, []).append({k: v for k, v in (("system", row.system), ("code", row.code)) if v})
    profiles = [r.uri for r in call.uow.conn.execute(uris.distinct().order_by(IdxUri.uri))]
    if profiles:
        meta["profile"] = profiles
    return meta


@operation("meta", definition=BASE + "meta", levels=("system", "type", "instance"))
def meta(call: OperationCall) -> Answer:
    if call.fhir_id:
        return Answer(200, body=_parameters(call.uow.read(call.resource_type, call.fhir_id).resource().get("meta", {})))
    return Answer(200, body=_parameters(_meta_in_use(call)))


def _given_meta(call: OperationCall) -> dict:
    given = call.value("meta")
    if not isinstance(given, dict):
        raise BadRequest("The 'meta' parameter (valueMeta) is required", expression="meta")
    return given


def _same(a: dict, b: dict) -> bool:
    return a.get("system") == b.get("system") and a.get("code") == b.get("code")


def _rewrite_meta(call: OperationCall, change) -> Answer:
    current = call.uow.read(call.resource_type, call.fhir_id)
    resource = current.resource()
    resource["meta"] = change(dict(resource.get("meta") or {}), _given_meta(call))
    stored, _ = call.uow.update(resource, call.fhir_id, if_match=current.version_id, method="PUT")
    return Answer(200, body=_parameters(stored.resource()["meta"]))


def _add(meta: dict, given: dict) -> dict:
    for key in ("tag", "security"):
        for coding in given.get(key, []):
            if not any(_same(coding, c) for c in meta.get(key, [])):
                meta.setdefault(key, []).append(coding)
    for profile in given.get("profile", []):
        if profile not in meta.get("profile", []):
            meta.setdefault("profile", []).append(profile)
    return meta


def _delete(meta: dict, given: dict) -> dict:
    for key in ("tag", "security"):
        kept = [c for c in meta.get(key, []) if not any(_same(c, g) for g in given.get(key, []))]
        meta.pop(key, None)
        if kept:
            meta[key] = kept
    profiles = [p for p in meta.pop("profile", []) if p not in given.get("profile", [])]
    if profiles:
        meta["profile"] = profiles
    return meta


@operation("meta-add", definition=BASE + "meta-add", levels=("instance",), affects_state=True)
def meta_add(call: OperationCall) -> Answer:
    return _rewrite_meta(call, _add)


@operation("meta-delete", definition=BASE + "meta-delete", levels=("instance",), affects_state=True)
def meta_delete(call: OperationCall) -> Answer:
    return _rewrite_meta(call, _delete)
