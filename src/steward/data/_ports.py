"""What the data stage needs from storage, as a protocol the SQL adapter implements."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from steward.tracking._ports import AuditEvent

from ._versions import DatasetVersion

__all__ = ["DataStore", "DatasetSummary", "InputUse"]


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """A dataset name with its newest version."""

    name: str
    description: str | None
    created_at: int
    created_by: str
    latest_version: int
    num_versions: int
    project: str = ""  # the project it belongs to (core/permissions.py)


@dataclass(frozen=True, slots=True)
class InputUse:
    """One run that logged a dataset version as an input."""

    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time: int
    role: str
    dataset: str


class DataStore(Protocol):
    """Metadata storage of dataset versions."""

    def add_dataset_version(self, version: DatasetVersion, audit: AuditEvent, project: str | None = None) -> DatasetVersion:
        """Insert ``version`` with the next free number (``version.version`` is ignored).

        A new dataset is created in ``project`` (default: its name); an existing one keeps its own.

        Returns the stored version, or the existing one when the same name already has a
        version with the same content hash (then nothing is written).
        """
        ...

    def get_dataset_version(self, name: str, version: int | None) -> DatasetVersion:
        """One version (``None``: the latest). Raises NotFoundError."""
        ...

    def find_dataset_versions_by_hash(self, prefix: str, name: str | None = None) -> list[DatasetVersion]: ...
    def list_dataset_versions(self, name: str | None = None) -> list[DatasetVersion]: ...
    def list_datasets(self, projects: Collection[str] | None = None) -> list[DatasetSummary]: ...
    def list_input_uses(self, refs: list[str], projects: Collection[str] | None = None) -> list[InputUse]: ...
