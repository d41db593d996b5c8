"""CDS Hooks 2.0 services over the alert rules of ``server.alerts``.

- ``registry``: the services (discovery is generated from it) and prefetch templates;
- ``request``: the service request, checked; ``services``: the handlers;
- ``cards``: findings -> cards; ``feedback``: card outcomes -> DetectedIssue.mitigation;
- ``auth``: the CDS client JWT; ``routes``: the HTTP endpoints (``router(ctx)``).

Mounted by ``interfaces.app.create_app``.
"""

from .routes import router

__all__ = ["router"]
