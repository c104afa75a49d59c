"""Governance use cases: users, tokens, role bindings, authentication and authorisation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from steward.core.names import check_name
from steward.core.permissions import (
    SCOPES,
    ObjectKind,
    Operation,
    Permission,
    Role,
    is_allowed,
    parse_role,
    parse_scopes,
    readable_projects,
)
from steward.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
)
from steward.tracking import AuditEvent, now_ms

from ._credentials import TOKEN_PREFIX, hash_password, hash_token, new_token_secret, verify_password
from ._ports import GovernanceStore
from ._types import NewToken, Principal, RoleBinding, Token, User

__all__ = ["GovernanceService"]

_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_DAY_MS = 86_400_000
# last-used times are bookkeeping: written at most once a minute per token, so that an
# authenticated request is not also a write transaction on the hot tracking paths
_TOUCH_EVERY_MS = 60_000
MIN_PASSWORD = 8


def check_user_name(name: str) -> str:
    """Validate a user name: letters, digits, ``._@-``, at most 64 characters."""
    if isinstance(name, str):
        check_name(name, "name", kind="user name")
    if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
        raise InvalidInputError(
            "a user name is 1-64 letters, digits or ._@- and starts with a letter or digit", field="name"
        )
    return name


def check_project(project: str) -> str:
    """Validate a project pattern: ``*`` or an experiment / model name (1-250 printable characters)."""
    if isinstance(project, str):
        check_name(project, "project", kind="project")
    if not isinstance(project, str) or not project or len(project) > 250 or not project.isprintable():
        raise InvalidInputError("a project is '*' or an experiment or model name of 1-250 characters", field="project")
    return project


def _iso(ms: int) -> str:
    """``2026-12-03T06:00:00Z`` (UTC, to the second)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GovernanceService:
    """Identity and access for one actor.

    Args:
        store: governance storage.
        actor: who is acting (recorded in the audit trail).
    """

    def __init__(self, store: GovernanceStore, actor: str, *, max_token_days: int | None = None) -> None:
        self.store = store
        self.actor = actor
        # longest token lifetime for anyone but administrators (None: no cap)
        self.max_token_days = max_token_days

    def _event(self, action: str, target: str, details: dict[str, object] | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, target, now_ms(), details or {})

    # -- users ------------------------------------------------------------------------

    def create_user(self, name: str, email: str, *, password: str | None = None, is_admin: bool = False) -> User:
        """Create a user.

        Raises:
            InvalidInputError: a bad name, e-mail or a password under 8 characters.
            AlreadyExistsError: the name is taken.
        """
        user = self._new_user(name, email, password, is_admin)
        return self.store.create_user(
            user,
            hash_password(password) if password else None,
            self._event("users.create", f"users:/{name}", {"email": email, "is_admin": is_admin, "password": bool(password)}),
        )

    @staticmethod
    def _new_user(name: str, email: str, password: str | None, is_admin: bool) -> User:
        check_user_name(name)
        if not isinstance(email, str) or not _EMAIL.match(email):
            raise InvalidInputError("e-mail must look like name@domain", field="email")
        if password is not None and len(password) < MIN_PASSWORD:
            raise InvalidInputError(f"a password has at least {MIN_PASSWORD} characters", field="password")
        return User(name, email, is_admin, False, now_ms(), password is not None)

    def bootstrap_admin(
        self, name: str, email: str, *, password: str | None = None, expires_in_days: int | None = 90
    ) -> NewToken:
        """Create the first global administrator and an admin token for them.

        Raises:
            ConflictError: an administrator exists already.
        """
        user = self._new_user(name, email, password, True)
        self.store.create_user(
            user,
            hash_password(password) if password else None,
            self._event("users.bootstrap", f"users:/{name}", {"email": email, "is_admin": True}),
            only_if_no_admin=True,
        )
        return self._issue_token(name, "bootstrap", SCOPES, expires_in_days)

    def get_user(self, name: str) -> User:
        return self.store.get_user(name)

    def list_users(self) -> list[User]:
        return self.store.list_users()

    def disable_user(self, name: str) -> User:
        """Disable a user: their tokens and password stop working at once."""
        if name == self.actor:
            raise ConflictError("you cannot disable yourself", field="name")
        return self.store.set_user_disabled(name, True, self._event("users.disable", f"users:/{name}"))

    # -- tokens -----------------------------------------------------------------------

    def create_token(
        self,
        user_name: str,
        *,
        label: str = "",
        scopes: tuple[str, ...] | list[str] = ("read", "write"),
        expires_in_days: int | None = 90,
        caller: Principal | None = None,
    ) -> NewToken:
        """Issue a token for ``user_name``; the secret is in the result, and nowhere else.

        Args:
            caller: the authenticated caller, when there is one: only administrators issue
                tokens for others, and nobody gets scopes their own credential lacks.
                Without a caller (the local CLI on the store) the token's owner counts.

        Raises:
            PermissionDeniedError: the caller may not issue this token: for another user,
                with wider scopes, never expiring or outliving ``max_token_days``.
            InvalidInputError: unknown scopes, a bad expiry or label.
        """
        clean = parse_scopes(scopes)
        if caller is not None:
            if user_name != caller.name and not (caller.is_admin and "admin" in caller.scopes):
                raise PermissionDeniedError("only administrators create tokens for other users", field="user")
            wider = [s for s in clean if s not in caller.scopes and "admin" not in caller.scopes]
            if wider:
                raise PermissionDeniedError(f"your credential lacks scope {wider[0]!r}", field="scopes")
        user = self.store.get_user(user_name)
        if user.disabled:
            raise ConflictError(f"user {user_name!r} is disabled", field="user")
        admin = (caller.is_admin and "admin" in caller.scopes) if caller is not None else user.is_admin
        self._check_lifetime(expires_in_days, admin)
        return self._issue_token(user_name, label, clean, expires_in_days)

    def _check_lifetime(self, expires_in_days: int | None, admin: bool) -> None:
        """A leaked token is only as dangerous as it is long-lived: cap all but administrators'."""
        cap = self.max_token_days
        if admin or cap is None:
            return
        if expires_in_days is None:
            raise PermissionDeniedError(
                f"only administrators create tokens that never expire; ask for at most {cap} days", field="expires_in_days"
            )
        if expires_in_days > cap:
            raise PermissionDeniedError(
                f"a token lasts at most {cap} days (STEWARD_MAX_TOKEN_DAYS) unless an administrator creates it",
                field="expires_in_days",
            )

    def _issue_token(self, user_name: str, label: str, scopes: tuple[str, ...], expires_in_days: int | None) -> NewToken:
        if not isinstance(label, str) or len(label) > 100 or not label.isprintable():
            raise InvalidInputError("a token label is at most 100 printable characters", field="label")
        if expires_in_days is not None and not (1 <= expires_in_days <= 3650):
            raise InvalidInputError("expires_in_days is between 1 and 3650 (or none)", field="expires_in_days")
        secret = new_token_secret()
        now = now_ms()
        token = Token(
            token_id=uuid.uuid4().hex[:16],
            user_name=user_name,
            label=label,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            scopes=scopes,
            created_at=now,
            expires_at=None if expires_in_days is None else now + expires_in_days * _DAY_MS,
            last_used_at=None,
            revoked=False,
        )
        stored = self.store.create_token(
            token,
            hash_token(secret),
            self._event(
                "tokens.create",
                f"tokens:/{token.token_id}",
                {"user": user_name, "scopes": list(scopes), "expires_at": token.expires_at},
            ),
        )
        return NewToken(stored, secret)

    def list_tokens(self, user_name: str | None = None) -> list[Token]:
        """Tokens of one user, or of everybody."""
        return self.store.list_tokens(user_name)

    def revoke_token(self, token_id: str, *, caller: Principal | None = None) -> Token:
        """Revoke a token at once.

        Raises:
            NotFoundError: no such token (also for another user's token, unless admin).
        """
        token = self.store.get_token(token_id)
        if caller is not None and token.user_name != caller.name and not caller.is_admin:
            raise PermissionDeniedError("only administrators revoke other users' tokens", field="token_id")
        return self.store.revoke_token(token_id, self._event("tokens.revoke", f"tokens:/{token_id}", {"user": token.user_name}))

    # -- roles --------------------------------------------------------------------------

    def grant_role(self, user_name: str, project: str, role: str | Role) -> RoleBinding:
        """Grant ``role`` on ``project`` (a name or ``*``) to a user."""
        parsed = role if isinstance(role, Role) else parse_role(role)
        check_project(project)
        self.store.get_user(user_name)
        binding = RoleBinding(user_name, project, parsed, self.actor, now_ms())
        return self.store.grant_role(
            binding, self._event("roles.grant", f"users:/{user_name}", {"project": project, "role": parsed.value})
        )

    def revoke_role(self, user_name: str, project: str, role: str | Role) -> None:
        """Take a role binding away."""
        parsed = role if isinstance(role, Role) else parse_role(role)
        self.store.revoke_role(
            user_name, check_project(project), parsed,
            self._event("roles.revoke", f"users:/{user_name}", {"project": project, "role": parsed.value}),
        )

    def list_roles(self, user_name: str | None = None) -> list[RoleBinding]:
        return self.store.list_roles(user_name)

    # -- authentication -----------------------------------------------------------------

    def authenticate_token(self, secret: str) -> Principal:
        """The caller a presented token identifies.

        Raises:
            AuthenticationError: an unknown, revoked or expired token, or a disabled user,
                saying which: only the holder of a token's secret learns that it was revoked
                or has expired, and an unknown token tells nobody anything.
        """
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            raise AuthenticationError(f"unknown token: Steward API tokens start with {TOKEN_PREFIX!r}")
        token = self.store.find_token(hash_token(secret))
        now = now_ms()
        if token is None:
            raise AuthenticationError("unknown token: this server never issued it (mistyped, or for another server)")
        if token.revoked:
            raise AuthenticationError(f"token {token.token_id} was revoked; create a new one (steward tokens create)")
        if token.expires_at is not None and token.expires_at <= now:
            raise AuthenticationError(
                f"token {token.token_id} expired at {_iso(token.expires_at)}; create a new one (steward tokens create)"
            )
        principal = self._principal(token.user_name, token.scopes, token.token_id)
        if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY_MS:
            self.store.touch_token(token.token_id, now)
        return principal

    def authenticate_password(self, name: str, password: str) -> Principal:
        """The caller a user name and password identify (HTTP basic).

        Raises:
            AuthenticationError: wrong name or password, or a disabled user.
        """
        found = self.store.get_password_hash(name) if _USER_NAME.fullmatch(name) else None
        encoded = found[1] if found else None
        if not verify_password(password, encoded) or found is None:
            raise AuthenticationError("wrong user name or password")
        return self._principal(name, SCOPES, None)

    def _principal(self, name: str, scopes: tuple[str, ...], token_id: str | None) -> Principal:
        # reached only with a valid credential: its holder may learn that the user is disabled
        found = self.store.get_password_hash(name)
        if found is None:
            raise AuthenticationError(f"user {name!r} no longer exists")
        if found[0].disabled:
            raise AuthenticationError(f"user {name!r} is disabled")
        bindings = tuple((b.project, b.role) for b in self.store.list_roles(name))
        return Principal(name, found[0].is_admin, tuple(scopes), bindings, token_id)

    # -- authorisation ------------------------------------------------------------------

    def project_of(self, kind: ObjectKind, value: str) -> str | None:
        """The project of an existing object (None: there is no such object)."""
        return self.store.project_of(kind, value)

    def authorize(
        self, principal: Principal, operation: Operation, checks: Iterable[tuple[Permission, str | None]] = ()
    ) -> None:
        """Allow the request or raise.

        Args:
            principal: the caller.
            operation: the matched operation.
            checks: ``(permission, project)`` for every object the request touches; a
                ``None`` project (the object does not exist) is checked against the
                caller's bindings on any project, so the handler answers 404 to a caller
                who could read it if it existed. No checks: the operation's permission on
                any project (account and listing operations).

        Raises:
            PermissionDeniedError: the caller lacks a permission, naming it and the project.
        """
        if operation.permission is Permission.PUBLIC:
            return
        wanted = list(checks) or [(operation.permission, None)]
        for permission, project in wanted:
            if not is_allowed(
                is_admin=principal.is_admin,
                scopes=principal.scopes,
                bindings=principal.bindings,
                permission=permission,
                project=project,
                global_only=operation.global_only,
            ):
                where = f" on project {project!r}" if project else ""
                raise PermissionDeniedError(f"{principal.name!r} lacks permission {permission.value}{where}")

    @staticmethod
    def readable_projects(principal: Principal, permission: Permission) -> frozenset[str] | None:
        """The projects whose objects a listing may show this caller (None: all)."""
        return readable_projects(
            is_admin=principal.is_admin, scopes=principal.scopes, bindings=principal.bindings, permission=permission
        )
