"""Scanned form intake in two steps, so that nothing received is lost and OCR holds no lock.

1. ``receive``: in one write transaction, the original is stored as a Binary with a
   DocumentReference (identifier: the file's SHA-256, tag ``pending``). A file already
   received is found by that identifier instead: receiving it again changes nothing.
2. ``process`` (outside any transaction: OCR takes seconds a page): the mapper reads the
   pages and builds a transaction Bundle; it is run together with the DocumentReference's
   update (tag ``read``, docStatus final, links to what was read) in one transaction.
   A file that cannot be read keeps its DocumentReference, tagged ``failed`` with the
   reason in ``description``; receiving it again retries it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from functools import cache

from mappers import forms
from mappers.forms import FormError, Options, Source

from ..api import interactions
from ..bundles.processor import process_bundle
from ..context import AppContext
from ..errors import BadRequest, Unprocessable
from ..storage.repository import UnitOfWork, format_instant

log = logging.getLogger("passerelle.forms")

IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
TAGS = "urn:passerelle:form-intake"  # meta.tag system: pending | read | failed
SCANNED_FORM = {"text": "Scanned form"}


def file_identifier(sha256: str) -> str:
    return f"urn:sha256:{sha256}"


def _tag(code: str) -> dict:
    return {"tag": [{"system": TAGS, "code": code}]}


@dataclass
class IngestResult:
    document: str  # DocumentReference/<id>
    outcome: str  # "read" | "already-read" | "failed"
    pages: int = 0
    created: list[str] = field(default_factory=list)  # Type/id written by the transaction
    reviews: list[str] = field(default_factory=list)  # Task/<id> awaiting a reviewer
    error: str | None = None


@dataclass
class Received:
    document_id: str
    sha256: str
    received: str
    done: bool  # already read: nothing to do


class FormIntake:
    def __init__(self, ctx: AppContext, engine_name: str | None = None):
        settings = ctx.settings
        self.ctx = ctx
        self.templates = site_templates(settings.form_templates_dir)
        self.engine = forms.engine(engine_name or settings.ocr_engine)
        self.min_confidence = (float(settings.ocr_min_confidence) if settings.ocr_min_confidence
                               else self.engine.min_confidence)
        self._lock = threading.Lock()  # one OCR at a time per process: the engines use every core already

    # -- step 1 ----------------------------------------------------------------------------

    def receive(self, uow: UnitOfWork, data: bytes, *, filename: str | None = None) -> Received:
        """Store the original (or find it, same file hash). Raises BadRequest for a non-form file."""
        try:
            mime = forms.content_type(data)
        except FormError as problem:
            raise BadRequest(f"the file is {problem}", code="not-supported") from None
        sha256 = hashlib.sha256(data).hexdigest()
        matches = interactions.conditional_matches(
            uow, "DocumentReference", f"identifier={IDENTIFIER_SYSTEM}|{file_identifier(sha256)}")
        if matches:
            doc = uow.read("DocumentReference", matches[0][0]).resource()
            done = any(t.get("code") == "read" for t in doc.get("meta", {}).get("tag", []) if t.get("system") == TAGS)
            return Received(doc["id"], sha256, doc.get("date") or format_instant(uow.now), done)
        received = format_instant(uow.now)
        binary = interactions.create(uow, "Binary", {
            "resourceType": "Binary", "contentType": mime, "data": base64.b64encode(data).decode()}).stored
        attachment = {"contentType": mime, "url": f"Binary/{binary.id}", "size": len(data),
                      "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(), "creation": received}
        if filename:
            attachment["title"] = filename
        doc = interactions.create(uow, "DocumentReference", {
            "resourceType": "DocumentReference", "meta": _tag("pending"), "status": "current",
            "docStatus": "preliminary", "type": SCANNED_FORM, "date": received,
            "identifier": [{"system": IDENTIFIER_SYSTEM, "value": file_identifier(sha256)}],
            "content": [{"attachment": attachment}]}).stored
        return Received(doc.id, sha256, received, False)

    # -- step 2 ----------------------------------------------------------------------------

    def process(self, received: Received, data: bytes, base: str, *, template: str | None = None,
                options: Options = Options(), progress=None) -> IngestResult:
        """Read the pages and store what was read; a failure is recorded on the DocumentReference."""
        document = f"DocumentReference/{received.document_id}"
        if received.done:
            return IngestResult(document, "already-read")
        try:
            chosen = self.template(template)
            with self._lock:
                pages = forms.read_form(data, self.templates, self.engine, template=chosen, options=options,
                                        progress=progress)
        except FormError as problem:
            self._failed(received.document_id, str(problem))
            log.info("form %s not read: %s", document, problem)
            raise Unprocessable(f"{document}: the form could not be read: {problem}", code="processing") from None
        bundle = forms.form_bundle(pages, Source(received.sha256, received.received, document), self.min_confidence)
        bundle["entry"].append(self._document_update(received.document_id, bundle))
        answer = process_bundle(self.ctx, bundle, {"return": "minimal"}, base)
        created = [e["response"]["location"].split("/_history")[0] for e in answer.body["entry"]
                   if e["response"].get("location")]
        reviews = [c for c in created if c.startswith("Task/")]
        log.info("form %s read: %d page(s), %d resource(s), %d field(s) to review",
                 document, len(pages), len(created), len(reviews))
        return IngestResult(document, "read", len(pages), created, reviews)

    def ingest(self, data: bytes, *, filename: str | None = None, base: str | None = None,
               template: str | None = None, progress=None) -> IngestResult:
        """Both steps, each in its own transaction (CLI and file drop)."""
        with self.ctx.store.write() as uow:
            received = self.receive(uow, data, filename=filename)
        return self.process(received, data, base or self.ctx.settings.base_url, template=template, progress=progress)

    # -- helpers ---------------------------------------------------------------------------

    def template(self, template_id: str | None):
        """The template of this id (None: found from each page), or 400 naming the known ones."""
        if template_id is None:
            return None
        if template_id not in self.templates:
            raise BadRequest(f"unknown form template {template_id!r} (known: {', '.join(sorted(self.templates))})",
                             expression="template")
        return self.templates[template_id]

    def _document_update(self, document_id: str, bundle: dict) -> dict:
        with self.ctx.store.read() as uow:
            doc = uow.read("DocumentReference", document_id).resource()
        doc.pop("meta", None)
        doc.pop("description", None)
        doc.update({"meta": _tag("read"), "docStatus": "final"})
        responses = [e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
        patients = [e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
        if patients:
            doc["subject"] = {"reference": patients[0]}
        if responses:
            doc["context"] = {"related": [{"reference": r} for r in responses]}
        return {"resource": doc, "request": {"method": "PUT", "url": f"DocumentReference/{document_id}"}}

    def _failed(self, document_id: str, reason: str) -> None:
        with self.ctx.store.write() as uow:
            doc = uow.read("DocumentReference", document_id).resource()
            doc.pop("meta", None)
            doc.update({"meta": _tag("failed"), "description": f"Not read: {reason}"})
            interactions.update(uow, "DocumentReference", document_id, doc)


@cache
def site_templates(directory: str):
    """The shipped templates and the site's own (loaded once per directory)."""
    return forms.load_templates(directory or None)


_intakes: dict[tuple[int, str], tuple[AppContext, FormIntake]] = {}
_intakes_lock = threading.Lock()


def intake_for(ctx: AppContext, engine_name: str | None = None) -> FormIntake:
    """One FormIntake per context and engine (the engine and templates load once)."""
    key = (id(ctx), engine_name or ctx.settings.ocr_engine)
    with _intakes_lock:
        known = _intakes.get(key)
        if known is None or known[0] is not ctx:
            known = _intakes[key] = (ctx, FormIntake(ctx, engine_name))
    return known[1]
