"""The write-time hook: every Patient / Practitioner written is matched in its own transaction.

Registered on ``Store.listeners`` (server.app.build_context), so every ingest path (REST,
transactions, HL7 v2, forms, directory) goes through it. For a record seen for the first
time: certain match -> linked to that golden record; probable/possible -> a golden
record of its own plus a review Task; no match -> a golden record of its own. A record
already linked keeps its link (its blocking keys are refreshed). The link is added to
the resource being written (in place, before it is stored). Records are not re-matched
when they change: moving a record between golden records is a decision ($merge,
``$mdm-confirm``), not a side effect of an edit.
"""

from __future__ import annotations

import logging

from ..errors import Gone, NotFound
from . import golden, index
from .matcher import Matcher
from .model import load_models
from .review import create_review

log = logging.getLogger("passerelle.mdm")
MAX_REVIEWS = 5  # review Tasks per new record: the best candidates; more would bury the queue


class MdmListener:
    def __init__(self, rules_path: str | None = None, *, enabled: bool = True):
        self.models = load_models(rules_path or None)
        self.matcher = Matcher(self.models)
        self.enabled = enabled

    @classmethod
    def from_settings(cls, settings) -> MdmListener:
        if settings.mdm not in ("on", "off"):
            raise ValueError(f"PASSERELLE_MDM must be 'on' or 'off', not {settings.mdm!r}")
        return cls(settings.mdm_rules, enabled=settings.mdm == "on")

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if not self.enabled or resource_type not in self.models:
            return
        if resource is None:
            self._deleted(uow, resource_type, fhir_id)
            return
        if golden.is_golden(resource):
            return
        model = self.models[resource_type]
        features = model.features(resource)
        keys = self.matcher.keys(model, features)
        # Two transactions ingesting the same new person share blocking keys: the second
        # waits for the first to commit, then finds its record.
        uow.lock(f"mdm:{resource_type}:{key}" for key in keys)
        seen = index.replace_keys(uow.conn, resource_type, fhir_id, keys + self.matcher.term_keys(model, features))
        # A link in the resource was chosen ($merge, a review decision); else an update keeps
        # the link of the version it replaces (clients rarely send it back). A record never
        # matched before has no such version: no read on the create path.
        linked = golden.golden_of(resource)
        if linked is None and seen:
            previous = index.current_resources(uow.conn, resource_type, [fhir_id]).get(fhir_id)
            linked = golden.golden_of(previous) if previous else None
        if linked is not None:
            golden.add_link(resource, "golden", linked)
            return
        self._first_seen(uow, model, resource_type, fhir_id, resource, features, keys)

    def _first_seen(self, uow, model, resource_type, fhir_id, resource, features, keys) -> None:
        found = self.matcher.candidates(uow, resource_type, features, keys=keys, exclude=fhir_id)
        best = found[0] if found else None
        if best is not None and best.score.grade == "certain":
            try:
                golden.attach(uow, best.golden_id, resource_type, fhir_id)
            except (NotFound, Gone):
                best = None  # someone deleted that golden record: this record starts a new one
            else:
                golden.add_link(resource, "golden", best.golden_id)
                log.info("mdm: %s/%s linked to golden %s (p=%.4f)", resource_type, fhir_id, best.golden_id,
                         best.score.probability)
                return
        golden_id = golden.new_golden(uow, fhir_id, resource)
        golden.add_link(resource, "golden", golden_id)
        doubtful = [c for c in found if c.score.grade in ("probable", "possible")]
        for candidate in doubtful[:MAX_REVIEWS]:
            create_review(uow, resource_type, fhir_id, candidate)
            log.info("mdm: %s/%s may be golden %s (%s): review task", resource_type, fhir_id,
                     candidate.golden_id, candidate.score.grade)

    def _deleted(self, uow, resource_type: str, fhir_id: str) -> None:
        previous = index.current_resources(uow.conn, resource_type, [fhir_id]).get(fhir_id)
        index.replace_keys(uow.conn, resource_type, fhir_id, [])
        if previous and not golden.is_golden(previous) and (linked := golden.golden_of(previous)):
            golden.detach(uow, linked, resource_type, fhir_id)


def mdm_of(ctx) -> MdmListener:
    """The MDM hook of this server (operations use its models and matcher)."""
    for listener in ctx.store.listeners:
        if isinstance(listener, MdmListener) and listener.enabled:
            return listener
    raise NotFound("Identity matching is off on this server (PASSERELLE_MDM=off)", code="not-supported")
