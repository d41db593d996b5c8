"""Site configuration of the v2 mapping: identifier systems, source names, Z-segments.

Loadable from a JSON file (``PASSERELLE_HL7_MAPPING``); what the file gives is added to
the built-in defaults, so a site lists only its own authorities::

    {
      "identifier_systems": {"HOSP": "urn:oid:1.2.250.1.999.1.1", "LAB": "https://lab.example/mrn"},
      "source_systems": {"EPIC": "https://hospital.example/fhir/source/epic"},
      "identifier_system_prefix": "urn:passerelle:v2:authority:",
      "visit_system": "urn:passerelle:v2:visit",
      "timezone": "Europe/Paris",
      "realm": "US",
      "z_segments": {"ZPI": [{"field": 2, "resource": "Patient", "url": "https://h.example/ext/vip",
                              "type": "string"}]}
    }
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from .datatypes.time import zone
from .errors import MappingError

# French national identifiers (ANS "Référentiel INS"), and the US SSN as the IG writes it.
DEFAULT_IDENTIFIER_SYSTEMS = {
    "INS-NIR": "urn:oid:1.2.250.1.213.1.4.8",
    "1.2.250.1.213.1.4.8": "urn:oid:1.2.250.1.213.1.4.8",
    "INS-NIA": "urn:oid:1.2.250.1.213.1.4.9",
    "1.2.250.1.213.1.4.9": "urn:oid:1.2.250.1.213.1.4.9",
    "INS-C": "urn:oid:1.2.250.1.213.1.4.2",
    "1.2.250.1.213.1.4.2": "urn:oid:1.2.250.1.213.1.4.2",
    "RPPS": "urn:oid:1.2.250.1.71.4.2.1",
    "ADELI": "urn:oid:1.2.250.1.71.4.2.1",
    "SSA": "http://hl7.org/fhir/sid/us-ssn",
    "CDC": "http://hl7.org/fhir/sid/cvx",
}
Z_TYPES = ("string", "code", "dateTime", "boolean", "integer", "CodeableConcept", "Identifier")
Z_RESOURCES = ("Patient", "Encounter", "ServiceRequest", "Observation", "Appointment", "Immunization",
               "DocumentReference")
REALMS = ("", "US")  # "US": PID-10 / PID-22 -> US Core race and ethnicity extensions
_OID = re.compile(r"[0-2](\.(0|[1-9]\d*))+\Z")


def uri_part(text: str) -> str:
    """A name as one URI segment: percent-encoded (``Sender Application`` -> ``Sender%20Application``)."""
    return quote(text.strip(), safe="-._~")


@dataclass(frozen=True)
class ZField:
    """One Z-segment field put into an extension of a resource the message produces."""
    segment: str
    field: int
    resource: str
    url: str
    type: str = "string"


@dataclass(frozen=True)
class MappingConfig:
    identifier_systems: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_IDENTIFIER_SYSTEMS))
    source_systems: dict[str, str] = field(default_factory=dict)
    identifier_system_prefix: str = "urn:passerelle:v2:authority:"
    visit_system: str = "urn:passerelle:v2:visit"
    timezone: str = "UTC"  # for v2 date-times written without an offset
    z_segments: tuple[ZField, ...] = ()
    # Realm-specific mappings the IG leaves to local implementations ("" = none): "US" maps
    # race (PID-10) and ethnic group (PID-22) to the US Core extensions.
    realm: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> MappingConfig:
        base = cls()
        try:
            zs = tuple(ZField(segment=seg, field=int(z["field"]), resource=z["resource"], url=z["url"],
                              type=z.get("type", "string"))
                       for seg, items in (data.get("z_segments") or {}).items() for z in items)
        except (KeyError, TypeError, ValueError) as exc:
            raise MappingError(f"mapping configuration: bad z_segments entry ({exc})") from exc
        tz = data.get("timezone", base.timezone)
        try:
            zone(tz)
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise MappingError(f"mapping configuration: unknown time zone {tz!r} (an IANA name, e.g. Europe/Paris)") from exc
        for z in zs:
            if not re.fullmatch(r"Z[A-Z0-9]{2}", z.segment) or z.type not in Z_TYPES or z.resource not in Z_RESOURCES:
                raise MappingError(f"mapping configuration: z_segments {z.segment}-{z.field}: segment must be "
                                   f"Z.., type one of {Z_TYPES}, resource one of {Z_RESOURCES}")
        realm = data.get("realm", base.realm) or ""
        if realm not in REALMS:
            raise MappingError(f"mapping configuration: realm {realm!r} is not one of {REALMS[1:]} (or empty)")
        return replace(
            base,
            realm=realm,
            identifier_systems={**base.identifier_systems, **(data.get("identifier_systems") or {})},
            source_systems=dict(data.get("source_systems") or {}),
            identifier_system_prefix=data.get("identifier_system_prefix", base.identifier_system_prefix),
            visit_system=data.get("visit_system", base.visit_system),
            timezone=tz,
            z_segments=zs)

    @classmethod
    def load(cls, path: str | Path) -> MappingConfig:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MappingError(f"mapping configuration {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise MappingError(f"mapping configuration {path}: a JSON object is expected")
        return cls.from_dict(data)

    @classmethod
    def from_setting(cls, path: str) -> MappingConfig:
        """``PASSERELLE_HL7_MAPPING``: the file it names, or the built-in defaults when empty."""
        return cls.load(path) if path else cls()

    def identifier_system(self, namespace: str, universal_id: str = "", universal_type: str = "") -> str | None:
        """An assigning authority (HD) as an identifier system: configured names first,
        then the universal id (ISO OID -> urn:oid:, URI as is), then the prefix + namespace."""
        systems = self.identifier_systems
        for key in (namespace, universal_id, f"{namespace}^{universal_id}^{universal_type}".rstrip("^")):
            if key and key in systems:
                return systems[key]
        if universal_id:
            if _OID.match(universal_id):
                return f"urn:oid:{universal_id}"
            if universal_type in ("URI", "URL") or ":" in universal_id:
                return universal_id
        if namespace:
            if _OID.match(namespace):
                return f"urn:oid:{namespace}"
            if namespace.startswith(("http://", "https://", "urn:")):
                return namespace
            return self.identifier_system_prefix + uri_part(namespace)
        return None

    def source_system(self, application: str, facility: str) -> str:
        """The URI naming the sending system, for Provenance and ``meta.source``."""
        for key in (f"{application}|{facility}", application):
            if key in self.source_systems:
                return self.source_systems[key]
        name = uri_part(application.split("^")[0]) or "unknown"
        fac = uri_part(facility.split("^")[0])
        return f"urn:passerelle:v2:source:{name}" + (f":{fac}" if fac else "")
