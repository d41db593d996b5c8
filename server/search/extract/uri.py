"""URI parameters -> UriIndex (http://hl7.org/fhir/R4/search.html#uri).

uri, url, canonical, oid, uuid (and strings) index as written: ``:below`` and
``:above`` are prefix matches the query side does on the stored text.
"""

from __future__ import annotations

from server.search.index_rows import UriIndex


def rows(code: str, ftype: str | None, value) -> list[UriIndex]:
    if isinstance(value, str) and value:
        return [UriIndex(code, value)]
    return []
