"""Evaluation use cases: evaluate a version, gate it against the champion, override a
failed gate, and gather what a model card shows."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from steward.core import Experiment, Metric, Run
from steward.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from steward.registry import ModelVersion, RegistryService, parse_ref
from steward.tracking import AuditEvent, now_ms

from ._card import CARD_FIELDS, CARD_TAG_PREFIX, build_card
from ._evaluate import EvaluationOptions, evaluate_frame
from ._gates import apply_policy
from ._policy import GatePolicy, parse_policy
from ._ports import AuditReader, DataReader, EvaluationStore, UserDirectory
from ._types import EvaluationRecord, GateOverride, GateRecord

__all__ = ["EvaluationService"]

JSON = dict[str, Any]  # Any: JSON values
MIN_REASON = 10


class EvaluationService:
    """Evaluations, gates and model cards for one actor.

    Args:
        store: evaluation storage.
        registry: the registry (resolve and load versions, read and tag them).
        data: the data stage (``get``, ``load``, ``load_source``).
        users: the governance service, to tell administrators (``None``: nobody is one).
        audit: the audit trail, for the history of a version.
        actor: who is acting.
    """

    def __init__(
        self, store: EvaluationStore, registry: RegistryService, data: DataReader, users: UserDirectory | None, audit: AuditReader, actor: str
    ) -> None:
        self.store = store
        self.registry = registry
        self.data = data
        self.users = users
        self.audit = audit
        self.actor = actor

    def _event(self, action: str, target: str, details: JSON | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, target, now_ms(), details or {})

    # -- data -----------------------------------------------------------------------------

    def load_data(self, data: str, *, allow_files: bool = True) -> tuple[Any, str, str | None]:  # Any: pandas DataFrame
        """The frame a ``--data`` value names: a file path (when ``allow_files``: never for
        server requests, which must not read the server's disk), or a dataset reference
        (``holdout:2``, ``datasets:/holdout/2``, ``holdout@<hash>``).

        Returns:
            ``(frame, dataset_ref, content_hash)``; files are ``file:<absolute path>`` with no hash.
        """
        if not isinstance(data, str) or not data.strip():
            raise InvalidInputError("data must name a dataset version or a file", field="data")
        path = Path(data)
        if allow_files and not data.startswith("datasets:/") and path.is_file():
            frame = self.data.load_source(str(path))
            return frame.to_pandas(), f"file:{path.resolve()}", None
        version = self.data.get(data)
        return self.data.load(version).to_pandas(), version.ref, version.content_hash

    # -- evaluate ---------------------------------------------------------------------------

    def evaluate(
        self, ref: str, data: str, options: EvaluationOptions, *, trusted: bool = False, allow_files: bool = True
    ) -> EvaluationRecord:
        """Evaluate a version on a dataset version (or file) and store the report with it.

        Raises:
            NotFoundError: no such model version or dataset.
            InvalidInputError: a missing target/slice/sensitive column, or data the model refuses.
        """
        version = self.registry.resolve(ref)
        loaded = self.load_data(data, allow_files=allow_files)
        return self._evaluate(version, loaded, options, trusted=trusted)

    def _evaluate(self, version: ModelVersion, loaded: tuple[Any, str, str | None], options: EvaluationOptions, *, trusted: bool) -> EvaluationRecord:  # Any: DataFrame
        frame, dataset_ref, content_hash = loaded
        predictor = self.registry.load(version.uri, trusted=trusted, allow_retired=True)
        report = _json_safe(evaluate_frame(predictor, frame, options))
        record = EvaluationRecord(0, version.name, version.version, dataset_ref, content_hash, str(report["task"]), report, now_ms(), self.actor)
        return self.store.add_evaluation(record, self._event("models.evaluate", version.uri, {"task": report["task"]}))

    def list_evaluations(self, ref: str, *, limit: int = 100) -> list[EvaluationRecord]:
        """Stored evaluations of a version (``fraud:4``) or of every version (``fraud``), newest first."""
        parsed = parse_ref(ref)
        if parsed.version is None and parsed.alias is None and parsed.state is None:
            self.registry.get_model(parsed.name)
            return self.store.list_evaluations(parsed.name, None, limit)
        version = self.registry.resolve(parsed)
        return self.store.list_evaluations(version.name, version.version, limit)

    # -- gates ------------------------------------------------------------------------------

    def gate(
        self, ref: str, data: str, policy: str | GatePolicy, *, target: str, task: str | None = None,
        slices: tuple[str, ...] = (), trusted: bool = False, measure_latency: bool = True, allow_files: bool = True,
    ) -> GateRecord:
        """Evaluate the candidate and the champion on the same dataset version, apply the
        policy, and store the outcome.

        Raises:
            InvalidInputError: a policy fault (naming the line), or bad data.
            NotFoundError: no such version or dataset.
        """
        parsed_policy = policy if isinstance(policy, GatePolicy) else parse_policy(policy)
        candidate = self.registry.resolve(ref)
        loaded = self.load_data(data, allow_files=allow_files)  # loaded once: both models see exactly the same rows
        options = EvaluationOptions(
            target=target, task=task, slices=slices, sensitive=parsed_policy.fairness_attribute,  # type: ignore[arg-type]
            measure_latency=measure_latency or bool(parsed_policy.latency),
        )
        mine = self._evaluate(candidate, loaded, options, trusted=trusted)
        champion = self._champion(candidate, parsed_policy.champion_alias or "champion")
        theirs = None
        if champion is not None:
            theirs = self._evaluate(champion, loaded, replace(options, explain=False, measure_latency=False), trusted=trusted)
        checks = apply_policy(parsed_policy, mine.report, theirs.report if theirs else None, champion_ref=champion.uri if champion else None)
        record = GateRecord(
            0, candidate.name, candidate.version, loaded[1], parsed_policy.text, parsed_policy.content_hash,
            champion.version if champion else None, all(c.passed for c in checks), checks, mine.id,
            theirs.id if theirs else None, now_ms(), self.actor,
        )
        return self.store.add_gate_result(record, self._event("models.gate", candidate.uri, {"policy_hash": parsed_policy.content_hash}))

    def _champion(self, candidate: ModelVersion, alias: str) -> ModelVersion | None:
        try:
            found = self.registry.resolve(f"{candidate.name}@{alias}")
        except NotFoundError:
            return None
        return None if found.version == candidate.version else found

    def list_gates(self, ref: str, *, limit: int = 100) -> list[GateRecord]:
        """Stored gate outcomes of a version, newest first."""
        version = self.registry.resolve(ref)
        return self.store.list_gate_results(version.name, version.version, limit)

    def override(self, ref: str, reason: str) -> GateOverride:
        """Record an administrator's decision to promote despite the latest failed gate.

        Raises:
            PermissionDeniedError: the actor is not an administrator.
            InvalidInputError: the reason is shorter than 10 characters.
            ConflictError: the version has no failed gate outcome to override.
        """
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
            raise InvalidInputError(f"an override needs a written reason of at least {MIN_REASON} characters", field="reason")
        if len(reason) > 5_000:
            raise InvalidInputError("the reason is longer than 5,000 characters", field="reason")
        self._require_admin()
        version = self.registry.resolve(ref)
        latest = self.store.latest_gate_result(version.name, version.version)
        if latest is None or latest.passed:
            state = "has no gate outcome" if latest is None else "passed its latest gate"
            raise ConflictError(f"{version.name}:{version.version} {state}; there is nothing to override", field="gate")
        return self.store.add_override(latest.id, self.actor, reason.strip(), now_ms(), self._event("models.gate_override", version.uri))

    def _require_admin(self) -> None:
        if self.users is None:
            raise PermissionDeniedError("gate overrides need an administrator and none is configured", field="actor")
        try:
            user = self.users.get_user(self.actor)
        except NotFoundError:
            user = None
        if user is None or not user.is_admin or user.disabled:
            raise PermissionDeniedError(
                f"only an administrator may override a failed gate; {self.actor[:64]!r} is not one", field="actor"
            )

    # -- model cards ------------------------------------------------------------------------

    def set_card_fields(self, ref: str, fields: dict[str, str]) -> ModelVersion:
        """Fill in the owner's parts of the card (``intended_use``, ``limitations``, ...).

        Raises:
            InvalidInputError: a field the card does not have (the message lists them).
        """
        version = self.registry.resolve(ref)
        for key, value in fields.items():
            if key not in CARD_FIELDS:
                raise InvalidInputError(f"unknown card field {key[:40]!r}; fields: {', '.join(CARD_FIELDS)}", field="set")
            self.registry.set_version_tag(version.name, version.version, CARD_TAG_PREFIX + key, value)
        return self.registry.get_version(version.name, version.version)

    def card(self, ref: str) -> JSON:
        """The model card document of a version (render it with ``render_markdown``/``render_html``)."""
        version = self.registry.resolve(ref)
        model = self.registry.get_model(version.name)
        try:
            run = self.registry.runs.get_run(version.run_id)
        except NotFoundError:
            run = None
        evaluations = self.store.list_evaluations(version.name, version.version, 1)
        gates = self.store.list_gate_results(version.name, version.version, 1)
        history = [e for e in self.audit.list_audit(target=version.uri, limit=10_000) if e.target == version.uri]
        experiment_name, curves = self._run_context(run)
        return build_card(model, version, run, evaluations[0] if evaluations else None, gates[0] if gates else None, history,
                          experiment_name=experiment_name, metric_history=curves)

    def _run_context(self, run: Run | None) -> tuple[str | None, dict[str, list[tuple[float, float]]]]:
        """The run's experiment name and its metrics' histories (for the card's curves), when tracking can tell."""
        reader = self.registry.runs
        if run is None or not isinstance(reader, _TrackingReader):
            return None, {}
        try:
            name: str | None = reader.get_experiment(run.experiment_id).name
        except (NotFoundError, PermissionDeniedError):
            name = None
        curves: dict[str, list[tuple[float, float]]] = {}
        for key in sorted(run.metrics)[:_CURVES]:
            try:
                points = reader.get_metric_history(run.run_id, key)
            except (NotFoundError, PermissionDeniedError):
                continue
            if len(points) > 1:
                curves[key] = [(float(m.step), float(m.value)) for m in points[-_CURVE_POINTS:] if math.isfinite(m.value)]
        return name, curves


_CURVES = 12
_CURVE_POINTS = 2_000


@runtime_checkable
class _TrackingReader(Protocol):
    """What the card reads from tracking beyond the registry's run reader (the tracking service has it)."""

    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...


def _json_safe(value: Any) -> Any:  # Any: JSON-like values with numpy scalars
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
