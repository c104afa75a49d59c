"""Encrypted secrets in the metadata database (ciphertext only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc

from steward.errors import ConflictError, NotFoundError
from steward.governance._secrets import SecretInfo, SecretRecord
from steward.tracking._ports import AuditEvent

from ._audit import append_audit
from ._fast import Prepared
from ._store import SqlStore
from ._tables_secrets import secrets

__all__ = ["SqlSecretsStore"]

# one indexed aggregate over a small table; the secret guard asks it before every write of
# params or tags, so it is built once and run on the DB-API cursor (see _fast.py)
_FINGERPRINT = Prepared(
    select(func.count(), func.coalesce(func.sum(secrets.c.version), 0), func.coalesce(func.max(secrets.c.updated_at), 0))
)


def _info(row: Any) -> SecretInfo:  # Any: a SQLAlchemy row
    return SecretInfo(row.name, int(row.version), int(row.created_at), row.created_by, int(row.updated_at), row.updated_by)


class SqlSecretsStore:
    """Secrets beside the other metadata, sharing the tracking store's engine.

    Args:
        store: the metadata store.
    """

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def put_secret(self, name: str, ciphertext: bytes, key_id: str, actor: str, now: int, audit: AuditEvent) -> SecretInfo:
        try:
            return self._put(name, ciphertext, key_id, actor, now, audit)
        except sa_exc.IntegrityError as exc:
            # two first-time sets of one name at once on PostgreSQL: one wins
            raise ConflictError(f"secret {name} was set concurrently; retry", field="name") from exc

    def _put(self, name: str, ciphertext: bytes, key_id: str, actor: str, now: int, audit: AuditEvent) -> SecretInfo:
        with self._store.write() as conn:
            row = conn.execute(select(secrets.c.version).where(secrets.c.name == name)).first()
            values = {"ciphertext": ciphertext, "key_id": key_id, "updated_at": now, "updated_by": actor}
            if row is None:
                conn.execute(insert(secrets).values(name=name, version=1, created_at=now, created_by=actor, **values))
            else:
                conn.execute(update(secrets).where(secrets.c.name == name).values(version=int(row.version) + 1, **values))
            version = 1 if row is None else int(row.version) + 1
            append_audit(conn, AuditEvent(audit.actor, audit.action, audit.target, audit.timestamp, {**audit.details, "version": version}))
            stored = conn.execute(select(secrets).where(secrets.c.name == name)).one()
            return _info(stored)

    def get_secret(self, name: str) -> SecretRecord:
        with self._store.read() as conn:
            row = conn.execute(select(secrets).where(secrets.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"secret {name} not found", field="name")
        return SecretRecord(_info(row), bytes(row.ciphertext), row.key_id)

    def list_secrets(self) -> list[SecretInfo]:
        columns = [c for c in secrets.c if c.name != "ciphertext"]
        with self._store.read() as conn:
            return [_info(r) for r in conn.execute(select(*columns).order_by(secrets.c.name))]

    def delete_secret(self, name: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            if conn.execute(delete(secrets).where(secrets.c.name == name)).rowcount == 0:
                raise NotFoundError(f"secret {name} not found", field="name")
            append_audit(conn, audit)

    def record(self, audit: AuditEvent) -> int:
        with self._store.write() as conn:
            return append_audit(conn, audit)

    def secrets_fingerprint(self) -> tuple[int, int, int]:
        count, versions, latest = self._store.read_first(_FINGERPRINT)
        return int(count), int(versions), int(latest)
