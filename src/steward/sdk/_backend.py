"""The one client interface: embedded (the tracking service itself) or a Steward server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from steward.core import Experiment, Metric, Run, RunInput, RunStatus
from steward.tracking import ArtifactInfo, RunPage


class TrackingBackend(Protocol):
    """What the SDK calls; :class:`~steward.tracking.TrackingService` and
    :class:`~steward.sdk.HttpBackend` both provide it, so code runs the same either way."""

    def create_experiment(
        self, name: str, tags: Mapping[str, object] | None = None, *, project: str | None = None
    ) -> Experiment: ...
    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...
    def get_or_create_experiment(self, name: str, *, project: str | None = None) -> Experiment: ...
    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]: ...
    def delete_experiment(self, experiment_id: str) -> Experiment: ...
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        start_time: int | None = None,
        user: str | None = None,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def get_run_failure(self, run_id: str) -> str | None: ...
    def end_run(
        self,
        run_id: str,
        status: RunStatus = RunStatus.FINISHED,
        *,
        end_time: int | None = None,
        failure: str | None = None,
        metrics: Sequence[Metric] = (),
    ) -> Run: ...
    def update_run(self, run_id: str, *, status: RunStatus | None = None, end_time: int | None = None, name: str | None = None, note: str | None = None) -> Run: ...
    def delete_run(self, run_id: str) -> Run: ...
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        validated: bool = False,
    ) -> None: ...
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None: ...
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...
    def search_runs(
        self,
        experiments: Sequence[str] | str | None = None,
        *,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage: ...
    def log_artifact_file(self, run_id: str, local_path: str, path: str) -> ArtifactInfo: ...
    def log_artifact_bytes(self, run_id: str, data: bytes, path: str) -> ArtifactInfo: ...
    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]: ...
    def read_artifact(self, run_id: str, path: str) -> bytes: ...
