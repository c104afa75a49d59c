"""Governance API: /api/v1/users, /api/v1/tokens, /api/v1/roles and /api/v1/whoami.

Who may call what is decided by the permission table (``_auth.py``); the token routes
also pass the caller to the service, which keeps tokens of others to administrators.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from steward.governance import (
    GovernanceService,
    binding_to_dict,
    principal_to_dict,
    token_to_dict,
    user_to_dict,
)

from ._auth import principal_of
from ._deps import current_actor, services

router = APIRouter(prefix="/api/v1", tags=["governance"])
JSON = dict[str, Any]  # Any: JSON values
UserName = Annotated[str, Field(min_length=1, max_length=64)]
Project = Annotated[str, Field(min_length=1, max_length=250)]


def governance_service(request: Request) -> GovernanceService:
    return services(request).governance(current_actor(request))


Governance = Annotated[GovernanceService, Depends(governance_service)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_Body):
    name: UserName
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=8, max_length=1024)] | None = None
    is_admin: bool = False


class TokenCreate(_Body):
    user: UserName | None = Field(default=None, description="Whose token; default the caller.")
    label: Annotated[str, Field(max_length=100)] = ""
    scopes: Annotated[list[str], Field(min_length=1, max_length=3)] = Field(default_factory=lambda: ["read", "write"])
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = 90


class RoleGrant(_Body):
    user: UserName
    project: Project
    role: Annotated[str, Field(min_length=1, max_length=20)]


@router.get("/whoami", summary="The authenticated caller")
def whoami(request: Request) -> JSON:
    principal = principal_of(request)
    if principal is None:
        return {"name": current_actor(request), "authenticated": False}
    return {**principal_to_dict(principal), "authenticated": True}


@router.post("/users", status_code=201, summary="Create a user")
def create_user(body: UserCreate, svc: Governance) -> JSON:
    return user_to_dict(svc.create_user(body.name, body.email, password=body.password, is_admin=body.is_admin))


@router.get("/users", summary="List users")
def list_users(svc: Governance) -> JSON:
    return {"users": [user_to_dict(u) for u in svc.list_users()]}


@router.get("/users/{name}", summary="Get a user")
def get_user(name: str, svc: Governance) -> JSON:
    return user_to_dict(svc.get_user(name))


@router.post("/users/{name}/disable", summary="Disable a user (their credentials stop working)")
def disable_user(name: str, svc: Governance) -> JSON:
    return user_to_dict(svc.disable_user(name))


@router.post("/tokens", status_code=201, summary="Create an API token (the secret is shown only here)")
def create_token(body: TokenCreate, request: Request, svc: Governance) -> JSON:
    caller = principal_of(request)
    user = body.user or svc.actor
    created = svc.create_token(
        user, label=body.label, scopes=body.scopes, expires_in_days=body.expires_in_days, caller=caller
    )
    return {"token": token_to_dict(created.token), "secret": created.secret}


@router.get("/tokens", summary="List tokens (the caller's; everybody's for administrators)")
def list_tokens(
    request: Request, svc: Governance, user: Annotated[str | None, Query(max_length=64)] = None
) -> JSON:
    caller = principal_of(request)
    if caller is not None and not caller.is_admin:
        user = caller.name  # others' tokens are not theirs to see
    return {"tokens": [token_to_dict(t) for t in svc.list_tokens(user)]}


@router.delete("/tokens/{token_id}", summary="Revoke a token")
def revoke_token(token_id: str, request: Request, svc: Governance) -> JSON:
    return token_to_dict(svc.revoke_token(token_id, caller=principal_of(request)))


@router.post("/roles", status_code=201, summary="Grant a role on a project ('*': every project)")
def grant_role(body: RoleGrant, svc: Governance) -> JSON:
    return binding_to_dict(svc.grant_role(body.user, body.project, body.role))


@router.get("/roles", summary="List role bindings")
def list_roles(svc: Governance, user: Annotated[str | None, Query(max_length=64)] = None) -> JSON:
    return {"roles": [binding_to_dict(b) for b in svc.list_roles(user)]}


@router.delete("/roles", summary="Revoke a role binding")
def revoke_role(
    svc: Governance,
    user: Annotated[str, Query(min_length=1, max_length=64)],
    project: Annotated[str, Query(min_length=1, max_length=250)],
    role: Annotated[str, Query(min_length=1, max_length=20)],
) -> JSON:
    svc.revoke_role(user, project, role)
    return {"revoked": {"user": user, "project": project, "role": role}}
