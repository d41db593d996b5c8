"""Master patient index (MDM): match Patient and Practitioner records, keep golden identities.

Pure matching (``normalize``, ``features``, ``comparators``, ``model``, ``em``, ``blocking``)
is kept apart from the database (``index``), the write-time hook (``listener``) and the
golden-record bookkeeping (``golden``, ``review``).
"""
