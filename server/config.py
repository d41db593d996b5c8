"""One settings object, read from ``PASSERELLE_*`` environment variables.

CLI flags override it (``passerelle serve --port 9000``); tests build their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace


def _env(name: str, default: str) -> str:
    return os.environ.get(f"PASSERELLE_{name.upper()}", default)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: _env("database_url", "sqlite:///var/passerelle.db"))
    base_url: str = field(default_factory=lambda: _env("base_url", "http://localhost:8080/fhir"))
    host: str = field(default_factory=lambda: _env("host", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("port", "8080")))
    workers: int = field(default_factory=lambda: int(_env("workers", "1")))
    max_body_bytes: int = field(default_factory=lambda: int(_env("max_body_bytes", str(16 * 1024 * 1024))))
    default_page_size: int = field(default_factory=lambda: int(_env("default_page_size", "20")))
    max_page_size: int = field(default_factory=lambda: int(_env("max_page_size", "1000")))
    max_bundle_entries: int = field(default_factory=lambda: int(_env("max_bundle_entries", "10000")))
    log_level: str = field(default_factory=lambda: _env("log_level", "info"))
    # Searches past this are stopped with a too-costly OperationOutcome (0: no limit).
    search_timeout_ms: int = field(default_factory=lambda: int(_env("search_timeout_ms", "10000")))
    # Searches taking this long or longer get one log line (types, parameter names, duration).
    slow_query_ms: int = field(default_factory=lambda: int(_env("slow_query_ms", "500")))
    # How stale a worker's view of SearchParameters may be for searches (writes always check).
    search_parameter_refresh_seconds: float = field(
        default_factory=lambda: float(_env("search_parameter_refresh_seconds", "1")))
    # Authorization server (server.auth): lifetimes of what it issues.
    auth_access_token_seconds: int = field(default_factory=lambda: int(_env("auth_access_token_seconds", "300")))
    auth_code_seconds: int = field(default_factory=lambda: int(_env("auth_code_seconds", "60")))
    auth_refresh_token_days: int = field(default_factory=lambda: int(_env("auth_refresh_token_days", "30")))
    # Enforcement (server.authz): "enabled" (default) or "disabled" (local development only).
    auth: str = field(default_factory=lambda: _env("auth", "enabled"))
    # Requests per minute allowed to one client (token client_id, else remote address); 0: no limit.
    rate_limit_per_minute: int = field(default_factory=lambda: int(_env("rate_limit_per_minute", "600")))
    # An external OpenID provider whose access tokens are accepted too (Keycloak, Azure AD...):
    # its issuer URL, and the audience its tokens must carry (default: base_url).
    oidc_issuer: str = field(default_factory=lambda: _env("oidc_issuer", ""))
    oidc_audience: str = field(default_factory=lambda: _env("oidc_audience", ""))
    # Scheduling (server.coordination): how long an Appointment/$hold keeps its slots.
    hold_seconds: int = field(default_factory=lambda: int(_env("hold_seconds", "300")))
    # Eligibility (server.coordination.payers): "Organization/<id>=https://payer/fhir,…" send
    # that insurer's requests to its FHIR endpoint; other insurers are answered from local data.
    payer_endpoints: str = field(default_factory=lambda: _env("payer_endpoints", ""))
    payer_timeout_seconds: float = field(default_factory=lambda: float(_env("payer_timeout_seconds", "10")))
    # Prior authorization (server.coordination.claims): the site's adjudication rules (JSON file).
    claim_rules: str = field(default_factory=lambda: _env("claim_rules", ""))
    # Remittance: a claim paid more than this many days after it was created is late.
    claim_payment_days: int = field(default_factory=lambda: int(_env("claim_payment_days", "30")))
    # HL7 v2 channel (interfaces.mllp, server.inbox). Port 0: no MLLP listener.
    mllp_host: str = field(default_factory=lambda: _env("mllp_host", "127.0.0.1"))
    mllp_port: int = field(default_factory=lambda: int(_env("mllp_port", "2575")))
    mllp_max_message_bytes: int = field(default_factory=lambda: int(_env("mllp_max_message_bytes", str(8 << 20))))
    mllp_idle_timeout_seconds: float = field(default_factory=lambda: float(_env("mllp_idle_timeout_seconds", "300")))
    mllp_max_connections: int = field(default_factory=lambda: int(_env("mllp_max_connections", "256")))
    mllp_tls_cert: str = field(default_factory=lambda: _env("mllp_tls_cert", ""))  # PEM; with key: TLS on
    mllp_tls_key: str = field(default_factory=lambda: _env("mllp_tls_key", ""))
    mllp_tls_client_ca: str = field(default_factory=lambda: _env("mllp_tls_client_ca", ""))  # set: client certs required
    inbox_workers: int = field(default_factory=lambda: int(_env("inbox_workers", "2")))  # threads per process
    inbox_lease_seconds: float = field(default_factory=lambda: float(_env("inbox_lease_seconds", "60")))
    # Original-mode ack (MSH-15/16 empty): "commit" = AA once stored durably; "application" = after mapping.
    mllp_original_ack: str = field(default_factory=lambda: _env("mllp_original_ack", "commit"))
    # v2-to-FHIR mapping (mappers.hl7v2.MappingConfig): a JSON file of the site's assigning authorities,
    # source system names, time zone and Z-segments ("" = built-in defaults; see docs/hl7v2-mapping.md).
    hl7_mapping: str = field(default_factory=lambda: _env("hl7_mapping", ""))
    # Alerts and CDS Hooks (server.alerts, interfaces.cdshooks): the knowledge directory ("" = bundled,
    # terminology/knowledge/data) and the JSON file of trusted CDS clients ("" = none; see docs/alerts.md).
    knowledge_dir: str = field(default_factory=lambda: _env("knowledge_dir", ""))
    cds_hooks_clients: str = field(default_factory=lambda: _env("cds_hooks_clients", ""))
    # Identity matching (server.mdm): "on" (every Patient/Practitioner written is matched, golden
    # records kept) or "off"; the rules JSON file ("" = bundled server/mdm/rules/default.json).
    mdm: str = field(default_factory=lambda: _env("mdm", "on"))
    mdm_rules: str = field(default_factory=lambda: _env("mdm_rules", ""))
    # Scanned forms (server.forms): OCR engine (tesseract | rapidocr), the confidence below which a
    # field goes to review ("" = the engine's calibrated default), a directory of the site's templates.
    ocr_engine: str = field(default_factory=lambda: _env("ocr_engine", "tesseract"))
    ocr_min_confidence: str = field(default_factory=lambda: _env("ocr_min_confidence", ""))
    form_templates_dir: str = field(default_factory=lambda: _env("form_templates_dir", ""))
    # Clinical notes (server.notes): read allergies and medications out of stored text documents ("off": don't).
    nlp_notes: bool = field(default_factory=lambda: _env("nlp_notes", "on").lower() not in ("off", "0", "false", "no"))
    # Subscriptions (server.subscriptions, interfaces.subscriptions): hosts notifications may go to
    # ("host" or "host:port", comma-separated; https only, except loopback hosts listed here), and the
    # delivery policy: attempts before the Subscription goes to error, backoff base and cap, HTTP timeout.
    subscription_hosts: str = field(default_factory=lambda: _env("subscription_hosts", ""))
    subscription_max_attempts: int = field(default_factory=lambda: int(_env("subscription_max_attempts", "8")))
    subscription_retry_seconds: float = field(default_factory=lambda: float(_env("subscription_retry_seconds", "2")))
    subscription_retry_cap_seconds: float = field(
        default_factory=lambda: float(_env("subscription_retry_cap_seconds", "600")))
    subscription_timeout_seconds: float = field(
        default_factory=lambda: float(_env("subscription_timeout_seconds", "10")))

    def with_overrides(self, **overrides) -> Settings:
        """Apply the CLI flags that were given (None means: not given)."""
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in overrides.items() if k in known and v is not None})
