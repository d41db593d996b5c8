"""Apply a directory extract to the store, writing only what changed since the last import.

Rows are applied in chunks, one transaction each, so memory stays bounded whatever the
extract's size and an interrupted import keeps what it committed (running it again
finishes the job: unchanged entries are skipped). Per entry:

- new key: the resource is created;
- known key, other content: the stored resource is updated (``deepdiff`` names the
  elements that changed, for the summary);
- known key, same content: nothing is written.

After the last chunk, the roles this extract no longer lists are ended (``active`` false,
``period.end`` set), never deleted. Each chunk that changed something records a Provenance
naming the extract and the resources it created or updated.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from deepdiff import DeepDiff
from sqlalchemy import and_, bindparam, insert, select, update

from mappers.directory import MAPPED_ELEMENTS, Activity, Entry, RowError

from ..errors import FhirError
from ..storage.repository import Store, format_instant
from .models import ENDED, DirectoryEntry

T = DirectoryEntry.__table__
ENDED_TYPES = ("PractitionerRole",)  # what a vanished entry ends; the others stay as they were
_IN_LIST = 900  # keys per IN (...) list: under every backend's bind-parameter limit
_MAX_ERRORS_KEPT = 1000


@dataclass
class ImportSummary:
    source: str
    import_id: str
    rows: int = 0
    created: Counter = field(default_factory=Counter)  # resource type -> count
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    ended: Counter = field(default_factory=Counter)
    changed_elements: Counter = field(default_factory=Counter)  # "PractitionerRole.organization" -> count
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def lines(self) -> list[str]:
        def counts(counter: Counter) -> str:
            return ", ".join(f"{n} {t}" for t, n in sorted(counter.items())) or "none"

        out = [f"{self.source} import {self.import_id}: {self.rows} rows, {self.error_count} skipped",
               f"  created:   {counts(self.created)}",
               f"  updated:   {counts(self.updated)}",
               f"  ended:     {counts(self.ended)}",
               f"  unchanged: {counts(self.unchanged)}"]
        if self.changed_elements:
            out.append("  changed elements: " + ", ".join(
                f"{path} ({n})" for path, n in self.changed_elements.most_common(10)))
        return out


class DirectoryImport:
    """One import of one extract (``source`` names the directory: "rpps", "nppes")."""

    def __init__(self, store: Store, source: str, *, chunk_rows: int = 500, today: date | None = None,
                 extract_name: str = ""):
        self.store = store
        self.source = source
        self.chunk_rows = chunk_rows
        self.today = (today or date.today()).isoformat()
        self.extract_name = extract_name or source
        self.summary = ImportSummary(source, str(uuid.uuid4()))

    def run(self, items: Iterable[Activity | RowError], *,
            on_error: Callable[[RowError], None] | None = None,
            on_rows: Callable[[int], None] | None = None) -> ImportSummary:
        """Apply every row, then end what vanished. ``on_error`` hears of each skipped row,
        ``on_rows`` of each committed chunk (for a progress bar)."""
        chunk: list[Activity] = []
        for item in items:
            if isinstance(item, RowError):
                self._skip(item, on_error)
                continue
            chunk.append(item)
            if len(chunk) >= self.chunk_rows:
                self._apply(chunk, on_error)
                on_rows and on_rows(len(chunk))
                chunk = []
        if chunk:
            self._apply(chunk, on_error)
            on_rows and on_rows(len(chunk))
        self._end_vanished()
        return self.summary

    # -- one chunk, one transaction ---------------------------------------------------------

    def _apply(self, rows: list[Activity], on_error) -> None:
        summary = self.summary
        with self.store.write() as uow:
            # The first row that names an entry gives its content; rows list dependencies first.
            entries: dict[str, tuple[Entry, int]] = {}
            for row in rows:
                for entry in row.entries:
                    entries.setdefault(entry.key, (entry, row.line))
            known = self._known(uow.conn, list(entries))
            refs = {key: f"{row.resource_type}/{row.fhir_id}" for key, row in known.items()}
            new_rows, changed_rows, seen = [], [], []
            written = {"CREATE": [], "UPDATE": []}
            failed_lines: set[int] = set()
            for key, (entry, line) in entries.items():
                if line in failed_lines:
                    continue
                row = known.get(key)
                if row is not None and row.import_id == summary.import_id:
                    continue  # an earlier chunk of this import wrote or saw it: the first row wins
                digest = entry.digest
                try:
                    if row is None:
                        stored = uow.create(_resolve(entry.resource, refs))
                        refs[key] = stored.reference
                        new_rows.append(dict(source=self.source, entry_key=key, resource_type=entry.resource_type,
                                             fhir_id=stored.id, digest=digest, import_id=summary.import_id))
                        summary.created[entry.resource_type] += 1
                        written["CREATE"].append(stored.reference)
                    elif row.digest != digest:
                        changed_rows.append(dict(k=key, d=digest))
                        if self._update(uow, entry, row.fhir_id, refs):
                            summary.updated[entry.resource_type] += 1
                            written["UPDATE"].append(refs[key])
                        else:  # other fields of the row changed, not this resource
                            summary.unchanged[entry.resource_type] += 1
                    else:
                        seen.append(key)
                        summary.unchanged[entry.resource_type] += 1
                except FhirError as exc:  # raised before anything of this entry was written
                    failed_lines.add(line)
                    self._skip(RowError(line, f"{entry.resource_type}: {exc.diagnostics}"), on_error)
            summary.rows += len(rows)
            self._record(uow.conn, new_rows, changed_rows, seen)
            for activity, targets in written.items():
                if targets:
                    uow.create(self._provenance(activity, targets, rows[0].line, rows[-1].line))

    def _update(self, uow, entry: Entry, fhir_id: str, refs: dict[str, str]) -> bool:
        """Rewrite the elements the directory maps; False (nothing written) when they are as stored."""
        mapped = MAPPED_ELEMENTS[entry.resource_type]
        stored = uow.read(entry.resource_type, fhir_id).resource()
        kept = {k: v for k, v in stored.items() if k not in mapped and k != "meta"}
        before = {k: v for k, v in stored.items() if k in mapped}
        after = _resolve(entry.resource, refs)
        changed = DeepDiff(before, {k: v for k, v in after.items() if k in mapped}, ignore_order=True).affected_root_keys
        if not changed:
            return False
        for element in changed:
            self.summary.changed_elements[f"{entry.resource_type}.{element}"] += 1
        uow.update({**kept, **after, "id": fhir_id}, fhir_id)
        return True

    def _known(self, conn, keys: list[str]) -> dict:
        known = {}
        for start in range(0, len(keys), _IN_LIST):
            part = keys[start:start + _IN_LIST]
            query = select(T.c.entry_key, T.c.resource_type, T.c.fhir_id, T.c.digest, T.c.import_id).where(
                T.c.source == self.source, T.c.entry_key.in_(part))
            known.update((row.entry_key, row) for row in conn.execute(query))
        return known

    def _record(self, conn, new_rows: list[dict], changed_rows: list[dict], seen: list[str]) -> None:
        import_id = self.summary.import_id
        if new_rows:
            conn.execute(insert(T), new_rows)
        if changed_rows:
            conn.execute(update(T).where(and_(T.c.source == self.source, T.c.entry_key == bindparam("k")))
                         .values(digest=bindparam("d"), import_id=import_id), changed_rows)
        for start in range(0, len(seen), _IN_LIST):
            conn.execute(update(T).where(T.c.source == self.source, T.c.entry_key.in_(seen[start:start + _IN_LIST]))
                         .values(import_id=import_id))

    # -- what vanished ------------------------------------------------------------------------

    def _end_vanished(self) -> None:
        """End the roles this import did not see (entries of an earlier import, not yet ended)."""
        query = select(T.c.entry_key, T.c.resource_type, T.c.fhir_id).where(
            T.c.source == self.source, T.c.resource_type.in_(ENDED_TYPES),
            T.c.import_id != self.summary.import_id, T.c.digest != ENDED)
        with self.store.read() as uow:
            vanished = uow.conn.execute(query).all()
        for start in range(0, len(vanished), self.chunk_rows):
            part = vanished[start:start + self.chunk_rows]
            with self.store.write() as uow:
                targets = []
                for row in part:
                    resource = uow.read(row.resource_type, row.fhir_id).resource()
                    resource["active"] = False
                    resource["period"] = {**resource.get("period", {}), "end": self.today}
                    stored, _ = uow.update(resource, row.fhir_id)
                    targets.append(stored.reference)
                    self.summary.ended[row.resource_type] += 1
                keys = [row.entry_key for row in part]
                uow.conn.execute(update(T).where(T.c.source == self.source, T.c.entry_key.in_(keys))
                                 .values(digest=ENDED))
                uow.create(self._provenance("UPDATE", targets, None, None, ended=True))

    # -- bookkeeping ----------------------------------------------------------------------------

    def _skip(self, error: RowError, on_error) -> None:
        self.summary.error_count += 1
        if len(self.summary.errors) < _MAX_ERRORS_KEPT:
            self.summary.errors.append(error)
        if on_error:
            on_error(error)

    def _provenance(self, activity: str, targets: list[str], first: int | None, last: int | None, *,
                    ended: bool = False) -> dict:
        what = (f"{self.extract_name}: roles no longer listed, ended" if ended
                else f"{self.extract_name}, lines {first}-{last}")
        return {
            "resourceType": "Provenance",
            "target": [{"reference": ref} for ref in targets],
            "recorded": format_instant(self.store.clock()),
            "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                     "code": activity}]},
            "reason": [{"text": f"{self.source} directory import {self.summary.import_id}"}],
            "agent": [{"type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "assembler"}]},
                "who": {"display": f"Passerelle directory import ({self.source})"}}],
            "entity": [{"role": "source", "what": {"display": what}}],
        }


def _resolve(value, refs: dict[str, str]):
    """The resource with every reference to a known entry key turned into Type/id."""
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and ref in refs:
            return {**value, "reference": refs[ref]}
        return {k: _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value
