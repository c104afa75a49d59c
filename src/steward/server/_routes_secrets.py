"""Secrets API: /api/v1/secrets. Names and history only: no route ever returns a value."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from steward.governance import SecretInfo, SecretsService

from ._deps import current_actor, services

JSON = dict[str, Any]  # Any: JSON values

_ERROR = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}},
                    }
                },
            }
        }
    }
}
_COMMON: dict[int | str, dict[str, Any]] = {  # Any: OpenAPI fragments
    401: {"description": "Authentication required", **_ERROR},
    403: {"description": "Permission denied", **_ERROR},
    422: {"description": "Invalid name or value", **_ERROR},
    429: {"description": "Too many failed authentications from this address", **_ERROR},
    503: {"description": "No master key configured, or the store is unavailable", **_ERROR},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No secret of that name", **_ERROR}}

router = APIRouter(prefix="/api/v1", tags=["secrets"], responses=_COMMON)

SecretName = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


def secrets_service(request: Request) -> SecretsService:
    return services(request).secrets(current_actor(request))


Secrets = Annotated[SecretsService, Depends(secrets_service)]


class SecretSet(BaseModel):
    """The value to store; it is encrypted at once and never returned."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    value: Annotated[str, Field(min_length=1, max_length=65_536)]


class SecretOut(BaseModel):
    name: str
    version: int
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str


class SecretList(BaseModel):
    secrets: list[SecretOut]


def _out(info: SecretInfo) -> JSON:
    return {
        "name": info.name,
        "version": info.version,
        "created_at": info.created_at,
        "created_by": info.created_by,
        "updated_at": info.updated_at,
        "updated_by": info.updated_by,
    }


@router.get("/secrets", summary="List secret names (never values)", response_model=SecretList)
def list_secrets(svc: Secrets) -> JSON:
    return {"secrets": [_out(s) for s in svc.list_secrets()]}


@router.put("/secrets/{name}", summary="Set a secret (encrypted at rest; the value is never returned)", response_model=SecretOut)
def set_secret(name: SecretName, body: SecretSet, svc: Secrets) -> JSON:
    return _out(svc.set_secret(name, body.value))


@router.get("/secrets/{name}", summary="One secret's name and history (never its value)", response_model=SecretOut, responses=_NOT_FOUND)
def get_secret(name: SecretName, svc: Secrets) -> JSON:
    return _out(svc.get_secret_info(name))


@router.delete("/secrets/{name}", status_code=204, summary="Delete a secret", responses=_NOT_FOUND)
def delete_secret(name: SecretName, svc: Secrets) -> Response:
    svc.delete_secret(name)
    return Response(status_code=204)
