"""SMART on FHIR App Launch 2 authorization server (foundation of issue 4).

One module per endpoint (discovery, authorize, token, introspect, revoke), plus the
models, the server's signing keys, client authentication (private_key_jwt) and the
access-token verifier the scope enforcement builds on (``tokens.verify_access_token``).
JOSE work goes through joserfc, the JOSE library authlib itself now delegates to
(``authlib.jose`` is deprecated in authlib 1.9); PKCE and scope helpers come from authlib.
"""
