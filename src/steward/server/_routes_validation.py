"""Validation REST routes: suites (versioned YAML) and validations of dataset versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from steward.data import ValidationService

from ._deps import Project, Readable, current_actor, services

router = APIRouter(prefix="/api/v1", tags=["validation"])


def validation_service(actor: str = Depends(current_actor), svc: Any = Depends(services)) -> ValidationService:  # Any: Services
    service: ValidationService = svc.validation(actor)
    return service


class SuiteCreate(BaseModel):
    """A suite document to store as the next version of its name."""

    yaml: str = Field(..., min_length=1, max_length=5_000_000, description="The suite YAML (see `steward check`).")
    project: Project | None = None


class ValidationCreate(BaseModel):
    """Validate a stored dataset version with a stored suite."""

    dataset: str = Field(..., min_length=1, max_length=1000, description="datasets:/name/3 or name:3")
    suite: str = Field(..., min_length=1, max_length=300, description="suite name (latest), name:3 or suites:/name/3")
    examples: int | None = Field(None, ge=0, le=1000, description="example values per failed check")


@router.post("/suites", status_code=201, summary="Store a suite (the next version; same text: same version)")
def create_suite(body: SuiteCreate, service: ValidationService = Depends(validation_service)) -> dict[str, object]:
    suite = service.create_suite(body.yaml, project=body.project)
    assert suite.ref is not None
    return service.get_suite_record(suite.ref).to_dict()


@router.get("/suites", summary="List stored suite versions")
def list_suites(
    readable: Readable,
    name: str | None = Query(None, max_length=100),
    service: ValidationService = Depends(validation_service),
) -> dict[str, object]:
    found = service.list_suites(name, projects=readable)
    return {"suites": [{k: v for k, v in r.to_dict().items() if k != "yaml"} for r in found]}


@router.get("/suites/{name}", summary="The latest version of a suite")
def get_suite(name: str, service: ValidationService = Depends(validation_service)) -> dict[str, object]:
    return service.get_suite_record(name).to_dict()


@router.put("/suites/{name}", summary="Store an edited suite as the next version of `name`")
def update_suite(name: str, body: SuiteCreate, service: ValidationService = Depends(validation_service)) -> dict[str, object]:
    from steward.data import parse_suite
    from steward.errors import InvalidInputError

    parsed = parse_suite(body.yaml)
    if parsed.name != name:
        raise InvalidInputError(f"the suite names itself {parsed.name!r}, not {name!r}", field="yaml")
    suite = service.create_suite(parsed, project=body.project)
    assert suite.ref is not None
    return service.get_suite_record(suite.ref).to_dict()


@router.get("/suites/{name}/versions/{version}", summary="One version of a suite")
def get_suite_version(name: str, version: int, service: ValidationService = Depends(validation_service)) -> dict[str, object]:
    return service.get_suite_record(f"{name}:{version}").to_dict()


@router.delete("/suites/{name}", status_code=204, summary="Delete every version of a suite")
def delete_suite(name: str, service: ValidationService = Depends(validation_service)) -> Response:
    service.delete_suite(name)
    return Response(status_code=204)


@router.post("/validations", summary="Validate a dataset version with a suite; returns the result")
def create_validation(body: ValidationCreate, service: ValidationService = Depends(validation_service)) -> dict[str, Any]:  # Any: JSON
    return service.validate_version(body.dataset, body.suite, examples=body.examples).to_dict()


@router.get("/validations", summary="Stored validation results, newest first")
def list_validations(
    readable: Readable,
    dataset: str | None = Query(None, max_length=1000),
    suite: str | None = Query(None, max_length=300),
    max_results: int = Query(100, ge=1, le=10_000),
    service: ValidationService = Depends(validation_service),
) -> dict[str, object]:
    return {"validations": [r.to_dict() for r in service.list_results(dataset, suite, max_results, projects=readable)]}
