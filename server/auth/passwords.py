"""User passwords: Argon2id (argon2-cffi).

Argon2id won the Password Hashing Competition and is OWASP's first choice; argon2-cffi
is the maintained binding, with RFC 9106 parameters by default and ``check_needs_rehash``
so the cost can grow later without a migration.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the user is unknown, so that a wrong username costs as much as a wrong password.
_DUMMY = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
