"""What the registry stage needs from storage, as a protocol the SQL adapter implements."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from steward.core.lifecycle import ModelState
from steward.tracking import AuditEvent

from ._types import ModelPage, ModelVersion, RegisteredModel, VersionFile, VersionPage


@dataclass(frozen=True, slots=True)
class NewVersion:
    """Everything stored with a new version, gathered by the service before the write."""

    name: str
    run_id: str
    artifact_path: str
    flavor: str
    signature: dict[str, Any]  # Any: JSON
    requirements: list[str]
    datasets: list[str]
    metrics: dict[str, float]
    description: str
    created_by: str
    created_at: int
    # every file of the model folder as the run had it at registration: loads read these blobs
    files: tuple[VersionFile, ...] = ()
    # the project of the model when this version creates it (None: the model's own name)
    project: str | None = None
    # the MLflow 3 logged model whose files these are (its run is ``run_id``)
    logged_model_id: str = ""


class RegistryStore(Protocol):
    """Metadata storage of registered models; every mutation writes its audit event in the
    same transaction."""

    def create_model(
        self, name: str, description: str, owner: str, tags: Mapping[str, str], now: int, audit: AuditEvent,
        project: str | None = None,
    ) -> RegisteredModel: ...
    def get_model(self, name: str) -> RegisteredModel: ...
    def list_models(
        self, name_prefix: str | None, max_results: int, page_token: str | None, projects: Collection[str] | None = None
    ) -> ModelPage: ...
    def update_model(self, name: str, description: str, now: int, audit: AuditEvent) -> RegisteredModel: ...
    def set_model_tag(self, name: str, key: str, value: str, audit: AuditEvent) -> None: ...
    def delete_model_tag(self, name: str, key: str, audit: AuditEvent) -> None: ...

    def create_version(self, new: NewVersion, *, create_model: bool, audit: AuditEvent) -> ModelVersion: ...
    def get_version(self, name: str, version: int) -> ModelVersion: ...
    def list_version_files(self, name: str, version: int) -> list[VersionFile]:
        """The files pinned at registration, by path; empty for versions registered before
        manifests existed (migration ``0009_version_files``). Raises NotFoundError."""
        ...
    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...
    def get_latest_version(self, name: str, state: ModelState | None = None) -> ModelVersion: ...
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
    ) -> VersionPage: ...

    def set_alias(self, name: str, alias: str, version: int, actor: str, now: int, audit: AuditEvent) -> ModelVersion: ...
    def delete_alias(self, name: str, alias: str, audit: AuditEvent) -> None: ...
    def set_version_tag(self, name: str, version: int, key: str, value: str, audit: AuditEvent) -> None: ...
    def delete_version_tag(self, name: str, version: int, key: str, audit: AuditEvent) -> None: ...
    def transition(self, name: str, version: int, target: ModelState, *, require_approval: bool, now: int, audit: AuditEvent) -> ModelVersion: ...
    def add_approval(self, name: str, version: int, approver: str, comment: str, now: int, audit: AuditEvent) -> ModelVersion: ...
    def update_version(self, name: str, version: int, description: str, now: int, audit: AuditEvent) -> ModelVersion: ...
    def delete_version(self, name: str, version: int, audit: AuditEvent) -> None:
        """Delete a candidate version (ConflictError for any other state)."""
        ...
    def delete_model(self, name: str, now: int, audit: AuditEvent) -> None:
        """Delete a model whose versions are all candidates, leaving a tombstone so the
        name's version numbers are never reused (ConflictError otherwise)."""
        ...
    def record(self, audit: AuditEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One audit entry that belongs to a model's timeline, as the store found it."""

    entry_id: int
    timestamp: int
    actor: str
    action: str
    target: str
    details: dict[str, object]


class TimelineStore(Protocol):
    """What a model's timeline reads: the audit entries about the model, its versions'
    runs, the deployments that ever served it and the alerts on those deployments."""

    def model_exists(self, name: str) -> bool: ...

    def version_runs(self, name: str) -> dict[str, list[int]]:
        """Run id -> the versions registered from it."""
        ...

    def timeline_entries(self, name: str, *, after: int, limit: int) -> list[TimelineEntry]:
        """Entries past entry id ``after``, in chain order, at most ``limit``."""
        ...
