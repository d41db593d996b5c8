"""The store listener that reads allergies and medications out of stored notes.

While a unit of work writes a note — a DocumentReference that carries a ``text/plain``
attachment (inline ``data``; the HL7 MDM^T02 mapping makes such documents), or an
Observation with a narrative ``valueString`` (HL7 ORU TX/FT results) — the listener
notes it; once the transaction is committed it reads the current version of each, runs
the notes pipeline (``mappers.notes``) and stores what it found through a transaction
Bundle, in a unit of work of its own:

- AllergyIntolerance and MedicationStatement, unconfirmed, created conditionally on an
  identifier made of the document, the character span and the concept, plus one
  Provenance each (source document version and span);
- a version already read (a Provenance points at it) is skipped, and a new
  version that says the same thing finds its resources there already (its Provenance
  moves to the new version): saving or replaying a note twice duplicates nothing. What
  an older version said stays, with its Provenance history.

A note without a patient (``subject``) is not read: what it says belongs to no one.
This is system work, run with internal access. A failure is logged (ids only) and never
undoes the write that triggered it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import weakref
from datetime import UTC, datetime

from mappers import notes
from mappers.notes import language as languages

from ..authz.access import INTERNAL, acting_as
from ..bundles.processor import process_bundle
from ..context import AppContext
from ..errors import FhirError
from ..search.service import find_ids
from ..storage.repository import format_instant
from ..validation import known_resource_types

log = logging.getLogger("passerelle.notes")
NOTE_TYPES = ("DocumentReference", "Observation")
MIN_OBSERVATION_TEXT = 20  # characters: "Negative" or "A Rh+" are results, not notes


def note_texts(resource: dict) -> list[tuple[str, str]]:
    """(text, language) of each note a resource carries: the inline text/plain attachments
    of a DocumentReference, the narrative valueString of an Observation."""
    if resource.get("resourceType") == "Observation":
        text = resource.get("valueString")
        if not isinstance(text, str) or len(text.strip()) < MIN_OBSERVATION_TEXT:
            return []
        return [(text, languages.normalise(resource.get("language")) or languages.guess(text))]
    document, found = resource, []
    for content in document.get("content") or ():
        attachment = (content or {}).get("attachment") or {}
        kind = str(attachment.get("contentType") or "").lower()
        if not kind.startswith("text/plain") or not isinstance(attachment.get("data"), str):
            continue
        charset = kind.partition("charset=")[2].split(";")[0].strip() or "utf-8"
        try:
            text = base64.b64decode(attachment["data"], validate=True).decode(charset)
        except (binascii.Error, ValueError, LookupError):
            continue  # not base64 or not that charset: nothing we can read
        language = (languages.normalise(attachment.get("language")) or languages.normalise(document.get("language"))
                    or languages.guess(text))
        found.append((text, language))
    return found


class NoteExtraction:
    def __init__(self, settings):
        self.settings = settings
        self._pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # -- StoreListener -------------------------------------------------------------------

    def begin(self, uow, *, write: bool) -> None:
        pass

    def writing(self, uow, resource_type: str, fhir_id: str, resource: dict | None) -> None:
        if not self.settings.nlp_notes or resource_type not in NOTE_TYPES or resource is None:
            return
        if not note_texts(resource):
            return
        notes_written = self._pending.get(uow)
        if notes_written is None:
            notes_written = self._pending[uow] = set()
            store = uow.store
            uow.after_commit.append(lambda: self._read_all(store, notes_written))
        notes_written.add((resource_type, fhir_id))

    # -- after commit --------------------------------------------------------------------

    def _read_all(self, store, notes_written: set[tuple[str, str]]) -> None:
        with acting_as(INTERNAL):
            for resource_type, fhir_id in sorted(notes_written):
                try:
                    self.read_note(store, resource_type, fhir_id)
                except Exception as problem:  # noqa: BLE001 - the note is committed; say so and go on
                    log.error("note extraction failed for %s/%s: %s", resource_type, fhir_id, type(problem).__name__)

    def read_note(self, store, resource_type: str, fhir_id: str) -> int:
        """Extract from the current version of a note; the number of resources written."""
        with store.read() as uow:
            try:
                stored = uow.read(resource_type, fhir_id)
            except FhirError:
                return 0  # deleted since: nothing to read
            source = f"{resource_type}/{fhir_id}/_history/{stored.version_id}"
            if find_ids(uow, "Provenance", [("entity", source)], limit=1):
                return 0  # this version was read already
        document = stored.resource()
        subject = ((document.get("subject") or {}).get("reference"))
        texts = note_texts(document)
        if not subject or not texts:
            return 0
        text, language = texts[0]
        found = notes.extract(text, language)
        if not (found.allergies or found.medications):
            return 0
        recorded = format_instant(datetime.now(UTC).replace(tzinfo=None))
        bundle = notes.to_bundle(found, notes.Source(recorded, document=source, subject=subject))
        ctx = AppContext(self.settings, store, store.registry, known_resource_types())
        process_bundle(ctx, bundle, {"return": "minimal"}, self.settings.base_url)
        log.info("%s/%s: %d allergies, %d medications extracted", resource_type, fhir_id,
                 len(found.allergies), len(found.medications))
        return len(found.allergies) + len(found.medications)


def warm_note_pipelines() -> None:
    """Build every language's pipeline (seconds each): a server does it at start-up, in the background."""
    for language in notes.LANGUAGES:
        notes.warm(language)
