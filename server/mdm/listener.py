"""The write-time hook: every Patient / Practitioner written is matched in its own transaction.

Registered on ``Store.listeners`` (server.app.build_context), so every ingest path (REST,
transactions, HL7 v2, forms, directory) goes through it. The link is added to the
resource being written (in place, before it is stored).

- A record seen for the first time: certain match -> linked to that golden record;
  probable/possible -> a golden record of its own plus a review Task; no match -> a
  golden record of its own.
- A record written with a link other than the stored one: a decision ($merge,
  ``$mdm-confirm``, unmerge) is kept as it is.
- An edit of a linked record that changes a matching field is matched again: still a
  certain match with the other sources of its golden record -> nothing moves; a
  certain match with another golden record -> relinked there (a review Task instead,
  when a person had decided the link); no longer a certain match anywhere -> a review
  Task asks whether it is still that person (unless a person decided the link). Its golden record is refreshed from its
  sources (survivorship rules) whenever what it shows of them changed.

Cost: one query per record (``index.lookup``: its stored rows and the records sharing a
blocking key) plus the insert of its new rows; candidates' content and term counts in
one more when there are candidates; records written earlier in the same transaction
are never read back (``_Unit.records``). An edit that changes no matching field and
nothing a golden record shows writes nothing more.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from dataclasses import dataclass, field

from .. import jsonio
from ..errors import NotFound
from ..storage.repository import format_instant
from . import golden, index
from .index import FINGERPRINT, GOLDEN
from .matcher import Candidate, Matcher
from .model import Model, load_models
from .review import STILL_SAME, create_review

log = logging.getLogger("passerelle.mdm")
MAX_REVIEWS = 5  # review Tasks per new record: the best candidates; more would bury the queue
SHOWN = "fg:"  # digest of what a golden record may show of the record (survivorship elements)


@dataclass
class _Unit:
    """What the hook knows of one unit of work: the records it saw written (as written,
    links included), so that matching within a transaction reads nothing back."""
    records: dict[str, dict[str, dict]] = field(default_factory=dict)  # type -> id -> content

    def of(self, resource_type: str) -> dict[str, dict]:
        return self.records.setdefault(resource_type, {})


def _digest(prefix: str, data: bytes) -> str:
    return prefix + hashlib.blake2b(data, digest_size=12).hexdigest()


class MdmListener:
    def __init__(self, rules_path: str | None = None, *, enabled: bool = True):
        self.models = load_models(rules_path or None)
        self.matcher = Matcher(self.models)
        self.enabled = enabled
        self._units: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @classmethod
    def from_settings(cls, settings) -> MdmListener:
        if settings.mdm not in ("on", "off"):
            raise ValueError(f"PASSERELLE_MDM must be 'on' or 'off', not {settings.mdm!r}")
        return cls(settings.mdm_rules, enabled=settings.mdm == "on")

    def begin(self, uow, *, write: bool) -> None:
        pass

    def _unit(self, uow) -> _Unit:
        unit = self._units.get(uow)
        if unit is None:
            unit = self._units[uow] = _Unit()
        return unit

    def _loader(self, uow, resource_type: str):
        return lambda ids: index.current_resources(uow.conn, resource_type, ids)

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if not self.enabled or resource_type not in self.models:
            return
        unit = self._unit(uow)
        if resource is None:
            self._deleted(uow, unit, resource_type, fhir_id)
            return
        if golden.is_golden(resource):
            return
        model = self.models[resource_type]
        features = model.features(resource)
        keys = self.matcher.keys(model, features)
        # Two transactions ingesting the same new person share blocking keys: the second
        # waits for the first to commit, then finds its record.
        uow.lock(f"mdm:{resource_type}:{key}" for key in keys)
        found = index.lookup(uow.conn, resource_type, fhir_id, keys, max_block=model.max_block)
        matched = _digest(FINGERPRINT, jsonio.dumps(features))
        shown = _digest(SHOWN, model.survivorship.fingerprint_of(resource)) if model.survivorship else SHOWN
        records = unit.of(resource_type)

        stored = found.golden()
        if stored is None and found.own:
            # Rows written before links were kept in the index: the link is in the content.
            previous = index.current_resources(uow.conn, resource_type, [fhir_id]).get(fhir_id)
            stored = golden.golden_of(previous) if previous else None
        chosen = golden.golden_of(resource)
        decided = chosen is not None and (chosen != stored or golden.is_manual(resource) > _manual_key(found, stored))
        if decided:
            # A decision ($merge, a review, unmerge): kept; both golden records follow.
            self._remember(uow, records, fhir_id, resource)
            self._refresh(uow, model, records, chosen, joining=fhir_id)
            if stored:
                self._refresh(uow, model, records, stored)
        elif stored is not None:
            # An edit: clients rarely send the link back; a person's decision stays marked.
            golden.add_link(resource, "golden", stored, manual=_manual_key(found, stored))
            rematch = found.own and any(k.startswith(FINGERPRINT) for k in found.own) and matched not in found.own
            self._remember(uow, records, fhir_id, resource)
            if rematch:
                self._edited(uow, model, records, fhir_id, resource, features, stored, found.candidates)
            elif shown not in found.own:
                self._refresh(uow, model, records, stored)
        else:
            self._remember(uow, records, fhir_id, resource)
            self._first_seen(uow, model, records, fhir_id, resource, features, found.candidates)

        linked = golden.golden_of(resource)
        rows = keys + self.matcher.term_keys(model, features) + [matched, shown]
        if linked:
            rows.append(GOLDEN + linked + ("|manual" if golden.is_manual(resource) else ""))
        index.write_keys(uow.conn, resource_type, fhir_id, rows, found.own)
        self._remember(uow, records, fhir_id, resource)

    def _remember(self, uow, records: dict, fhir_id: str, resource: dict) -> None:
        # As it will be stored (a copy: called again after its link changes), the newest
        # of its golden record's sources.
        records[fhir_id] = {**resource, "meta": {**(resource.get("meta") or {}),
                                                 "lastUpdated": format_instant(uow.now)}}

    def _refresh(self, uow, model: Model, records: dict, golden_id: str, *, joining: str | None = None) -> bool:
        return golden.refresh(uow, golden_id, model.resource_type, model.survivorship, records, joining=joining,
                              load=self._loader(uow, model.resource_type))

    def _first_seen(self, uow, model: Model, records, fhir_id, resource, features, ids) -> None:
        rtype = model.resource_type
        found = self.matcher.candidates(uow, rtype, features, ids=ids, records=records)
        best = found[0] if found else None
        if best is not None and best.score.grade == "certain":
            golden.add_link(resource, "golden", best.golden_id)
            self._remember(uow, records, fhir_id, resource)
            if self._refresh(uow, model, records, best.golden_id, joining=fhir_id):
                log.info("mdm: %s/%s linked to golden %s (p=%.4f)", rtype, fhir_id, best.golden_id,
                         best.score.probability)
                return
            golden.remove_link(resource, "golden", best.golden_id)  # deleted meanwhile: a new one
        golden_id = golden.new_golden(uow, fhir_id, records[fhir_id], model.survivorship)
        golden.add_link(resource, "golden", golden_id)
        doubtful = [c for c in found if c.score.grade in ("probable", "possible")]
        for candidate in doubtful[:MAX_REVIEWS]:
            create_review(uow, rtype, fhir_id, candidate)
            log.info("mdm: %s/%s may be golden %s (%s): review task", rtype, fhir_id, candidate.golden_id,
                     candidate.score.grade)

    def _edited(self, uow, model: Model, records, fhir_id, resource, features, current, ids) -> None:
        """A linked record's matching fields changed: is it still its golden record's person?"""
        rtype = model.resource_type
        # Its golden record's other sources, whether or not they still share a key with it.
        siblings = [i for i in index.sources_of(uow.conn, rtype, current) if i != fhir_id]
        found = self.matcher.candidates(uow, rtype, features, ids=list(dict.fromkeys(ids + siblings)),
                                        records=records)
        mine = next((c for c in found if c.golden_id == current), None)
        elsewhere = next((c for c in found if c.golden_id != current and c.score.grade == "certain"), None)
        manual = golden.is_manual(resource)
        if mine is not None and mine.score.grade == "certain":
            self._refresh(uow, model, records, current)
        elif elsewhere is not None and not manual:
            golden.remove_link(resource, "golden", current)
            golden.add_link(resource, "golden", elsewhere.golden_id)
            self._remember(uow, records, fhir_id, resource)
            self._refresh(uow, model, records, elsewhere.golden_id, joining=fhir_id)
            if golden.detach(uow, current, rtype, fhir_id):
                self._refresh(uow, model, records, current)
            log.info("mdm: %s/%s relinked from golden %s to %s after an edit (p=%.4f)", rtype, fhir_id, current,
                     elsewhere.golden_id, elsewhere.score.probability)
        else:
            self._refresh(uow, model, records, current)
            if elsewhere is not None:  # a person linked it here: ask before moving it
                create_review(uow, rtype, fhir_id, elsewhere)
            elif siblings and not manual:  # alone in its golden record, it cannot stop matching it;
                # a person who decided the link need not be asked again at every edit
                create_review(uow, rtype, fhir_id, mine or Candidate(current, "", _no_match(model)),
                              question=STILL_SAME)
            else:
                return
            log.info("mdm: %s/%s edited: link to golden %s under review", rtype, fhir_id, current)

    def _deleted(self, uow, unit: _Unit, resource_type: str, fhir_id: str) -> None:
        records = unit.of(resource_type)
        records.pop(fhir_id, None)
        own = index.own_keys(uow.conn, resource_type, fhir_id)
        linked = next((k[len(GOLDEN):].split("|")[0] for k in own if k.startswith(GOLDEN)), None)
        if linked is None and own:
            previous = index.current_resources(uow.conn, resource_type, [fhir_id]).get(fhir_id)
            linked = golden.golden_of(previous) if previous and not golden.is_golden(previous) else None
        index.drop_keys(uow.conn, resource_type, fhir_id)
        if linked and golden.detach(uow, linked, resource_type, fhir_id):
            model = self.models[resource_type]
            self._refresh(uow, model, records, linked)


def _manual_key(found: index.Lookup, golden_id: str) -> bool:
    return f"{GOLDEN}{golden_id}|manual" in found.own


def _no_match(model: Model):
    return model.score([])


def mdm_of(ctx) -> MdmListener:
    """The MDM hook of this server (operations use its models and matcher)."""
    for listener in ctx.store.listeners:
        if isinstance(listener, MdmListener) and listener.enabled:
            return listener
    raise NotFound("Identity matching is off on this server (PASSERELLE_MDM=off)", code="not-supported")
