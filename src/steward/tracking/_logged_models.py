"""MLflow 3's logged models: validation, audit events, then one store call each."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from steward.core import validate_name, validate_param, validate_tag
from steward.core.artifact_paths import clean_artifact_path
from steward.core.logged_models import (
    LoggedModel,
    LoggedModelMetric,
    LoggedModelStatus,
    ModelOrder,
    check_model_id,
    matches,
    new_model_id,
    order_models,
    parse_model_filter,
)
from steward.errors import InvalidInputError, NotFoundError

from ._ports import ArtifactInfo, AuditEvent, BlobStore, LoggedModelStore, SecretGuard
from ._service import MAX_RESULTS_LIMIT, check_run_id, now_ms

_SQL_ATTRIBUTES = frozenset({"name", "source_run_id", "model_id", "model_type", "status"})


@dataclass(frozen=True, slots=True)
class LoggedModelPage:
    models: list[LoggedModel]
    next_page_token: str | None


def _target(model_id: str) -> str:
    return f"logged-models:/{model_id}"


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit() or len(token) > 12:
        raise InvalidInputError("page_token is not one this server issued", field="page_token")
    return int(token)


class LoggedModelService:
    """Logged models: create, finalize, tag, give params and metrics, search, delete; their files.

    Args:
        store: metadata storage of logged models.
        blobs: the content-addressed store the models' files go to.
        actor: who is acting (recorded in the audit trail and as the creator).
        secret_guard: refuses params and tags equal to a stored secret.
    """

    def __init__(self, store: LoggedModelStore, blobs: BlobStore, actor: str, *, secret_guard: SecretGuard | None = None) -> None:
        self.store = store
        self.blobs = blobs
        self.actor = actor
        self.secret_guard = secret_guard

    def _event(self, action: str, target: str, details: dict[str, object] | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, target, now_ms(), details or {})

    def _refuse_secrets(self, target: str, params: Mapping[str, str], tags: Mapping[str, str]) -> None:
        if self.secret_guard is None or not (params or tags):
            return
        texts = {f"params.{k}": v for k, v in params.items()} | {f"tags.{k}": v for k, v in tags.items()}
        self.secret_guard.check_values(self.actor, target, texts)

    def create(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        model_type: str | None = None,
        source_run_id: str | None = None,
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
    ) -> LoggedModel:
        """Create a ``PENDING`` model in an experiment (of the source run's experiment, when given).

        Raises:
            InvalidInputError: a bad name, param or tag, or a run of another experiment.
            NotFoundError: no such experiment or run.
            ConflictError: the experiment is deleted.
        """
        model_id = new_model_id()
        clean_name = validate_name("model", name) if name else f"model-{model_id[2:10]}"
        run_id = check_run_id(source_run_id) if source_run_id else ""
        clean_params = {k: validate_param(k, v) for k, v in (params or {}).items()}
        clean_tags = {k: validate_tag(k, v) for k, v in (tags or {}).items()}
        kind = model_type or ""
        if len(kind) > 250:
            raise InvalidInputError("model_type is at most 250 characters", field="model_type")
        self._refuse_secrets(_target(model_id), clean_params, clean_tags)
        now = now_ms()
        model = LoggedModel(
            model_id, experiment_id, clean_name, LoggedModelStatus.PENDING, now, now, self.actor, kind, run_id,
            params=clean_params, tags=clean_tags,
        )
        details: dict[str, object] = {"experiment_id": experiment_id, "name": clean_name}
        if run_id:
            details["source_run_id"] = run_id
        return self.store.create_model(model, self._event("logged_models.create", _target(model_id), details))

    def get(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """The model; a deleted one only with ``allow_deleted``.

        Raises:
            NotFoundError: no such model (or a deleted one).
        """
        model = self.store.get_model(check_model_id(model_id))
        if model.lifecycle_stage != "active" and not allow_deleted:
            raise NotFoundError(f"logged model {model_id!r} not found", field="model_id")
        return model

    def finalize(self, model_id: str, status: LoggedModelStatus, message: str = "") -> LoggedModel:
        """Set the model's status once its upload ended (``READY`` or ``FAILED``)."""
        check_model_id(model_id)
        return self.store.set_status(
            model_id, status, message[:10_000], now_ms(),
            self._event("logged_models.finalize", _target(model_id), {"status": status.value}),
        )

    def set_tags(self, model_id: str, tags: Mapping[str, object]) -> LoggedModel:
        check_model_id(model_id)
        clean = {k: validate_tag(k, v) for k, v in tags.items()}
        if not clean:
            return self.get(model_id)
        self._refuse_secrets(_target(model_id), {}, clean)
        return self.store.set_tags(
            model_id, clean, now_ms(), self._event("logged_models.set_tags", _target(model_id), {"keys": sorted(clean)})
        )

    def delete_tag(self, model_id: str, key: str) -> None:
        check_model_id(model_id)
        self.store.delete_tag(model_id, key, now_ms(), self._event("logged_models.delete_tag", _target(model_id), {"key": key}))

    def log_params(self, model_id: str, params: Mapping[str, object]) -> None:
        check_model_id(model_id)
        clean = {k: validate_param(k, v) for k, v in params.items()}
        if not clean:
            return
        self._refuse_secrets(_target(model_id), clean, {})
        self.store.log_params(
            model_id, clean, now_ms(), self._event("logged_models.log_params", _target(model_id), {"keys": sorted(clean)})
        )

    def log_metrics(self, run_id: str, points: Mapping[str, Sequence[LoggedModelMetric]]) -> None:
        """Record metric points of a run against the models they name (model id -> points)."""
        points = {check_model_id(m, "metrics.model_id"): p for m, p in points.items() if p}
        if not points:
            return
        details: dict[str, object] = {"run_id": run_id, "metrics": sum(len(p) for p in points.values())}
        target = _target(next(iter(points))) if len(points) == 1 else f"runs:/{run_id}"
        self.store.log_metrics(run_id, points, self._event("logged_models.log_metrics", target, details))

    def delete(self, model_id: str) -> None:
        check_model_id(model_id)
        self.store.delete_model(model_id, now_ms(), self._event("logged_models.delete", _target(model_id)))

    def search(
        self,
        experiment_ids: Sequence[str],
        *,
        filter: str | None = None,
        order_by: Sequence[ModelOrder] = (),
        max_results: int = 100,
        page_token: str | None = None,
        projects: Collection[str] | None = None,
    ) -> LoggedModelPage:
        """Active models of the experiments matching an MLflow logged-model filter, ordered and paged.

        ``projects`` (when given) keeps only models of experiments in those projects.

        Raises:
            FilterSyntaxError: a filter that does not parse.
            InvalidInputError: a bad page size or token.
        """
        if isinstance(max_results, bool) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
            raise InvalidInputError(f"max_results must be between 1 and {MAX_RESULTS_LIMIT}", field="max_results")
        conditions = parse_model_filter(filter)
        start = _offset(page_token)
        if not experiment_ids:
            return LoggedModelPage([], None)
        # equalities on indexed attributes narrow the query (the client finds a run's model
        # by name); every condition is still checked on what comes back
        equals = {
            c.key: c.value
            for c in conditions
            if c.entity == "attribute" and c.op == "=" and c.key in _SQL_ATTRIBUTES and isinstance(c.value, str)
        }
        listed = self.store.list_models(experiment_ids, projects=projects, equals=equals)
        found = [m for m in listed if matches(m, conditions)]
        ordered = order_models(found, order_by)
        page = ordered[start : start + max_results]
        more = start + max_results < len(ordered)
        return LoggedModelPage(page, str(start + max_results) if more else None)

    def log_outputs(self, run_id: str, outputs: Mapping[str, int]) -> None:
        """Record that a run produced these models (model id -> step)."""
        check_run_id(run_id)
        clean = {check_model_id(m, "models.model_id"): int(s) for m, s in outputs.items()}
        if not clean:
            return
        self.store.log_outputs(
            run_id, clean, self._event("runs.log_outputs", f"runs:/{run_id}", {"models": sorted(clean)})
        )

    def run_outputs(self, run_id: str) -> list[tuple[str, int]]:
        return self.store.run_outputs(run_id)

    # -- files -------------------------------------------------------------------------

    def log_artifact_file(self, model_id: str, local_path: str, path: str) -> ArtifactInfo:
        """Store a file of the model in the content-addressed store under ``path``."""
        logical = clean_artifact_path(path)
        self.store.require_model(check_model_id(model_id))  # no orphan blob for an unknown model
        digest, size = self.blobs.put_file(local_path)
        info = ArtifactInfo(logical, digest, size, now_ms())
        self.store.record_artifact(
            model_id, info,
            self._event("logged_models.log_artifact", f"{_target(model_id)}/{logical}", {"sha256": digest, "size": size}),
        )
        return info

    def list_artifacts(self, model_id: str, prefix: str = "") -> list[ArtifactInfo]:
        return self.store.list_artifacts(check_model_id(model_id), clean_artifact_path(prefix) if prefix else "")

    def open_artifact(self, model_id: str, path: str) -> tuple[ArtifactInfo, BinaryIO]:
        info = self.store.get_artifact(check_model_id(model_id), clean_artifact_path(path))
        return info, self.blobs.open(info.digest)
