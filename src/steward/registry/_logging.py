"""``run.log_model``: save a model into a staging folder and upload it as run artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from steward.tracking import ArtifactInfo

from ._packaging import SavedModel, save_model_dir, temp_folder
from ._refs import check_model_name
from ._types import ModelVersion
from .signature import Signature

__all__ = ["ArtifactWriter", "LoggedModel", "log_model", "model_artifact_path"]


class ArtifactWriter(Protocol):
    """The part of a tracking backend (embedded or HTTP) that stores run artifacts."""

    def log_artifact_bytes(self, run_id: str, data: bytes, path: str) -> ArtifactInfo: ...


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A model stored in a run: ``runs:/<run_id>/<artifact_path>``."""

    run_id: str
    artifact_path: str
    flavor: str
    signature: Signature | None
    requirements: list[str]
    manifest: dict[str, str]
    registered: ModelVersion | None = None  # set when log_model also registered a version

    @property
    def uri(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"


def model_artifact_path(name: str) -> str:
    """Where a model called ``name`` lives inside its run."""
    return f"models/{check_model_name(name)}"


def log_model(
    backend: ArtifactWriter,
    run_id: str,
    model: object,
    *,
    name: str,
    input_example: Any = None,  # Any: DataFrame / ndarray
    trusted: bool = False,
    flavor: str | None = None,
    artifacts: Mapping[str, str] | None = None,
) -> LoggedModel:
    """Save ``model`` and store its files under ``models/<name>/`` in run ``run_id``.

    Raises:
        InvalidInputError: a bad name, an unknown flavor or an example the model rejects.
        ConflictError: the run is not running.
    """
    prefix = model_artifact_path(name)
    with temp_folder() as tmp:
        folder = Path(tmp) / "model"
        saved: SavedModel = save_model_dir(
            model, folder, flavor=flavor, input_example=input_example, trusted=trusted, artifacts=artifacts
        )
        for rel in sorted([*saved.manifest, "MANIFEST.json"]):
            backend.log_artifact_bytes(run_id, (folder / rel).read_bytes(), f"{prefix}/{rel}")
    return LoggedModel(run_id, prefix, saved.flavor, saved.signature, saved.requirements, saved.manifest)
