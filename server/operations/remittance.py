"""PaymentReconciliation/$reconcile and Claim/$remittance-report.

$reconcile matches a stored remittance's payment details to Claims and answers a
Parameters resource, one ``detail`` per payment detail (its claim, the amount expected and
paid, the findings); anomalies become Tasks (``server.coordination.remittance``).
$remittance-report lists the claims open, paid, rejected and late.
"""

from __future__ import annotations

from ..api.outcome import Answer
from ..coordination.remittance import reconcile, report
from .registry import OperationCall, operation

DEFINITION = "http://passerelle.example/OperationDefinition/PaymentReconciliation-reconcile"


def _number(value):
    return int(value) if value == value.to_integral_value() else value


@operation("reconcile", definition=DEFINITION, levels=("instance",), resource_types=("PaymentReconciliation",),
           affects_state=True, documentation="Match each payment detail to its Claim; anomalies become Tasks")
def reconcile_payment(call: OperationCall) -> Answer:
    reconciliation = call.uow.read("PaymentReconciliation", call.fhir_id).resource()
    lines = reconcile(call.uow, reconciliation, call.ctx.settings.claim_payment_days)
    out = []
    for line in lines:
        parts = [{"name": "index", "valueInteger": line.index},
                 {"name": "paid", "valueDecimal": _number(line.paid)}]
        if line.claim:
            parts.append({"name": "claim", "valueReference": {"reference": line.claim}})
        if line.expected is not None:
            parts.append({"name": "expected", "valueDecimal": _number(line.expected)})
        parts += [{"name": "finding", "valueCode": f} for f in line.findings]
        out.append({"name": "detail", "part": parts})
    return Answer(200, body={"resourceType": "Parameters", "parameter": out})


@operation("remittance-report", definition="http://passerelle.example/OperationDefinition/Claim-remittance-report",
           levels=("type",), resource_types=("Claim",),
           documentation="Claims (use claim) that are open, paid, rejected or late")
def remittance_report(call: OperationCall) -> Answer:
    states = report(call.uow, call.ctx.settings.claim_payment_days)
    return Answer(200, body={"resourceType": "Parameters", "parameter": [
        {"name": state, "part": [{"name": "count", "valueInteger": len(refs)},
                                 *({"name": "claim", "valueReference": {"reference": r}} for r in refs)]}
        for state, refs in states.items()]})
