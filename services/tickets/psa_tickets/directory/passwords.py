"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106), of passwords in NFKC."""

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this keeps unknown emails as slow as wrong passwords.
_DUMMY = _hasher.hash("not a password anyone has")


def _normalised(password: str) -> str:
    """NFKC, one of NIST SP 800-63B's two: like NFD it makes "ä" one password whether a keyboard
    sends it composed or decomposed, and it also reads an IME's full-width "Ａ１" as "A1"."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_normalised(password))


def check_password(password_hash: str | None, password: str) -> bool:
    """A hash made before passwords were normalised (2026-11-28) still takes the password as then typed."""
    nfkc = _normalised(password)
    # an unknown email pays for the second check too: the answer's time never tells who exists
    return _verify(password_hash, nfkc) or (nfkc != password and _verify(password_hash, password))


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
