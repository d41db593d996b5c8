"""Enforcement of SMART scopes on every FHIR interaction (issue 4).

``access``: what one request may do (the token's grants, its patient), held in a context
variable for the request's duration. ``criteria``: the same rules as SQL, ANDed into
searches, includes, chains and ``_has`` so paging and totals stay right. ``guard``: the
checks the interactions, history and operations call. ``history``: which versions a
token sees. ``operations``: a patient's app running type-level changes in its own
compartment. ``middleware``: Bearer token -> Access, or 401. See docs/security.md.
"""
