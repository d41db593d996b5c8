"""``_text`` and ``_content``: every word of the value starts a word of the text.

Extraction stores the folded distinct words as ``" w1 w2 … "`` (``server.search.extract
.text``), so a word is ``LIKE '% word%'``: case- and accent-insensitive, at a word start
(``pres`` finds "pressure", ``ress`` does not). Words of one value AND together, comma
values OR. A LIKE with a leading wildcard scans the parameter's rows for the searched
types; acceptable for a feature used by people typing, not by integrations.
"""

from __future__ import annotations

from sqlalchemy import false

from server.search.extract.text import words
from server.search.parse import Criterion
from server.search.sql.common import Scope, all_of, any_of, has_row, index_alias, like_escape


def condition(crit: Criterion, scope: Scope):
    t = index_alias("token")
    preds = []
    for v in crit.values:
        found = words(v.text)
        if found:
            preds.append(all_of(*(t.c.text.like(f"% {like_escape(w)}%", escape="\\") for w in found)))
    if not preds:
        return false()  # only punctuation: no word to look for
    return has_row(t, scope, crit.code, any_of(preds))
