"""Hashing of the two kinds of credential: passwords (argon2id) and API tokens (sha256).

Passwords are low-entropy and guessable, so they get a slow, salted, memory-hard hash
(argon2id via argon2-cffi). Tokens are 256 random bits: nobody can guess one from its
hash, so a fast unsalted sha256 is enough, and it lets a presented token find its row
with one indexed lookup instead of verifying every stored hash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = ["TOKEN_PREFIX", "hash_password", "hash_token", "new_token_secret", "verify_password"]

TOKEN_PREFIX = "stw_"


@functools.cache
def _hasher() -> PasswordHasher:
    # imported on first use: argon2's cffi bindings cost every CLI command's start-up,
    # and only logins and password changes hash
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when a user has no password, so "no such user" costs the same time.

    Made on first use, not at import: an argon2 hash is deliberately slow, and every CLI
    command imports this module.
    """
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salt and parameters encoded in the string)."""
    return _hasher().hash(password)


def verify_password(password: str, encoded: str | None) -> bool:
    """True when ``password`` matches ``encoded``; False for no hash (after the same work)."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(encoded or _dummy_hash(), password) and encoded is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token_secret() -> str:
    """A new token: ``stw_`` and 43 url-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: sha256 hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a, b)
