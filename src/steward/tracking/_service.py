"""Tracking use cases: validation, audit events, then one store call each."""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from steward.core import (
    Experiment,
    Metric,
    Run,
    RunInput,
    RunStatus,
    parse_filter,
    parse_order_by,
    validate_metric,
    validate_name,
    validate_param,
    validate_tag,
)
from steward.core.artifact_paths import clean_artifact_path
from steward.core.permissions import PROJECT_TAG, new_project
from steward.errors import AlreadyExistsError, InvalidInputError, NotFoundError

from ._ports import ArtifactInfo, AuditEvent, BlobStore, RunPage, SecretGuard, TrackingStore

MAX_RESULTS_LIMIT = 10_000
_RUN_ID_CHARS = frozenset("0123456789abcdef")


def now_ms() -> int:
    """Milliseconds since the epoch, UTC: the unit of every stored time."""
    return int(time.time() * 1000)


def check_run_id(run_id: str) -> str:
    """Run ids are 32 lowercase hex characters (uuid4 hex)."""
    if not isinstance(run_id, str) or len(run_id) != 32 or not set(run_id) <= _RUN_ID_CHARS:
        raise InvalidInputError("run_id must be 32 hexadecimal characters", field="run_id")
    return run_id


def _check_metrics(metrics: Sequence[Metric]) -> None:
    # each key once, and every point whose value or step is not already a float or an int
    seen: set[str] = set()
    for i, m in enumerate(metrics):
        if m.key not in seen or type(m.value) is not float or type(m.step) is not int:
            validate_metric(m.key, m.value, m.step, field=f"metrics[{i}]")
            seen.add(m.key)


@dataclass(frozen=True, slots=True)
class RunCreation:
    """The creation of a run, as :meth:`TrackingService.create_run` takes it (``write_run``)."""

    experiment_id: str
    name: str | None = None
    start_time: int | None = None
    params: Mapping[str, object] = field(default_factory=dict)
    tags: Mapping[str, object] = field(default_factory=dict)
    artifacts: Mapping[str, bytes] = field(default_factory=dict)  # recorded with the creation, as captured files are


@dataclass(frozen=True, slots=True)
class RunEnding:
    """The end of a run, as :meth:`TrackingService.end_run` takes it (``write_run``)."""

    status: RunStatus = RunStatus.FINISHED
    end_time: int | None = None
    failure: str | None = None


class TrackingService:
    """Experiments, runs, metrics, params, tags and run artifacts.

    Args:
        store: metadata storage.
        blobs: content-addressed artifact storage.
        actor: who is acting (recorded in the audit trail).
        secret_guard: refuses params, tags and metric values equal to a stored secret.
    """

    def __init__(self, store: TrackingStore, blobs: BlobStore, actor: str, *, secret_guard: SecretGuard | None = None) -> None:
        self.store = store
        self.blobs = blobs
        self.actor = actor
        self.secret_guard = secret_guard

    def _event(self, action: str, target: str, details: dict[str, object] | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, target, now_ms(), details or {})

    def _refuse_secrets(
        self, target: str, params: Mapping[str, str] | None = None, tags: Mapping[str, str] | None = None, metrics: Sequence[Metric] = ()
    ) -> None:
        """Refuse (before anything is stored) a value that carries a stored secret."""
        if self.secret_guard is None or not (params or tags or metrics):
            return
        texts = {f"params.{k}": v for k, v in (params or {}).items()} | {f"tags.{k}": v for k, v in (tags or {}).items()}
        # lazily: the values of a large batch are read only when some secret is a number
        self.secret_guard.check_values(self.actor, target, texts, (m.value for m in metrics))

    # -- experiments --------------------------------------------------------------------

    def create_experiment(
        self, name: str, tags: Mapping[str, object] | None = None, *, project: str | None = None
    ) -> Experiment:
        """Create an experiment in ``project`` (default: a ``steward.project`` tag, or its own name).

        Raises:
            InvalidInputError: a bad name, tag or project.
            AlreadyExistsError: the name is taken.
        """
        validate_name("experiment", name)
        clean = {k: validate_tag(k, v) for k, v in (tags or {}).items()}
        self._refuse_secrets("experiments:/", tags=clean)
        owner = new_project(name, project or clean.get(PROJECT_TAG))
        return self.store.create_experiment(
            name, clean, now_ms(), self._event("experiments.create", "experiments:/", {"name": name, "project": owner}), owner
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def get_or_create_experiment(self, name: str, *, project: str | None = None) -> Experiment:
        found = self.store.get_experiment_by_name(name)
        if found is not None:
            return found
        try:
            return self.create_experiment(name, project=project)
        except AlreadyExistsError:
            # another process created it between our read and our write
            again = self.store.get_experiment_by_name(name)
            if again is None:
                raise NotFoundError(f"experiment {name!r} not found", field="experiment") from None
            return again

    def list_experiments(
        self, *, include_deleted: bool = False, projects: Collection[str] | None = None
    ) -> list[Experiment]:
        """Experiments (of ``projects`` only, when given: what the caller may read)."""
        return self.store.list_experiments(include_deleted=include_deleted, projects=projects)

    def delete_experiment(self, experiment_id: str) -> Experiment:
        return self.store.set_experiment_lifecycle(
            experiment_id, "deleted", self._event("experiments.delete", f"experiments:/{experiment_id}")
        )

    def restore_experiment(self, experiment_id: str) -> Experiment:
        return self.store.set_experiment_lifecycle(
            experiment_id, "active", self._event("experiments.restore", f"experiments:/{experiment_id}")
        )

    def rename_experiment(self, experiment_id: str, name: str) -> Experiment:
        validate_name("experiment", name)
        return self.store.rename_experiment(
            experiment_id, name, self._event("experiments.rename", f"experiments:/{experiment_id}", {"name": name})
        )

    def set_experiment_tag(self, experiment_id: str, key: str, value: object) -> None:
        text = validate_tag(key, value)
        self._refuse_secrets(f"experiments:/{experiment_id}", tags={key: text})
        self.store.set_experiment_tag(
            experiment_id, key, text, self._event("experiments.set_tag", f"experiments:/{experiment_id}", {"key": key})
        )

    # -- runs ---------------------------------------------------------------------------

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
    ) -> Run:
        """Create a running run; ``artifacts`` (path -> bytes) are recorded in the same transaction."""
        rid = check_run_id(run_id) if run_id else uuid.uuid4().hex
        run_name = validate_name("run", name, field="name") if name else f"run-{rid[:8]}"
        clean_params = {k: validate_param(k, v) for k, v in (params or {}).items()}
        clean_tags = {k: validate_tag(k, v) for k, v in (tags or {}).items()}
        self._refuse_secrets(f"runs:/{rid}", clean_params, clean_tags)
        started = start_time if start_time is not None else now_ms()
        infos = []
        for path, data in (artifacts or {}).items():
            logical = clean_artifact_path(path)
            digest, size = self.blobs.put_bytes(data)
            infos.append(ArtifactInfo(logical, digest, size, started))
        return self.store.create_run(
            rid,
            experiment_id,
            run_name,
            user or self.actor,
            started,
            clean_params,
            clean_tags,
            self._event("runs.create", f"runs:/{rid}", {"experiment_id": experiment_id}),
            infos,
        )

    def get_run(self, run_id: str) -> Run:
        return self.store.get_run(run_id)

    def get_run_failure(self, run_id: str) -> str | None:
        return self.store.get_run_failure(run_id)

    def end_run(
        self,
        run_id: str,
        status: RunStatus = RunStatus.FINISHED,
        *,
        end_time: int | None = None,
        failure: str | None = None,
        metrics: Sequence[Metric] = (),
    ) -> Run:
        """End a run; ``metrics`` (its last buffered points) are stored in the same transaction."""
        self._refuse_secrets(f"runs:/{run_id}", metrics=metrics)
        details: dict[str, object] = {"status": status.value}
        if metrics:
            details["metrics"] = len(metrics)
        return self.store.update_run(
            run_id,
            self._event("runs.end", f"runs:/{run_id}", details),
            status=status,
            end_time=end_time,
            failure=failure,
            metrics=metrics,
        )

    def update_run(self, run_id: str, *, status: RunStatus | None = None, end_time: int | None = None, name: str | None = None, note: str | None = None) -> Run:
        if name is not None:
            validate_name("run", name)
        changes: dict[str, object] = {}
        if status is not None:
            changes["status"] = status.value
        if name is not None:
            changes["name"] = name
        if note is not None:
            changes["note"] = True
        return self.store.update_run(
            run_id, self._event("runs.update", f"runs:/{run_id}", changes), status=status, end_time=end_time, name=name, note=note
        )

    def resume_run(self, run_id: str) -> Run:
        """Reopen an ended run (MLflow's ``start_run(run_id=...)``): RUNNING again, no end time.

        Raises:
            NotFoundError: no such run.
            ConflictError: the run is deleted.
        """
        before = self.store.get_run(run_id)
        if before.status is RunStatus.RUNNING:
            return before
        return self.store.update_run(
            run_id, self._event("runs.resume", f"runs:/{run_id}", {"previous_status": before.status.value}),
            status=RunStatus.RUNNING, reopen=True,
        )

    def delete_run(self, run_id: str) -> Run:
        return self.store.set_run_lifecycle(run_id, "deleted", self._event("runs.delete", f"runs:/{run_id}"))

    def restore_run(self, run_id: str) -> Run:
        return self.store.set_run_lifecycle(run_id, "active", self._event("runs.restore", f"runs:/{run_id}"))

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        validated: bool = False,
        allow_ended: bool = False,
    ) -> None:
        """Log metrics, params and tags in one transaction: all of it is stored or none.

        ``validated`` skips per-point checks for batches the SDK already checked at log time.
        ``allow_ended`` accepts an ended run too, as MLflow does (audited as
        ``runs.log_after_end``); Steward's own API keeps ended runs closed.
        """
        if not validated:
            _check_metrics(metrics)
        clean_params = {k: validate_param(k, v) for k, v in (params or {}).items()}
        clean_tags = {k: validate_tag(k, v) for k, v in (tags or {}).items()}
        self._refuse_secrets(f"runs:/{run_id}", clean_params, clean_tags, metrics)
        if not (metrics or clean_params or clean_tags):
            return
        details: dict[str, object] = {"metrics": len(metrics)}
        if clean_params:
            details["params"] = sorted(clean_params)
        if clean_tags:
            details["tags"] = sorted(clean_tags)
        self.store.log_batch(
            run_id, metrics, clean_params, clean_tags, self._event("runs.log_batch", f"runs:/{run_id}", details),
            allow_ended=allow_ended,
        )

    def write_run(
        self,
        run_id: str,
        *,
        create: RunCreation | None = None,
        artifacts: Mapping[str, bytes] | None = None,
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        metrics: Sequence[Metric] = (),
        end: RunEnding | None = None,
        validated: bool = False,
    ) -> tuple[Run, list[ArtifactInfo]]:
        """What an SDK run does, in one call (one request through the server), in this order:
        create it (``create``), log ``artifacts``, log ``params`` and ``tags`` (and ``metrics``
        when the run stays open), end it (``end``, with ``metrics`` as its last points).

        Each step is the embedded call it stands for, audited as that call is
        (``runs.create``, ``runs.log_artifact``, ``runs.log_batch``, ``runs.end``), so a run
        leaves the same trail whether it was tracked embedded or through a server. Input is
        checked before anything is stored.

        Returns:
            The run as stored after the last step, and the artifacts logged.

        Raises:
            InvalidInputError: a bad run id, artifact path, param, tag, metric or status.
            NotFoundError: no such run (without ``create``) or experiment.
            ConflictError: the run has ended (or exists already, with ``create``).
        """
        check_run_id(run_id)
        logical = {clean_artifact_path(path): data for path, data in (artifacts or {}).items()}
        if end is not None and not end.status.is_terminal:
            raise InvalidInputError("a run ends as finished, failed or killed", field="end.status")
        if not validated:
            _check_metrics(metrics)
        params = {k: validate_param(k, v) for k, v in (params or {}).items()}
        tags = {k: validate_tag(k, v) for k, v in (tags or {}).items()}
        run: Run | None = None
        if create is not None:
            run = self.create_run(
                create.experiment_id, name=create.name, params=create.params, tags=create.tags,
                start_time=create.start_time, run_id=run_id, artifacts=create.artifacts,
            )
        infos = [self.log_artifact_bytes(run_id, data, path) for path, data in logical.items()]
        open_metrics = metrics if end is None else ()
        if params or tags or open_metrics:
            self.log_batch(run_id, metrics=open_metrics, params=params, tags=tags, validated=True)
        if end is not None:
            run = self.end_run(run_id, end.status, end_time=end.end_time, failure=end.failure, metrics=metrics)
        elif run is None or infos or params or tags or open_metrics:
            run = self.get_run(run_id)
        return run, infos

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(run_id, key, self._event("runs.delete_tag", f"runs:/{run_id}", {"key": key}))

    def log_inputs(self, run_id: str, inputs: Sequence[RunInput], *, allow_ended: bool = False) -> None:
        """Record dataset versions a run used (the data stage supplies the names)."""
        if inputs:
            self.store.log_inputs(
                run_id, inputs, self._event("runs.log_inputs", f"runs:/{run_id}", {"inputs": [i.dataset for i in inputs]}),
                allow_ended=allow_ended,
            )

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.store.get_metric_history(run_id, key)

    def search_runs(
        self,
        experiments: Sequence[str] | str | None = None,
        *,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
        projects: Collection[str] | None = None,
    ) -> RunPage:
        """Search runs of the named experiments (names or ids) with the filter language.

        ``projects`` (when given) keeps only runs of experiments in those projects, in the
        query itself, so pages are full and tokens stay valid."""
        if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
            raise InvalidInputError(f"max_results must be between 1 and {MAX_RESULTS_LIMIT}", field="max_results")
        expr = parse_filter(filter)
        order = parse_order_by(list(order_by or ()))
        ids = self._experiment_ids(experiments)
        if ids == []:
            return RunPage([], None)
        return self.store.search_runs(
            ids or [], expr, order, max_results, page_token, include_deleted=include_deleted, projects=projects
        )

    def _experiment_ids(self, experiments: Sequence[str] | str | None) -> list[str] | None:
        """None: all experiments; [] : named experiments that do not exist."""
        if experiments is None:
            return None
        names = [experiments] if isinstance(experiments, str) else list(experiments)
        by_name = self.store.experiment_ids_by_name(names)
        ids: list[str] = []
        for ref in names:
            if ref in by_name:
                ids.append(by_name[ref])
            elif ref.isdigit():
                ids.append(self.store.get_experiment(ref).experiment_id)
        return ids

    # -- artifacts ----------------------------------------------------------------------

    def log_artifact_file(self, run_id: str, local_path: str, path: str) -> ArtifactInfo:
        logical = clean_artifact_path(path)
        self.store.require_run(run_id)  # an unknown run must not leave an orphan blob behind
        digest, size = self.blobs.put_file(local_path)
        return self._record(run_id, logical, digest, size)

    def log_artifact_bytes(self, run_id: str, data: bytes, path: str) -> ArtifactInfo:
        logical = clean_artifact_path(path)
        self.store.require_run(run_id)  # an unknown run must not leave an orphan blob behind
        digest, size = self.blobs.put_bytes(data)
        return self._record(run_id, logical, digest, size)

    def _record(self, run_id: str, logical: str, digest: str, size: int) -> ArtifactInfo:
        # an upload over an existing path with other content is audited by the store as
        # "artifacts.overwrite" with the old and the new digest (read in the same transaction)
        info = ArtifactInfo(logical, digest, size, now_ms())
        self.store.record_artifact(
            run_id, info, self._event("runs.log_artifact", f"runs:/{run_id}/{logical}", {"sha256": digest, "size": size})
        )
        return info

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        return self.store.list_artifacts(run_id, clean_artifact_path(prefix) if prefix else "")

    def open_artifact(self, run_id: str, path: str) -> tuple[ArtifactInfo, BinaryIO]:
        info = self.store.get_artifact(run_id, clean_artifact_path(path))
        return info, self.blobs.open(info.digest)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        info = self.store.get_artifact(run_id, clean_artifact_path(path))
        return self.blobs.read_bytes(info.digest)

    def read_blob(self, digest: str) -> bytes:
        """The bytes of one blob by its sha256, verified (a registered version's pinned file).

        Raises:
            NotFoundError: no such blob.
            IntegrityError: the stored bytes no longer match the digest.
        """
        return self.blobs.read_bytes(digest)
