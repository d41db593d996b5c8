"""ORU^R01: results (IG ORU_R01). Each OBR is a DiagnosticReport and the ServiceRequest
it fulfils; each OBX an Observation of that report; SPM a Specimen."""

from __future__ import annotations

from ..context import MapContext
from ..message import Message, Segment
from ..segments import nte, obx, order, spm
from .common import add_encounter, add_patient, following


def oru_r01(ctx: MapContext, message: Message) -> None:
    add_results(ctx, message, with_report=True)


def add_results(ctx: MapContext, message: Message, *, with_report: bool) -> None:
    """Walk PID / PV1 / ORC / OBR / OBX / SPM groups in order (one message may carry
    several patients, each followed by their orders)."""
    orc: Segment | None = None
    report: dict | None = None
    request_url: str | None = None
    key = ""
    for seg in message.segments:
        name = seg.name
        if name == "PID":
            add_patient(ctx, message, seg)
            ctx.encounter = None
        elif name == "PV1":
            add_encounter(ctx, message, "")
        elif name == "ORC":
            orc = seg
        elif name == "OBR":
            notes = nte.annotations(following(message, seg, ("NTE",)))
            key = f"{order.order_key(ctx, orc, seg)}|{seg.get(4, 1) or seg.get(4, 4)}"  # an order may hold several OBR
            request_url, _ = order.service_request(ctx, orc, seg, notes=notes if not with_report else (),
                                                   update=not with_report)
            if with_report:
                _, report = order.diagnostic_report(ctx, orc, seg, request_url, notes)
            orc = None
        elif name == "OBX":
            url = obx.observation(ctx, seg, notes=following(message, seg, ("NTE",)), order_key=key,
                                  based_on=request_url, category="laboratory" if report is not None else None)
            if url and report is not None and seg.get(2) not in ("ED", "RP"):
                results = report.setdefault("result", [])
                if {"reference": url} not in results:
                    results.append({"reference": url})
        elif name == "SPM":
            url = spm.specimen(ctx, seg, key)
            if url and report is not None:
                report.setdefault("specimen", []).append({"reference": url})
