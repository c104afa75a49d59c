"""The master key that encrypts secrets: from settings, or a 0600 key file."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from steward._private_files import create_private_file, make_private_dirs
from steward.errors import InvalidInputError, StorageError
from steward.settings import Settings

__all__ = ["MasterKey", "find_master_key", "generate_master_key", "load_master_key"]

_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class MasterKey:
    """A 256-bit AES key and its public id (the first 16 hex of its SHA-256)."""

    key: bytes = field(repr=False)
    key_id: str


def generate_master_key() -> str:
    """A new random master key in its text form (url-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii")


def _parse(text: str, source: str) -> MasterKey:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != _KEY_BYTES:
        # never echo the value: it is the key
        raise InvalidInputError(
            f"the master key from {source} must be 32 bytes in url-safe base64 (make one with `steward secrets keygen`)",
            field="master_key",
        )
    return MasterKey(raw, hashlib.sha256(raw).hexdigest()[:16])


def _may_create(settings: Settings) -> bool:
    # only for the embedded SQLite store: a team server must be given its key, or
    # each replica would invent a different one
    return not settings.resolved_database_url().startswith("postgresql")


def load_master_key(settings: Settings) -> MasterKey:
    """The master key: ``STEWARD_MASTER_KEY``, else the key file (created 0600 on first
    use for the embedded store).

    Raises:
        InvalidInputError: a malformed key, or a key file others can read.
        StorageError: no key is configured and none may be created (PostgreSQL).
    """
    if settings.master_key is not None:
        return _parse(settings.master_key.get_secret_value(), "STEWARD_MASTER_KEY")
    path = settings.resolved_master_key_file()
    if not path.exists():
        if not _may_create(settings) and settings.master_key_file is None:
            raise StorageError("no master key for secrets: set STEWARD_MASTER_KEY or STEWARD_MASTER_KEY_FILE")
        _create(path)
    return _read(path)


def find_master_key(settings: Settings, *, create: bool = False) -> MasterKey | None:
    """The master key if one is configured, else None (for features that work without one).

    Args:
        create: create the key file where :func:`load_master_key` would (embedded SQLite
            store); otherwise a missing key file means None.

    Raises:
        InvalidInputError: a malformed key, or a key file others can read.
    """
    if not create and settings.master_key is None and not settings.resolved_master_key_file().exists():
        return None
    try:
        return load_master_key(settings)
    except StorageError:
        return None


def _create(path: Path) -> None:
    try:
        make_private_dirs(path.parent)
        # O_EXCL: of two processes starting at once, one writes the key and both read it
        fd = create_private_file(path)
    except FileExistsError:
        return
    except OSError as exc:
        raise StorageError(f"cannot create the master key file {path}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(generate_master_key() + "\n")


def _read(path: Path) -> MasterKey:
    # a process that lost the O_EXCL race may read before the winner has written: wait a little
    for _attempt in range(40):
        try:
            if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise InvalidInputError(
                    f"master key file {path} is accessible to other users; run: chmod 600 {path}", field="master_key_file"
                )
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(f"cannot read the master key file {path}") from exc
        if text.strip():
            return _parse(text, str(path))
        time.sleep(0.05)
    raise StorageError(f"master key file {path} is empty")
