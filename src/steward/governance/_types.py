"""Governance records as the rest of Steward sees them: no secret or hash ever inside."""

from __future__ import annotations

from dataclasses import dataclass, field

from steward.core.permissions import Role

__all__ = ["NewToken", "Principal", "RoleBinding", "Token", "User"]


@dataclass(frozen=True, slots=True)
class User:
    """A person or service account."""

    name: str
    email: str
    is_admin: bool
    disabled: bool
    created_at: int
    has_password: bool


@dataclass(frozen=True, slots=True)
class Token:
    """An API token's public description (its secret is never kept)."""

    token_id: str
    user_name: str
    label: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly created token: ``secret`` is shown to its owner once and then forgotten."""

    token: Token
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RoleBinding:
    """``user`` holds ``role`` on ``project`` (a name, or ``"*"`` for every project)."""

    user_name: str
    project: str
    role: Role
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: who, with which credential and which grants."""

    name: str
    is_admin: bool
    scopes: tuple[str, ...]
    bindings: tuple[tuple[str, Role], ...]
    token_id: str | None = None  # None: logged in with a password
