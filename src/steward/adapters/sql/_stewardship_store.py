"""SQL implementation of :class:`steward.stewardship._ports.StewardshipStore`."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import delete, insert, select

from steward.errors import AlreadyExistsError
from steward.stewardship._types import Drill, ModelSteward, Retirement
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._store import SqlStore
from ._tables_stewardship import deployment_drills, model_retirements, model_stewards

__all__ = ["SqlStewardshipStore"]


class SqlStewardshipStore:
    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def get_steward(self, name: str) -> ModelSteward | None:
        c = model_stewards.c
        with self._store.read() as conn:
            r = conn.execute(select(model_stewards).where(c.name == name)).first()
        return None if r is None else ModelSteward(str(r.name), str(r.owner), str(r.on_call), int(r.updated_at), str(r.updated_by))

    def set_steward(self, steward: ModelSteward, audit: AuditEvent) -> ModelSteward:
        with self._store.write() as conn:
            conn.execute(delete(model_stewards).where(model_stewards.c.name == steward.name))
            conn.execute(insert(model_stewards).values(
                name=steward.name, owner=steward.owner, on_call=steward.on_call,
                updated_at=steward.updated_at, updated_by=steward.updated_by,
            ))
            append_audit(conn, audit)
        return steward

    def add_retirement(self, retirement: Retirement, audit: AuditEvent) -> Retirement:
        c = model_retirements.c
        with self._store.write() as conn:
            found = conn.execute(select(c.name).where(c.name == retirement.name, c.version == retirement.version)).first()
            if found is not None:
                raise AlreadyExistsError(f"{retirement.name}:{retirement.version} is already retired", field="version")
            conn.execute(insert(model_retirements).values(**retirement.to_dict()))
            append_audit(conn, audit)
        return retirement

    def get_retirement(self, name: str, version: int) -> Retirement | None:
        c = model_retirements.c
        with self._store.read() as conn:
            r = conn.execute(select(model_retirements).where(c.name == name, c.version == version)).first()
        if r is None:
            return None
        row: dict[str, Any] = dict(r._mapping)  # Any: column values
        return Retirement(**row)

    def add_drill(self, drill: Drill, audit: AuditEvent) -> Drill:
        values = drill.to_dict()
        values.pop("id")
        with self._store.write() as conn:
            new_id = conn.execute(insert(deployment_drills).values(**values)).inserted_primary_key
            append_audit(conn, audit)
        assert new_id is not None
        return dataclasses.replace(drill, id=int(new_id[0]))

    def last_drill(self, deployment: str) -> Drill | None:
        c = deployment_drills.c
        with self._store.read() as conn:
            r = conn.execute(
                select(deployment_drills).where(c.deployment == deployment).order_by(c.started_at.desc(), c.id.desc()).limit(1)
            ).first()
        if r is None:
            return None
        row: dict[str, Any] = dict(r._mapping)  # Any: column values
        return Drill(**row)

    def record(self, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            append_audit(conn, audit)
