"""What the tracking stage needs from storage, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from steward.core import (
    AuditEntry,
    Experiment,
    FilterExpr,
    Metric,
    OrderBy,
    Run,
    RunInput,
    RunStatus,
)
from steward.core.logged_models import LoggedModel, LoggedModelMetric, LoggedModelStatus


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """A mutation to record in the audit trail, in the same transaction as the change."""

    actor: str
    action: str
    target: str
    timestamp: int  # ms since epoch, UTC
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    path: str
    digest: str
    size: int
    created_at: int


@dataclass(frozen=True, slots=True)
class RunPage:
    runs: list[Run]
    next_page_token: str | None


class TrackingStore(Protocol):
    """Metadata storage of experiments, runs and the audit trail."""

    def create_experiment(
        self, name: str, tags: dict[str, str], now: int, audit: AuditEvent, project: str | None = None
    ) -> Experiment: ...
    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...
    def experiment_ids_by_name(self, names: Sequence[str]) -> dict[str, str]: ...
    def list_experiments(
        self, *, include_deleted: bool = False, projects: Collection[str] | None = None
    ) -> list[Experiment]: ...
    def set_experiment_lifecycle(self, experiment_id: str, stage: str, audit: AuditEvent) -> Experiment: ...
    def set_experiment_tag(self, experiment_id: str, key: str, value: str, audit: AuditEvent) -> None: ...
    def rename_experiment(self, experiment_id: str, name: str, audit: AuditEvent) -> Experiment: ...

    def create_run(
        self,
        run_id: str,
        experiment_id: str,
        name: str,
        user: str,
        start_time: int,
        params: dict[str, str],
        tags: dict[str, str],
        audit: AuditEvent,
        artifacts: Sequence[ArtifactInfo] = (),
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def require_run(self, run_id: str) -> None: ...
    def update_run(
        self,
        run_id: str,
        audit: AuditEvent,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
        note: str | None = None,
        failure: str | None = None,
        metrics: Sequence[Metric] = (),
        reopen: bool = False,
    ) -> Run:
        """Change a run; an ended run's status changes only back to RUNNING with ``reopen``."""
        ...
    def set_run_lifecycle(self, run_id: str, stage: str, audit: AuditEvent) -> Run: ...
    def get_run_failure(self, run_id: str) -> str | None: ...
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: dict[str, str],
        tags: dict[str, str],
        audit: AuditEvent,
        *,
        allow_ended: bool = False,
    ) -> None:
        """Log to a running run (an ended one too with ``allow_ended``: the audit row's action
        becomes ``runs.log_after_end`` with the run's status)."""
        ...
    def delete_tag(self, run_id: str, key: str, audit: AuditEvent) -> None: ...
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput], audit: AuditEvent, *, allow_ended: bool = False) -> None: ...
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_expr: FilterExpr | None,
        order_by: Sequence[OrderBy],
        max_results: int,
        page_token: str | None,
        *,
        include_deleted: bool = False,
        projects: Collection[str] | None = None,
    ) -> RunPage: ...

    def record_artifact(self, run_id: str, info: ArtifactInfo, audit: AuditEvent) -> None:
        """Point ``info.path`` of the run at ``info.digest``. When the path already pointed at
        another blob, the audit row's action becomes ``artifacts.overwrite`` and its details
        gain ``path``, ``old_digest`` and ``new_digest``."""
        ...
    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]: ...
    def get_artifact(self, run_id: str, path: str) -> ArtifactInfo: ...

    def list_audit(self, *, target: str | None = None, since: int | None = None, limit: int = 1000) -> list[AuditEntry]: ...


class LoggedModelStore(Protocol):
    """Metadata storage of MLflow 3's logged models; each write appends its audit row."""

    def get_model(self, model_id: str) -> LoggedModel:
        """The model, deleted or not.

        Raises:
            NotFoundError: no such model.
        """
        ...
    def list_models(
        self,
        experiment_ids: Sequence[str],
        *,
        include_deleted: bool = False,
        projects: Collection[str] | None = None,
        equals: Mapping[str, str] | None = None,
    ) -> list[LoggedModel]:
        """Models of the experiments; ``equals`` narrows by columns (``name``, ``source_run_id``,
        ``model_id``, ``model_type``, ``status``) in the query."""
        ...
    def create_model(self, model: LoggedModel, audit: AuditEvent) -> LoggedModel:
        """Store a new model; its experiment must be active and its source run (if any) in it."""
        ...
    def set_status(
        self, model_id: str, status: LoggedModelStatus, message: str, now: int, audit: AuditEvent
    ) -> LoggedModel: ...
    def set_tags(self, model_id: str, tags: Mapping[str, str], now: int, audit: AuditEvent) -> LoggedModel: ...
    def delete_tag(self, model_id: str, key: str, now: int, audit: AuditEvent) -> None: ...
    def log_params(self, model_id: str, params: Mapping[str, str], now: int, audit: AuditEvent) -> None:
        """Add params; a key already logged with another value is a conflict."""
        ...
    def delete_model(self, model_id: str, now: int, audit: AuditEvent) -> None: ...
    def log_metrics(self, run_id: str, model_ids_points: Mapping[str, Sequence[LoggedModelMetric]], audit: AuditEvent) -> None:
        """Record a run's metric points against models of the run's experiment."""
        ...
    def log_outputs(self, run_id: str, outputs: Mapping[str, int], audit: AuditEvent) -> None:
        """Link a run to the models it produced (model id -> step); each in the run's experiment."""
        ...
    def run_outputs(self, run_id: str) -> list[tuple[str, int]]: ...
    def require_model(self, model_id: str) -> None: ...
    def record_artifact(self, model_id: str, info: ArtifactInfo, audit: AuditEvent) -> None: ...
    def list_artifacts(self, model_id: str, prefix: str = "") -> list[ArtifactInfo]: ...
    def get_artifact(self, model_id: str, path: str) -> ArtifactInfo: ...


class SecretGuard(Protocol):
    """Refuses values that carry a stored secret (the wiring provides one; see governance)."""

    def check_values(
        self, actor: str, target: str, texts: Mapping[str, str], numbers: Iterable[float] = ()
    ) -> None:
        """Raise :class:`~steward.errors.InvalidInputError` naming the field and the secret.

        Args:
            texts: field -> value of params and tags (``params.lr``).
            numbers: the values of metric points, in order (the field is ``metrics[i]``).
        """
        ...


class BlobStore(Protocol):
    """Content-addressed bytes: identical content is stored once, reads verify the hash."""

    def put_file(self, local_path: str) -> tuple[str, int]: ...
    def put_bytes(self, data: bytes) -> tuple[str, int]: ...
    def open(self, digest: str) -> BinaryIO: ...
    def read_bytes(self, digest: str) -> bytes: ...
    def exists(self, digest: str) -> bool: ...
