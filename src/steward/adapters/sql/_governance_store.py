"""SQL implementation of the governance store, on the tracking store's engine and audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc

from steward.core.permissions import ObjectKind, Role
from steward.errors import AlreadyExistsError, ConflictError, NotFoundError
from steward.governance._types import RoleBinding, Token, User
from steward.tracking import AuditEvent

from ._audit import append_audit
from ._projects import project_of
from ._store import SqlStore
from ._tables_governance import api_tokens, role_bindings, users

__all__ = ["SqlGovernanceStore"]

_USER_COLUMNS = (users.c.name, users.c.email, users.c.is_admin, users.c.disabled, users.c.created_at, users.c.password_hash)
_TOKEN_COLUMNS = (
    api_tokens.c.token_id, api_tokens.c.user_name, api_tokens.c.label, api_tokens.c.prefix, api_tokens.c.scopes,
    api_tokens.c.created_at, api_tokens.c.expires_at, api_tokens.c.last_used_at, api_tokens.c.revoked,
)


def _user(row: Any) -> User:  # Any: Row
    return User(row.name, row.email, bool(row.is_admin), bool(row.disabled), row.created_at, row.password_hash is not None)


def _token(row: Any) -> Token:  # Any: Row
    return Token(
        row.token_id, row.user_name, row.label, row.prefix, tuple(row.scopes), row.created_at,
        row.expires_at, row.last_used_at, bool(row.revoked),
    )


class SqlGovernanceStore:
    """Users, tokens and role bindings in the metadata database.

    Secret hashes are written here and compared in SQL; they never leave this module.

    Args:
        store: the tracking store whose engine (and transactions) this store shares.
    """

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    # -- users ---------------------------------------------------------------------------

    def create_user(self, user: User, password_hash: str | None, audit: AuditEvent, *, only_if_no_admin: bool = False) -> User:
        try:
            with self._store.write() as conn:
                if only_if_no_admin and conn.execute(select(func.count()).select_from(users).where(users.c.is_admin)).scalar_one():
                    raise ConflictError("an administrator exists already; bootstrap runs once", field="name")
                if conn.execute(select(users.c.name).where(users.c.name == user.name)).first():
                    raise AlreadyExistsError(f"user {user.name!r} already exists", field="name")
                conn.execute(
                    insert(users).values(
                        name=user.name, email=user.email, password_hash=password_hash, is_admin=user.is_admin,
                        disabled=user.disabled, created_at=user.created_at,
                    )
                )
                append_audit(conn, audit)
        except sa_exc.IntegrityError as exc:
            raise AlreadyExistsError(f"user {user.name!r} already exists", field="name") from exc
        return user

    def get_user(self, name: str) -> User:
        found = self.get_password_hash(name)
        if found is None:
            raise NotFoundError(f"user {name[:64]!r} not found", field="name")
        return found[0]

    def get_password_hash(self, name: str) -> tuple[User, str | None] | None:
        with self._store.read() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(users.c.name == name)).first()
        return None if row is None else (_user(row), row.password_hash)

    def list_users(self) -> list[User]:
        with self._store.read() as conn:
            return [_user(r) for r in conn.execute(select(*_USER_COLUMNS).order_by(users.c.name))]

    def set_user_disabled(self, name: str, disabled: bool, audit: AuditEvent) -> User:
        with self._store.write() as conn:
            if conn.execute(update(users).where(users.c.name == name).values(disabled=disabled)).rowcount == 0:
                raise NotFoundError(f"user {name[:64]!r} not found", field="name")
            append_audit(conn, audit)
        return self.get_user(name)

    # -- tokens --------------------------------------------------------------------------

    def create_token(self, token: Token, secret_hash: str, audit: AuditEvent) -> Token:
        with self._store.write() as conn:
            conn.execute(
                insert(api_tokens).values(
                    token_id=token.token_id, user_name=token.user_name, label=token.label, prefix=token.prefix,
                    secret_hash=secret_hash, scopes=list(token.scopes), created_at=token.created_at,
                    expires_at=token.expires_at, last_used_at=None, revoked=False,
                )
            )
            append_audit(conn, audit)
        return token

    def find_token(self, secret_hash: str) -> Token | None:
        with self._store.read() as conn:
            row = conn.execute(select(*_TOKEN_COLUMNS).where(api_tokens.c.secret_hash == secret_hash)).first()
        return None if row is None else _token(row)

    def get_token(self, token_id: str) -> Token:
        with self._store.read() as conn:
            row = conn.execute(select(*_TOKEN_COLUMNS).where(api_tokens.c.token_id == token_id)).first()
        if row is None:
            raise NotFoundError(f"token {token_id[:32]!r} not found", field="token_id")
        return _token(row)

    def list_tokens(self, user_name: str | None) -> list[Token]:
        query = select(*_TOKEN_COLUMNS).order_by(api_tokens.c.created_at, api_tokens.c.token_id)
        if user_name is not None:
            query = query.where(api_tokens.c.user_name == user_name)
        with self._store.read() as conn:
            return [_token(r) for r in conn.execute(query)]

    def revoke_token(self, token_id: str, audit: AuditEvent) -> Token:
        with self._store.write() as conn:
            if conn.execute(update(api_tokens).where(api_tokens.c.token_id == token_id).values(revoked=True)).rowcount == 0:
                raise NotFoundError(f"token {token_id[:32]!r} not found", field="token_id")
            append_audit(conn, audit)
        return self.get_token(token_id)

    def touch_token(self, token_id: str, now: int) -> None:
        # bookkeeping, not a change anyone made: not audited (it would flood the trail)
        with self._store.write() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.token_id == token_id).values(last_used_at=now))

    # -- roles ---------------------------------------------------------------------------

    def grant_role(self, binding: RoleBinding, audit: AuditEvent) -> RoleBinding:
        try:
            with self._store.write() as conn:
                exists = conn.execute(
                    select(role_bindings.c.user_name).where(
                        role_bindings.c.user_name == binding.user_name,
                        role_bindings.c.project == binding.project,
                        role_bindings.c.role == binding.role.value,
                    )
                ).first()
                if exists:
                    raise AlreadyExistsError(
                        f"{binding.user_name!r} already has role {binding.role.value} on {binding.project!r}", field="role"
                    )
                conn.execute(
                    insert(role_bindings).values(
                        user_name=binding.user_name, project=binding.project, role=binding.role.value,
                        created_by=binding.created_by, created_at=binding.created_at,
                    )
                )
                append_audit(conn, audit)
        except sa_exc.IntegrityError as exc:
            raise AlreadyExistsError("that role binding exists already", field="role") from exc
        return binding

    def revoke_role(self, user_name: str, project: str, role: Role, audit: AuditEvent) -> None:
        with self._store.write() as conn:
            result = conn.execute(
                delete(role_bindings).where(
                    role_bindings.c.user_name == user_name,
                    role_bindings.c.project == project,
                    role_bindings.c.role == role.value,
                )
            )
            if result.rowcount == 0:
                raise NotFoundError(f"{user_name[:64]!r} has no role {role.value} on {project[:64]!r}", field="role")
            append_audit(conn, audit)

    def list_roles(self, user_name: str | None) -> list[RoleBinding]:
        query = select(role_bindings).order_by(role_bindings.c.user_name, role_bindings.c.project, role_bindings.c.role)
        if user_name is not None:
            query = query.where(role_bindings.c.user_name == user_name)
        with self._store.read() as conn:
            return [RoleBinding(r.user_name, r.project, Role(r.role), r.created_by, r.created_at) for r in conn.execute(query)]

    # -- projects --------------------------------------------------------------------------

    def project_of(self, kind: ObjectKind, value: str) -> str | None:
        return project_of(self._store, kind, value)
