"""Professional directory extracts -> FHIR Practitioner, PractitionerRole, Organization, Location.

Pure and streaming: a reader takes the lines of an extract and yields, per row, the
resources that row describes (``Activity``) or a ``RowError`` naming the line. Resources
that several rows share (a practitioner with several activity sites, a site with many
professionals) carry the same ``Entry.key`` so the importer can deduplicate and diff them.

- ``read_rpps``: the French "Annuaire Santé" extraction (PS_LibreAcces_Personne_activite).
- ``read_nppes``: the US NPPES monthly NPI file.
"""

from .nppes import read_nppes
from .records import Activity, Entry, RowError
from .rpps import read_rpps

READERS = {"rpps": read_rpps, "nppes": read_nppes}

# The elements the directory writes, per type. A re-import replaces these and keeps the
# others as stored (the identity links the server adds, what a coordinator added by hand).
MAPPED_ELEMENTS = {
    "Practitioner": frozenset({"identifier", "active", "name", "gender", "qualification"}),
    "Organization": frozenset({"identifier", "active", "type", "name", "alias", "telecom", "address"}),
    "Location": frozenset({"identifier", "status", "name", "telecom", "address", "managingOrganization"}),
    "PractitionerRole": frozenset({"active", "period", "practitioner", "organization", "location", "code",
                                   "specialty", "telecom"}),
}

__all__ = ["MAPPED_ELEMENTS", "READERS", "Activity", "Entry", "RowError", "read_nppes", "read_rpps"]
