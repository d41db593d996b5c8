"""The creator's access, kept with the subscription and applied to every match.

Choice: a Subscription notifies only about resources its creator could search at the
time they wrote it. Its grants (scopes, patient) are recorded in ``subscription_state``
with each client write, and the worker evaluates criteria and filters *as* that Access:
the search engine narrows the match exactly as it narrows the creator's own searches
(patient compartment, scope queries), so no payload (not even an id) ever leaves for a
resource out of their reach. Recording instead of restricting subscriptions to system
tokens keeps patient-facing apps possible. A token that is later revoked does not
revoke the subscription: turning it off (status ``off``) or deleting it does.
"""

from __future__ import annotations

import json

from ..authz.access import Access, Grant


def dumps(access: Access) -> str:
    return json.dumps({
        "internal": access.internal,
        "patient": access.patient,
        "client_id": access.client_id,
        "user": access.user,
        "grants": [[g.context, g.resource_type, "".join(sorted(g.permissions)), [list(q) for q in g.query]]
                   for g in access.grants],
    })


def loads(text: str) -> Access:
    data = json.loads(text)
    grants = tuple(Grant(context, rtype, frozenset(letters), tuple(tuple(q) for q in query))
                   for context, rtype, letters, query in data["grants"])
    return Access(grants, data["patient"], data["client_id"], data["user"], data["internal"])
