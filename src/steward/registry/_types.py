"""Registry entities: registered models, their versions, aliases and approvals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steward.core.lifecycle import ModelState

__all__ = ["Approval", "ModelPage", "ModelVersion", "RegisteredModel", "VersionFile", "VersionPage"]


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model; its versions carry the files."""

    name: str
    description: str
    owner: str
    created_at: int  # ms since epoch, UTC
    updated_at: int
    latest_version: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    project: str = ""  # the project it belongs to (core/permissions.py)


@dataclass(frozen=True, slots=True)
class Approval:
    """Who approved a version, when, and why."""

    approver: str
    comment: str
    created_at: int


@dataclass(frozen=True, slots=True)
class VersionFile:
    """One file behind a version, pinned when the version was registered.

    Attributes:
        path: the file's path inside the model folder (``steward-model.json``, ``data/model.skops``).
        digest: sha256 hex of its bytes: the key of its blob in the content-addressed store.
        size: bytes.
    """

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version: the files logged by a run plus what was known when registered.

    ``signature``, ``requirements`` and ``metrics`` are snapshots taken at registration;
    ``datasets`` are the dataset versions the run consumed.
    """

    name: str
    version: int
    run_id: str
    artifact_path: str
    state: ModelState
    flavor: str
    created_by: str
    created_at: int
    updated_at: int
    description: str = ""
    signature: dict[str, Any] = field(default_factory=dict)  # Any: JSON document
    requirements: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    logged_model_id: str = ""  # the MLflow 3 logged model (m-...) whose files it pins, if any

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``."""
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True, slots=True)
class ModelPage:
    models: list[RegisteredModel]
    next_page_token: str | None


@dataclass(frozen=True, slots=True)
class VersionPage:
    versions: list[ModelVersion]
    next_page_token: str | None
