"""Secrets: named values stored encrypted (AES-256-GCM under the master key).

Values go in through :meth:`SecretsService.set_secret` and come out only through
:meth:`SecretsService.resolve` (for injection into training commands and deployments).
Listings, audit entries and errors carry names, never values; every value this process
handles is added to its :class:`~steward.governance.Redactor` so logs mask it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from steward.core.names import check_name
from steward.errors import IntegrityError, InvalidInputError, StewardError
from steward.tracking import AuditEvent, now_ms

from ._master_key import MasterKey
from ._redaction import Redactor

__all__ = [
    "SecretInfo",
    "SecretRecord",
    "SecretsService",
    "SecretsStore",
    "StoredSecrets",
    "check_secret_name",
]

log = logging.getLogger("steward.secrets")

# usable as an environment variable name, which is how commands receive secrets
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAX_VALUE_BYTES = 64 * 1024
_NONCE = 12


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """What may be shown about a secret: everything but its value."""

    name: str
    version: int
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A stored secret: its public info and its ciphertext (nonce + AES-GCM output)."""

    info: SecretInfo
    ciphertext: bytes
    key_id: str


class SecretsStore(Protocol):
    """Storage of encrypted secrets; mutations write their audit event in the same transaction."""

    def put_secret(self, name: str, ciphertext: bytes, key_id: str, actor: str, now: int, audit: AuditEvent) -> SecretInfo: ...
    def get_secret(self, name: str) -> SecretRecord: ...
    def list_secrets(self) -> list[SecretInfo]: ...
    def delete_secret(self, name: str, audit: AuditEvent) -> None: ...
    def record(self, audit: AuditEvent) -> int: ...
    def secrets_fingerprint(self) -> tuple[int, int, int]:
        """(count, sum of versions, latest update): moves whenever a secret is set, changed or deleted."""
        ...


def check_secret_name(name: str) -> str:
    """Validate a secret name: a letter or ``_``, then letters, digits, ``_`` (at most 128).

    Raises:
        InvalidInputError: naming the rule, never echoing the input.
    """
    if isinstance(name, str):
        check_name(name, "name", kind="secret name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError(
            "a secret name is 1-128 letters, digits or _ and does not start with a digit", field="name"
        )
    return name


def _check_value(value: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidInputError("a secret value is a non-empty string", field="value")
    data = value.encode("utf-8")
    if len(data) > MAX_VALUE_BYTES:
        raise InvalidInputError(f"a secret value is at most {MAX_VALUE_BYTES} bytes", field="value")
    return data


class SecretsService:
    """Set, list, delete and resolve secrets, acting as ``actor``.

    Args:
        store: where ciphertexts live.
        key: the master key (see :func:`~steward.governance.load_master_key`).
        actor: who is acting (recorded in the audit trail).
        redactor: where values handled by this process are registered for log masking.
    """

    def __init__(self, store: SecretsStore, key: MasterKey, actor: str, redactor: Redactor | None = None) -> None:
        self.store = store
        self._key = key
        self._aead = AESGCM(key.key)
        self.actor = actor
        self.redactor = redactor or Redactor()

    def _event(self, action: str, name: str, details: dict[str, object] | None = None) -> AuditEvent:
        # the name only: values never reach the audit trail
        return AuditEvent(self.actor, action, f"secrets:/{name}", now_ms(), details or {})

    def set_secret(self, name: str, value: str) -> SecretInfo:
        """Store ``value`` under ``name``, replacing any earlier value (its version goes up).

        Raises:
            InvalidInputError: a bad name, an empty value or one over 64 KiB.
        """
        check_secret_name(name)
        data = _check_value(value)
        nonce = os.urandom(_NONCE)
        # the name is associated data: a ciphertext moved onto another name fails to decrypt
        ciphertext = nonce + self._aead.encrypt(nonce, data, name.encode("utf-8"))
        self.redactor.add(value)
        now = now_ms()
        return self.store.put_secret(
            name, ciphertext, self._key.key_id, self.actor, now, self._event("secrets.set", name, {"key_id": self._key.key_id})
        )

    def list_secrets(self) -> list[SecretInfo]:
        """Every secret's name and history, never a value."""
        return self.store.list_secrets()

    def get_secret_info(self, name: str) -> SecretInfo:
        """One secret's public info.

        Raises:
            NotFoundError: no secret of that name.
        """
        return self.store.get_secret(check_secret_name(name)).info

    def delete_secret(self, name: str) -> None:
        """Delete a secret.

        Raises:
            NotFoundError: no secret of that name.
        """
        self.store.delete_secret(check_secret_name(name), self._event("secrets.delete", name))

    def resolve(self, name: str) -> str:
        """The plaintext of a secret, for injection into a command or deployment (audited).

        Raises:
            NotFoundError: no secret of that name.
            IntegrityError: it was encrypted under another master key, or altered.
        """
        record = self.store.get_secret(check_secret_name(name))
        if record.key_id != self._key.key_id:
            raise IntegrityError(
                f"secret {name} was encrypted with master key {record.key_id}, not the configured {self._key.key_id}"
            )
        nonce, body = record.ciphertext[:_NONCE], record.ciphertext[_NONCE:]
        try:
            value = self._aead.decrypt(nonce, body, name.encode("utf-8")).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError) as exc:
            raise IntegrityError(f"secret {name} does not decrypt: its stored ciphertext was altered") from exc
        self.redactor.add(value)
        self.store.record(self._event("secrets.resolve", name))
        return value

    def resolve_env(self, names: Iterable[str]) -> dict[str, str]:
        """``{name: value}`` for several secrets, as a command's extra environment."""
        return {name: self.resolve(name) for name in names}

    def load_redactor(self) -> Redactor:
        """Register every stored value with the redactor; unreadable ones are skipped."""
        self.redactor.add(*_decrypt_all(self.store, self._key).values())
        return self.redactor


def _decrypt_all(store: SecretsStore, key: MasterKey) -> dict[str, str]:
    """``{name: plaintext}`` of every secret ``key`` decrypts (others are skipped)."""
    aead = AESGCM(key.key)
    values = {}
    for info in store.list_secrets():
        record = store.get_secret(info.name)
        if record.key_id != key.key_id:
            continue
        try:
            values[info.name] = aead.decrypt(
                record.ciphertext[:_NONCE], record.ciphertext[_NONCE:], info.name.encode("utf-8")
            ).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            continue
    return values


class StoredSecrets:
    """The stored secrets as a :class:`~steward.governance.SecretSource` of the redactor.

    The master key is asked for only when there are secrets to decrypt, so a process of a
    store without secrets never needs (or creates) one.

    Args:
        store: where the ciphertexts are.
        key: returns the master key, or None when none is configured.
    """

    def __init__(self, store: SecretsStore, key: Callable[[], MasterKey | None]) -> None:
        self.store = store
        self._key = key
        self._warned = False

    def fingerprint(self) -> tuple[int, int, int]:
        return self.store.secrets_fingerprint()

    def values(self) -> dict[str, str]:
        if not self.store.list_secrets():
            return {}
        try:
            key = self._key()
        except StewardError as exc:  # a malformed key: the values stay unknown, the work goes on
            key, reason = None, exc.message
        else:
            reason = "no master key is configured"
        if key is None:
            if not self._warned:
                self._warned = True
                log.warning("stored secrets are not masked in logs nor refused as params: %s", reason)
            return {}
        return _decrypt_all(self.store, key)
