"""JSON forms of governance records (REST responses, ``--json`` output); never a secret."""

from __future__ import annotations

from ._types import Principal, RoleBinding, Token, User

__all__ = ["binding_to_dict", "principal_to_dict", "token_to_dict", "user_to_dict"]


def user_to_dict(user: User) -> dict[str, object]:
    """A user as JSON (whether a password is set, never its hash)."""
    return {
        "name": user.name,
        "email": user.email,
        "is_admin": user.is_admin,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "has_password": user.has_password,
    }


def token_to_dict(token: Token) -> dict[str, object]:
    """A token's description as JSON (its prefix, never the secret or its hash)."""
    return {
        "token_id": token.token_id,
        "user": token.user_name,
        "label": token.label,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked": token.revoked,
    }


def binding_to_dict(binding: RoleBinding) -> dict[str, object]:
    """A role binding as JSON."""
    return {
        "user": binding.user_name,
        "project": binding.project,
        "role": binding.role.value,
        "created_by": binding.created_by,
        "created_at": binding.created_at,
    }


def principal_to_dict(principal: Principal) -> dict[str, object]:
    """The caller as JSON (``whoami``)."""
    return {
        "name": principal.name,
        "is_admin": principal.is_admin,
        "scopes": list(principal.scopes),
        "roles": [{"project": p, "role": r.value} for p, r in principal.bindings],
        "token_id": principal.token_id,
    }
