"""SQL implementation of the registry store, on the tracking store's engine and audit log."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, tuple_, update
from sqlalchemy import exc as sa_exc

from steward.core import RunStatus
from steward.core.lifecycle import ModelState, check_transition
from steward.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from steward.registry._ports import NewVersion
from steward.registry._refs import parse_ref
from steward.registry._types import (
    Approval,
    ModelPage,
    ModelVersion,
    RegisteredModel,
    VersionFile,
    VersionPage,
)
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._paging import decode_token, encode_token
from ._store import SqlStore
from ._tables import runs
from ._tables_deployments import deployments
from ._tables_registry import (
    model_aliases,
    model_approvals,
    model_version_files,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_model_tombstones,
    registered_models,
)

__all__ = ["SqlRegistryStore"]


class SqlRegistryStore:
    """Registered models, versions, aliases and approvals in the metadata database.

    Args:
        store: the tracking store whose engine (and transactions) this store shares.
    """

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    @staticmethod
    def _audit(conn: Connection, event: AuditEvent) -> None:
        append_audit(conn, event)

    def record(self, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._audit(conn, audit)

    # -- models ------------------------------------------------------------------------

    def create_model(
        self, name: str, description: str, owner: str, tags: Mapping[str, str], now: int, audit: AuditEvent,
        project: str | None = None,
    ) -> RegisteredModel:
        try:
            with self._store.write() as conn:
                if conn.execute(select(registered_models.c.name).where(registered_models.c.name == name)).first():
                    raise AlreadyExistsError(f"model {name!r} already exists", field="name")
                self._insert_model(conn, name, description, owner, tags, now, project or name)
                self._audit(conn, audit)
        except sa_exc.IntegrityError as exc:
            raise AlreadyExistsError(f"model {name!r} already exists", field="name") from exc
        return self.get_model(name)

    @staticmethod
    def _insert_model(
        conn: Connection, name: str, description: str, owner: str, tags: Mapping[str, str], now: int, project: str
    ) -> None:
        # a name used before counts on from its deleted model's last version: gates,
        # evaluations and audit rows of name:1 must never describe a different model
        used = conn.execute(
            select(registered_model_tombstones.c.latest_version).where(registered_model_tombstones.c.name == name)
        ).scalar()
        conn.execute(
            insert(registered_models).values(
                name=name, description=description, owner=owner, created_at=now, updated_at=now,
                latest_version=int(used or 0), project=project,
            )
        )
        if tags:
            conn.execute(insert(registered_model_tags), [{"name": name, "key": k, "value": v} for k, v in tags.items()])

    def _models_from_rows(self, conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:  # Any: Row
        names = [r.name for r in rows]
        if not names:
            return []
        tags: dict[str, dict[str, str]] = {n: {} for n in names}
        aliases: dict[str, dict[str, int]] = {n: {} for n in names}
        for n, k, v in conn.execute(
            select(registered_model_tags.c.name, registered_model_tags.c.key, registered_model_tags.c.value).where(
                registered_model_tags.c.name.in_(names)
            )
        ):
            tags[n][k] = v
        for n, a, v in conn.execute(
            select(model_aliases.c.name, model_aliases.c.alias, model_aliases.c.version).where(model_aliases.c.name.in_(names))
        ):
            aliases[n][a] = v
        return [
            RegisteredModel(
                r.name, r.description, r.owner, r.created_at, r.updated_at, r.latest_version, tags[r.name], aliases[r.name],
                r.project,
            )
            for r in rows
        ]

    def get_model(self, name: str) -> RegisteredModel:
        with self._store.read() as conn:
            row = conn.execute(select(registered_models).where(registered_models.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"model {name[:64]!r} not found", field="name")
            return self._models_from_rows(conn, [row])[0]

    def list_models(
        self, name_prefix: str | None, max_results: int, page_token: str | None, projects: Collection[str] | None = None
    ) -> ModelPage:
        offset = decode_token(page_token)
        query = select(registered_models).order_by(registered_models.c.name)
        if projects is not None:
            query = query.where(registered_models.c.project.in_(sorted(projects)))
        if name_prefix:
            query = query.where(registered_models.c.name.startswith(name_prefix, autoescape=True))
        with self._store.read() as conn:
            rows = conn.execute(query.limit(max_results + 1).offset(offset)).all()
            found = self._models_from_rows(conn, rows[:max_results])
        return ModelPage(found, encode_token(offset + max_results) if len(rows) > max_results else None)

    def update_model(self, name: str, description: str, now: int, audit: AuditEvent) -> RegisteredModel:
        with self._store.write() as conn:
            result = conn.execute(
                update(registered_models).where(registered_models.c.name == name).values(description=description, updated_at=now)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"model {name[:64]!r} not found", field="name")
            self._audit(conn, audit)
        return self.get_model(name)

    def set_model_tag(self, name: str, key: str, value: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._require_model(conn, name)
            stmt = self._store._upsert(registered_model_tags).values(name=name, key=key, value=value)
            conn.execute(stmt.on_conflict_do_update(index_elements=["name", "key"], set_={"value": value}))
            self._audit(conn, audit)

    def delete_model_tag(self, name: str, key: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._require_model(conn, name)
            result = conn.execute(
                delete(registered_model_tags).where(registered_model_tags.c.name == name, registered_model_tags.c.key == key)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"tag {key[:100]!r} not found on model {name}", field="key")
            self._audit(conn, audit)

    @staticmethod
    def _require_model(conn: Connection, name: str) -> None:
        if conn.execute(select(registered_models.c.name).where(registered_models.c.name == name)).first() is None:
            raise NotFoundError(f"model {name[:64]!r} not found", field="name")

    # -- versions ----------------------------------------------------------------------

    def create_version(self, new: NewVersion, *, create_model: bool, audit: AuditEvent) -> ModelVersion:
        with self._store.write() as conn:
            run = conn.execute(select(runs.c.status, runs.c.lifecycle_stage).where(runs.c.run_id == new.run_id)).first()
            # checked again inside the transaction: the run may have failed since the service looked
            if run is None:
                raise NotFoundError(f"run {new.run_id[:40]!r} not found", field="run_id")
            if run.status in (RunStatus.FAILED.value, RunStatus.KILLED.value) or run.lifecycle_stage != "active":
                state = run.status if run.lifecycle_stage == "active" else "deleted"
                raise ConflictError(f"run {new.run_id} is {state}; only running or finished runs can be registered", field="run_id")
            exists = conn.execute(select(registered_models.c.name).where(registered_models.c.name == new.name)).first()
            if exists is None:
                if not create_model:
                    raise NotFoundError(f"model {new.name!r} not found", field="name")
                self._insert_model(conn, new.name, "", new.created_by, {}, new.created_at, new.project or new.name)
            # the UPDATE takes the model's row lock, so concurrent registrations get 1, 2, 3...
            number = conn.execute(
                update(registered_models)
                .where(registered_models.c.name == new.name)
                .values(latest_version=registered_models.c.latest_version + 1, updated_at=new.created_at)
                .returning(registered_models.c.latest_version)
            ).scalar_one()
            conn.execute(
                insert(model_versions).values(
                    name=new.name,
                    version=number,
                    run_id=new.run_id,
                    artifact_path=new.artifact_path,
                    state=ModelState.CANDIDATE.value,
                    flavor=new.flavor,
                    description=new.description,
                    signature=new.signature,
                    requirements=new.requirements,
                    datasets=new.datasets,
                    metrics=new.metrics,
                    created_by=new.created_by,
                    created_at=new.created_at,
                    updated_at=new.created_at,
                    logged_model_id=new.logged_model_id or None,
                )
            )
            if new.files:
                conn.execute(
                    insert(model_version_files),
                    [{"name": new.name, "version": number, "path": f.path, "digest": f.digest, "size": f.size} for f in new.files],
                )
            self._audit(
                conn,
                AuditEvent(audit.actor, audit.action, f"models:/{new.name}/{number}", audit.timestamp, audit.details),
            )
        return self.get_version(new.name, int(number))

    def _versions_from_rows(self, conn: Connection, rows: Sequence[Any]) -> list[ModelVersion]:  # Any: Row
        keys = [(r.name, r.version) for r in rows]
        if not keys:
            return []
        tags: dict[tuple[str, int], dict[str, str]] = {k: {} for k in keys}
        aliases: dict[tuple[str, int], list[str]] = {k: [] for k in keys}
        approvals: dict[tuple[str, int], list[Approval]] = {k: [] for k in keys}
        for chunk in _chunks(keys, 400):
            t = model_version_tags.c
            for n, v, k, val in conn.execute(select(t.name, t.version, t.key, t.value).where(tuple_(t.name, t.version).in_(chunk))):
                tags[(n, v)][k] = val
            a = model_aliases.c
            for n, v, alias in conn.execute(
                select(a.name, a.version, a.alias).where(tuple_(a.name, a.version).in_(chunk)).order_by(a.alias)
            ):
                aliases[(n, v)].append(alias)
            p = model_approvals.c
            for r in conn.execute(select(model_approvals).where(tuple_(p.name, p.version).in_(chunk)).order_by(p.approval_id)):
                approvals[(r.name, r.version)].append(Approval(r.approver, r.comment, r.created_at))
        return [
            ModelVersion(
                r.name,
                r.version,
                r.run_id,
                r.artifact_path,
                ModelState(r.state),
                r.flavor,
                r.created_by,
                r.created_at,
                r.updated_at,
                r.description,
                dict(r.signature or {}),
                list(r.requirements or []),
                list(r.datasets or []),
                dict(r.metrics or {}),
                tags[(r.name, r.version)],
                aliases[(r.name, r.version)],
                approvals[(r.name, r.version)],
                r.logged_model_id or "",
            )
            for r in rows
        ]

    def _one_version(self, conn: Connection, name: str, version: int) -> ModelVersion:
        row = conn.execute(
            select(model_versions).where(model_versions.c.name == name, model_versions.c.version == version)
        ).first()
        if row is None:
            self._require_model(conn, name)
            raise NotFoundError(f"version {version} of model {name!r} not found", field="version")
        return self._versions_from_rows(conn, [row])[0]

    def get_version(self, name: str, version: int) -> ModelVersion:
        with self._store.read() as conn:
            return self._one_version(conn, name, version)

    def list_version_files(self, name: str, version: int) -> list[VersionFile]:
        f = model_version_files.c
        with self._store.read() as conn:
            rows = conn.execute(
                select(f.path, f.digest, f.size).where(f.name == name, f.version == version).order_by(f.path)
            ).all()
            if not rows:
                self._one_version(conn, name, version)  # NotFoundError for an unknown version
            return [VersionFile(r.path, r.digest, int(r.size)) for r in rows]

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with self._store.read() as conn:
            number = conn.execute(
                select(model_aliases.c.version).where(model_aliases.c.name == name, model_aliases.c.alias == alias)
            ).scalar()
            if number is None:
                self._require_model(conn, name)
                raise NotFoundError(f"model {name!r} has no alias {alias!r}", field="alias")
            return self._one_version(conn, name, int(number))

    def get_latest_version(self, name: str, state: ModelState | None = None) -> ModelVersion:
        query = select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
        if state is not None:
            query = query.where(model_versions.c.state == state.value)
        with self._store.read() as conn:
            number = conn.execute(query).scalar()
            if number is None:
                self._require_model(conn, name)
                where = f" in state {state.value}" if state is not None else ""
                raise NotFoundError(f"model {name!r} has no version{where}", field="version")
            return self._one_version(conn, name, int(number))

    def search_versions(
        self,
        *,
        name: str | None,
        name_prefix: str | None,
        state: ModelState | None,
        run_id: str | None,
        max_results: int,
        page_token: str | None,
        projects: Collection[str] | None = None,
    ) -> VersionPage:
        offset = decode_token(page_token)
        c = model_versions.c
        query = select(model_versions)
        if projects is not None:
            readable = select(registered_models.c.name).where(registered_models.c.project.in_(sorted(projects)))
            query = query.where(c.name.in_(readable))
        if name is not None:
            query = query.where(c.name == name)
        if name_prefix:
            query = query.where(c.name.startswith(name_prefix, autoescape=True))
        if state is not None:
            query = query.where(c.state == state.value)
        if run_id is not None:
            query = query.where(c.run_id == run_id)
        query = query.order_by(c.name, c.version.desc()).limit(max_results + 1).offset(offset)
        with self._store.read() as conn:
            rows = conn.execute(query).all()
            found = self._versions_from_rows(conn, rows[:max_results])
        return VersionPage(found, encode_token(offset + max_results) if len(rows) > max_results else None)

    # -- aliases, tags, states, approvals ----------------------------------------------

    def set_alias(self, name: str, alias: str, version: int, actor: str, now: int, audit: AuditEvent) -> ModelVersion:
        with self._store.write() as conn:
            self._one_version(conn, name, version)
            # one upsert: the alias row changes in place, so no reader sees two versions or none
            stmt = self._store._upsert(model_aliases).values(name=name, alias=alias, version=version, updated_by=actor, updated_at=now)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name", "alias"], set_={"version": version, "updated_by": actor, "updated_at": now}
                )
            )
            self._audit(conn, audit)
            return self._one_version(conn, name, version)

    def delete_alias(self, name: str, alias: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            result = conn.execute(delete(model_aliases).where(model_aliases.c.name == name, model_aliases.c.alias == alias))
            if result.rowcount == 0:
                self._require_model(conn, name)
                raise NotFoundError(f"model {name!r} has no alias {alias!r}", field="alias")
            self._audit(conn, audit)

    def set_version_tag(self, name: str, version: int, key: str, value: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._one_version(conn, name, version)
            stmt = self._store._upsert(model_version_tags).values(name=name, version=version, key=key, value=value)
            conn.execute(stmt.on_conflict_do_update(index_elements=["name", "version", "key"], set_={"value": value}))
            self._audit(conn, audit)

    def delete_version_tag(self, name: str, version: int, key: str, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._one_version(conn, name, version)
            t = model_version_tags.c
            result = conn.execute(delete(model_version_tags).where(t.name == name, t.version == version, t.key == key))
            if result.rowcount == 0:
                raise NotFoundError(f"tag {key[:100]!r} not found on {name}:{version}", field="key")
            self._audit(conn, audit)

    def update_version(self, name: str, version: int, description: str, now: int, audit: AuditEvent) -> ModelVersion:
        with self._store.write() as conn:
            self._lock_state(conn, name, version)
            conn.execute(
                update(model_versions)
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(description=description, updated_at=now)
            )
            self._audit(conn, audit)
            return self._one_version(conn, name, version)

    @staticmethod
    def _refuse_kept(conn: Connection, name: str, version: int | None) -> None:
        """Only never-approved versions may be deleted: the rest stay on record."""
        c = model_versions.c
        query = select(c.version, c.state).where(c.name == name, c.state != ModelState.CANDIDATE.value)
        if version is not None:
            query = query.where(c.version == version)
        kept = conn.execute(query.order_by(c.version).limit(1)).first()
        if kept is not None:
            raise ConflictError(
                f"{name}:{kept.version} is {kept.state}; only candidate versions can be deleted "
                "(a version that was approved stays on record: retire it instead)",
                field="version",
            )
        # a deployment may serve a candidate: its model must not vanish under it
        for deployment, variants in conn.execute(select(deployments.c.name, deployments.c.variants)):
            for variant in variants or []:
                try:
                    ref = parse_ref(str(variant.get("model", "")))
                except InvalidInputError:
                    continue
                if ref.name == name and (version is None or ref.version in (None, version)):
                    raise ConflictError(
                        f"deployment {deployment!r} serves {variant.get('model')}; change the deployment first",
                        field="version" if version is not None else "name",
                    )

    @staticmethod
    def _delete_version_rows(conn: Connection, name: str, version: int | None) -> None:
        for table in (model_version_files, model_version_tags, model_aliases, model_approvals, model_versions):
            query = delete(table).where(table.c.name == name)
            if version is not None:
                query = query.where(table.c.version == version)
            conn.execute(query)

    def delete_version(self, name: str, version: int, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            self._lock_state(conn, name, version)
            self._refuse_kept(conn, name, version)
            self._delete_version_rows(conn, name, version)
            self._audit(conn, audit)

    def delete_model(self, name: str, now: int, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            row = conn.execute(
                select(registered_models.c.latest_version).where(registered_models.c.name == name).with_for_update()
            ).first()
            if row is None:
                raise NotFoundError(f"model {name[:64]!r} not found", field="name")
            self._refuse_kept(conn, name, None)
            self._delete_version_rows(conn, name, None)
            conn.execute(delete(registered_model_tags).where(registered_model_tags.c.name == name))
            conn.execute(delete(registered_models).where(registered_models.c.name == name))
            stmt = self._store._upsert(registered_model_tombstones).values(
                name=name, latest_version=row.latest_version, deleted_at=now, deleted_by=audit.actor
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["name"],
                    set_={"latest_version": row.latest_version, "deleted_at": now, "deleted_by": audit.actor},
                )
            )
            self._audit(conn, audit)

    def _lock_state(self, conn: Connection, name: str, version: int) -> ModelState:
        row = conn.execute(
            select(model_versions.c.state)
            .where(model_versions.c.name == name, model_versions.c.version == version)
            .with_for_update()  # PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already serialises
        ).first()
        if row is None:
            self._require_model(conn, name)
            raise NotFoundError(f"version {version} of model {name!r} not found", field="version")
        return ModelState(row.state)

    def transition(self, name: str, version: int, target: ModelState, *, require_approval: bool, now: int, audit: AuditEvent) -> ModelVersion:
        with self._store.write() as conn:
            current = self._lock_state(conn, name, version)
            check_transition(current, target)
            if target is ModelState.PRODUCTION and require_approval:
                approved = conn.execute(
                    select(func.count())
                    .select_from(model_approvals)
                    .where(model_approvals.c.name == name, model_approvals.c.version == version)
                ).scalar_one()
                if not approved:
                    raise ConflictError(
                        f"{name}:{version} needs an approval before production (require_approval is on); "
                        f"run: steward models approve {name}:{version} --comment ...",
                        field="state",
                    )
            conn.execute(
                update(model_versions)
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(state=target.value, updated_at=now)
            )
            details = {**audit.details, "from": current.value, "to": target.value}
            self._audit(conn, AuditEvent(audit.actor, audit.action, audit.target, audit.timestamp, details))
            return self._one_version(conn, name, version)

    def add_approval(self, name: str, version: int, approver: str, comment: str, now: int, audit: AuditEvent) -> ModelVersion:
        with self._store.write() as conn:
            current = self._lock_state(conn, name, version)
            if current in (ModelState.RETIRED, ModelState.DEPRECATED):
                raise ConflictError(f"{name}:{version} is {current.value}; it cannot be approved", field="state")
            conn.execute(
                insert(model_approvals).values(name=name, version=version, approver=approver, comment=comment, created_at=now)
            )
            if current is ModelState.CANDIDATE:
                conn.execute(
                    update(model_versions)
                    .where(model_versions.c.name == name, model_versions.c.version == version)
                    .values(state=ModelState.APPROVED.value, updated_at=now)
                )
            details = {**audit.details, "from": current.value, "to": ModelState.APPROVED.value if current is ModelState.CANDIDATE else current.value}
            self._audit(conn, AuditEvent(audit.actor, audit.action, audit.target, audit.timestamp, details))
            return self._one_version(conn, name, version)


def _chunks(items: Sequence[tuple[str, int]], size: int) -> list[Sequence[tuple[str, int]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
