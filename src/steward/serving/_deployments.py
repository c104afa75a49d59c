"""Deployment use cases: validate, resolve the versions, build the new plan, one store call each.

Every traffic change resolves its model reference to a version *now* (``fraud@champion``
becomes ``fraud:3`` and both are recorded), refuses a version that may not serve
(retired; without an approval where approval is required; failed gate), checks that it
loads, and stores the new plan with a history entry and an audit entry in one
transaction. Serving replicas follow the stored plan; the rollout controller calls
:meth:`DeploymentService.tick_rollout`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from steward.core.lifecycle import ModelState
from steward.core.names import check_name
from steward.core.rollout import (
    Decision,
    QualityObservation,
    RolloutAction,
    RolloutPolicy,
    decide,
    sum_stats,
)
from steward.core.traffic import LATENCY_BUCKETS_MS, TrafficPlan, Variant, VariantStats
from steward.errors import ConflictError, InvalidInputError, StewardError
from steward.registry import ModelVersion, PromotionGuard, RegistryService
from steward.tracking import AuditEvent, now_ms

from ._ports import Deployment, DeploymentFeatureStore, DeploymentStore, HistoryEntry, PlanChange
from ._rollout_policy import parse_rollout_policy

__all__ = ["DeploymentService", "ModelLoader", "QualitySource", "check_deployment_name"]

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_STICKY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,249}")
_MAX_REASON = 2000
_MAX_STATS = 10_000
_STATS_RETENTION_MS = 3_600_000


def check_deployment_name(name: object, *, field: str = "name") -> str:
    """Deployment names are lowercase ``[a-z0-9][a-z0-9-]{0,62}``.

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(name, str):
        check_name(name, field, kind="deployment name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError(
            "deployment name must be 1-63 characters of a-z, 0-9 or '-', starting with a letter or digit", field=field
        )
    return name


class QualitySource(Protocol):
    """Labelled quality of a deployment's variants (the prediction log joined with its labels).

    The hook for a rollout policy's ``quality`` bound; without one the bound is not judged.
    """

    def __call__(self, deployment: str, metric: str, since_ms: int) -> QualityObservation | None: ...


class ModelLoader(Protocol):
    """Loads a version to prove it can serve (``RegistryService.load`` in-process)."""

    def __call__(self, ref: str) -> object: ...


def _reason(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError("reason must be a string", field="reason")
    if len(value) > _MAX_REASON:
        raise InvalidInputError(f"reason is {len(value)} characters; the maximum is {_MAX_REASON}", field="reason")
    return value


def _percent(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) < 100:
        raise InvalidInputError(f"{field} must be a number between 0 and 100 (exclusive)", field=field)
    return float(value)


class DeploymentService:
    """Named deployments: create, change traffic (canary, A/B, shadow, blue-green,
    progressive rollout), promote, roll back, and the rollout controller's tick.

    Args:
        store: deployment storage.
        registry: resolves and checks model versions.
        actor: who is acting (recorded in the history and the audit trail).
        require_approval: a version without an approval may not take live traffic.
        gate_guard: refuses a version whose latest gate failed.
        loader: loads a version to check it can serve (None: not checked).
        rollout_interval: default seconds between controller looks.
        quality: labelled quality per variant, for policies with a ``quality`` bound.
        feature_store: where each deployment's declared features are kept (None: none may be declared).
        feature_check: checks ``view:feature`` references against the feature store and returns
            them canonical (the feature service's ``check_refs``).
    """

    def __init__(
        self,
        store: DeploymentStore,
        registry: RegistryService,
        actor: str,
        *,
        require_approval: bool = True,
        gate_guard: PromotionGuard | None = None,
        loader: ModelLoader | None = None,
        rollout_interval: float = 5.0,
        quality: QualitySource | None = None,
        feature_store: DeploymentFeatureStore | None = None,
        feature_check: Callable[[Sequence[str]], list[str]] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.actor = actor
        self.require_approval = require_approval
        self.gate_guard = gate_guard
        self.loader = loader
        self.rollout_interval = rollout_interval
        self.quality = quality
        self.feature_store = feature_store
        self.feature_check = feature_check

    def _event(self, action: str, name: str, details: dict[str, object] | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, f"deployments:/{name}", now_ms(), details or {})

    # -- versions ------------------------------------------------------------------------

    def _servable(self, ref: object, *, live: bool = True) -> tuple[ModelVersion, dict[str, object]]:
        """Resolve ``ref`` now and refuse a version that may not serve.

        A shadow (``live=False``) answers nobody, so only retirement refuses it: that is
        how an unapproved candidate is tried on real traffic.

        Raises:
            InvalidInputError: a malformed reference, or a version that fails to load.
            NotFoundError: no such model, version or alias.
            ConflictError: retired, unapproved where approval is required, or failed its gate.
        """
        if not isinstance(ref, str):
            raise InvalidInputError("model must be a reference such as fraud:3 or fraud@champion", field="model")
        version = self.registry.resolve(ref)
        self.registry.check_deployable(version)
        label = f"{version.name}:{version.version}"
        if live:
            if self.require_approval and version.state is ModelState.CANDIDATE and not version.approvals:
                raise ConflictError(
                    f"{label} has no approval and approval is required before it takes traffic; "
                    f"run: steward models approve {label} --comment ...",
                    field="model",
                )
            if self.gate_guard is not None:
                self.gate_guard.check_promotion(version.name, version.version)
        if self.loader is not None:
            try:
                self.loader(label)
            except Exception as exc:  # any failure to load means it cannot serve; the reason goes back
                detail = exc.message if isinstance(exc, StewardError) else f"{type(exc).__name__}: {exc}"
                raise InvalidInputError(f"{label} failed to load, so it cannot serve: {detail[:500]}", field="model") from exc
        return version, {"ref": ref, "resolved": label}

    def _project_of(self, version: ModelVersion) -> str:
        model = self.registry.get_model(version.name)
        project = getattr(model, "project", None)  # registered models gain a project; until then the name is it
        return str(project) if project else version.name

    # -- reading --------------------------------------------------------------------------

    def get_deployment(self, name: str) -> Deployment:
        """A deployment with its current plan.

        Raises:
            NotFoundError: no such deployment.
        """
        found = self.store.get_deployment(check_deployment_name(name))
        return self._with_features(found)

    def _with_features(self, deployment: Deployment) -> Deployment:
        if self.feature_store is None:
            return deployment
        features = self.feature_store.get_features(deployment.name)
        return dataclasses.replace(deployment, features=tuple(features)) if features else deployment

    def get_features(self, name: str) -> list[str]:
        """The ``view:feature`` references a deployment's requests are completed with (empty: none).

        Raises:
            NotFoundError: no such deployment.
        """
        return list(self.get_deployment(name).features)

    def _checked_features(self, features: object) -> list[str]:
        if features is None:
            return []
        if isinstance(features, str) or not isinstance(features, Sequence) or not all(isinstance(f, str) for f in features):
            raise InvalidInputError("features must be a list of view:feature references", field="features")
        if not features:
            return []
        if self.feature_store is None or self.feature_check is None:
            raise InvalidInputError("this store cannot look features up at serving time", field="features")
        if len(features) > 500:
            raise InvalidInputError("at most 500 features per deployment", field="features")
        return self.feature_check(list(features))

    def set_features(self, name: str, features: Sequence[str], *, reason: str | None = None) -> Deployment:
        """Declare the features a deployment's requests are completed with (an empty list: none).

        Serving replicas pick the change up with the plan (``STEWARD_SERVE_PLAN_INTERVAL``).

        Raises:
            NotFoundError: no such deployment, or an unknown feature view (named).
            InvalidInputError: a malformed reference or an unknown feature (named).
        """
        why = _reason(reason)
        current = self.get_deployment(name)
        checked = self._checked_features(features)
        assert self.feature_store is not None or not checked
        if self.feature_store is not None:
            event = self._event("deployments.features", current.name, {"features": checked, "reason": why})
            self.feature_store.set_features(current.name, checked, now_ms(), self.actor, event)
        return self.get_deployment(current.name)

    def get_plan(self, name: str) -> TrafficPlan:
        """The traffic plan serving replicas follow.

        Raises:
            NotFoundError: no such deployment.
        """
        return self.get_deployment(name).plan

    def list_deployments(self, *, project: str | None = None, projects: frozenset[str] | None = None) -> list[Deployment]:
        """Every deployment (of one ``project``; of ``projects`` only when given: those the caller may read), by name."""
        found = self.store.list_deployments(project, projects)
        if self.feature_store is None or not found:
            return found
        declared = self.feature_store.features_of([d.name for d in found])
        return [dataclasses.replace(d, features=tuple(declared[d.name])) if d.name in declared else d for d in found]

    def list_history(self, name: str, *, max_results: int = 100) -> list[HistoryEntry]:
        """Changes of a deployment, newest first (kept after it is deleted)."""
        check_deployment_name(name)
        if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= 10_000:
            raise InvalidInputError("max_results must be between 1 and 10000", field="max_results")
        found = self.store.list_history(name, max_results)
        if not found:
            self.get_deployment(name)  # NotFoundError for a name that never existed
        return found

    def deployment_project(self, name: str) -> str | None:
        """The project of a deployment, or None (the permission check resolves with it)."""
        return self.store.deployment_project(name)

    # -- changing traffic ------------------------------------------------------------------

    def create_deployment(
        self, name: str, model: str, *, reason: str | None = None, features: Sequence[str] | None = None
    ) -> Deployment:
        """Create a deployment serving ``model`` with all traffic.

        Args:
            features: ``view:feature`` references every request is completed with from the
                online feature store (requests then carry only entity keys and request-time inputs).

        Raises:
            InvalidInputError: a malformed name or reference; a version that fails to load; an
                unknown feature (named).
            NotFoundError: no such model, version or alias; an unknown feature view (named).
            AlreadyExistsError: the name is taken.
            ConflictError: the version may not serve (the message says why).
        """
        check_deployment_name(name)
        why = _reason(reason)
        declared = self._checked_features(features)
        version, refs = self._servable(model)
        label = f"{version.name}:{version.version}"
        change = PlanChange(
            "create", self.actor, why, (Variant("primary", label, 100.0),), None, "single", "serving", None, {"primary": refs}
        )
        created = self.store.create_deployment(name, self._project_of(version), change, now_ms(), self._event("deployments.create", name))
        if self.feature_store is not None:
            # always written: a deployment recreated under an old name never inherits its features
            audit = self._event("deployments.features", name, {"features": declared}) if declared else None
            self.feature_store.set_features(name, declared, now_ms(), self.actor, audit)
        return self._with_features(created)

    def delete_deployment(self, name: str, *, reason: str | None = None) -> None:
        """Delete a deployment (its history stays).

        Raises:
            NotFoundError: no such deployment.
        """
        check_deployment_name(name)
        why = _reason(reason)
        self.store.delete_deployment(name, self.actor, why, now_ms(), self._event("deployments.delete", name, {"reason": why}))
        if self.feature_store is not None:
            self.feature_store.set_features(name, [], now_ms(), self.actor, None)

    def _current_for_change(self, name: str) -> Deployment:
        current = self.get_deployment(name)
        if current.status == "rolling_out":
            raise ConflictError(
                f"deployment {name!r} is in a progressive rollout; promote or roll it back first", field="name"
            )
        return current

    def _apply(self, current: Deployment, change: PlanChange, *, lease_holder: str | None = None) -> Deployment:
        return self._with_features(self._change(current, change, lease_holder=lease_holder))

    def _change(self, current: Deployment, change: PlanChange, *, lease_holder: str | None = None) -> Deployment:
        return self.store.change_deployment(
            current.name, current.plan.revision, change, now_ms(), self._event(f"deployments.{change.action}", current.name),
            lease_holder=lease_holder,
        )

    def _primary(self, current: Deployment) -> Variant:
        primary = current.variant("primary")
        if primary is None:  # every stored plan has one; a guard for hand-edited rows
            raise ConflictError(f"deployment {current.name!r} has no primary variant", field="name")
        return primary

    def canary(self, name: str, model: str, *, percent: float, reason: str | None = None) -> Deployment:
        """Send ``percent`` of requests to ``model``, the rest to the primary.

        Raises:
            InvalidInputError: percent outside (0, 100); a bad reference; fails to load.
            ConflictError: the version may not serve, or a rollout is running.
        """
        share = _percent(percent, "percent")
        return self._split(name, model, share, None, "canary", reason)

    def ab(self, name: str, model: str, *, split: float, sticky_key: str | None = None, reason: str | None = None) -> Deployment:
        """A/B test: ``split`` percent to ``model``; with ``sticky_key`` (a request field) the
        same key value always reaches the same variant.

        Raises:
            InvalidInputError: split outside (0, 100), a malformed sticky key or reference.
            ConflictError: the version may not serve, or a rollout is running.
        """
        share = _percent(split, "split")
        if sticky_key is not None and (not isinstance(sticky_key, str) or not _STICKY.fullmatch(sticky_key)):
            raise InvalidInputError("sticky_key must be a field name (letters, digits, _ . -)", field="sticky_key")
        return self._split(name, model, share, sticky_key, "ab", reason)

    def _split(self, name: str, model: str, share: float, sticky: str | None, mode: str, reason: str | None) -> Deployment:
        why = _reason(reason)
        current = self._current_for_change(check_deployment_name(name))
        version, refs = self._servable(model)
        primary = self._primary(current)
        variants = (Variant("primary", primary.model, 100.0 - share), Variant("candidate", f"{version.name}:{version.version}", share))
        details: dict[str, object] = {"candidate": refs, "percent": share}
        if sticky:
            details["sticky_key"] = sticky
        return self._apply(current, PlanChange(mode, self.actor, why, variants, sticky, mode, "serving", None, details))

    def shadow(self, name: str, model: str, *, reason: str | None = None) -> Deployment:
        """Mirror every request to ``model``; its answers are logged, never returned.

        Raises:
            ConflictError: the version is retired, or a rollout is running.
        """
        why = _reason(reason)
        current = self._current_for_change(check_deployment_name(name))
        version, refs = self._servable(model, live=False)
        primary = self._primary(current)
        variants = (Variant("primary", primary.model, 100.0), Variant("shadow", f"{version.name}:{version.version}", 0.0, shadow=True))
        return self._apply(current, PlanChange("shadow", self.actor, why, variants, None, "shadow", "serving", None, {"shadow": refs}))

    def switch(self, name: str, model: str, *, reason: str | None = None) -> Deployment:
        """Blue-green: ``model`` takes all traffic at once; the old primary stays as
        ``previous`` (weight 0, kept loaded) for an instant :meth:`rollback`.

        The version is loaded here first; serving replicas smoke-test it before switching.

        Raises:
            InvalidInputError: it fails to load (the deployment stays as it was).
            ConflictError: the version may not serve, or a rollout is running.
        """
        why = _reason(reason)
        current = self._current_for_change(check_deployment_name(name))
        version, refs = self._servable(model)
        old = self._primary(current)
        variants = (Variant("primary", f"{version.name}:{version.version}", 100.0), Variant("previous", old.model, 0.0))
        return self._apply(current, PlanChange("switch", self.actor, why, variants, None, "blue_green", "serving", None, {"primary": refs, "previous": old.model}))

    def promote(self, name: str, *, reason: str | None = None) -> Deployment:
        """The candidate (or else the shadow) becomes the primary with all traffic; the old
        primary stays as ``previous``. Ends a running rollout.

        Raises:
            ConflictError: there is no candidate or shadow to promote.
        """
        why = _reason(reason)
        current = self.get_deployment(name)
        return self._apply(current, self._promotion(current, self.actor, "promote", why, {}))

    def _promotion(self, current: Deployment, actor: str, action: str, why: str, details: dict[str, object]) -> PlanChange:
        chosen = current.variant("candidate") or current.variant("shadow")
        if chosen is None:
            raise ConflictError(f"deployment {current.name!r} has no candidate or shadow to promote", field="name")
        old = self._primary(current)
        variants = (Variant("primary", chosen.model, 100.0), Variant("previous", old.model, 0.0))
        rollout = _ended(current.rollout, "promoted", details.get("evidence"))
        return PlanChange(action, actor, why, variants, None, "single", "serving", rollout, {"promoted": chosen.model, "previous": old.model, **details})

    def rollback(self, name: str, *, reason: str | None = None) -> Deployment:
        """Return all traffic to the primary (dropping a candidate or shadow); with neither,
        the ``previous`` version of a switch or promotion becomes the primary again.

        Raises:
            ConflictError: there is nothing to roll back to.
        """
        why = _reason(reason)
        current = self.get_deployment(name)
        return self._apply(current, self._rollback(current, self.actor, "rollback", why, {}))

    def _rollback(self, current: Deployment, actor: str, action: str, why: str, details: dict[str, object]) -> PlanChange:
        primary = self._primary(current)
        previous = current.variant("previous")
        dropped = [v.model for v in current.plan.variants if v.name in ("candidate", "shadow")]
        status = "rolled_back" if action == "rollout.rollback" else "serving"
        rollout = _ended(current.rollout, "rolled_back", details.get("evidence"))
        if dropped:
            variants: tuple[Variant, ...] = (Variant("primary", primary.model, 100.0),)
            if previous is not None:
                variants += (previous,)
            return PlanChange(action, actor, why, variants, None, "single", status, rollout, {"dropped": dropped, **details})
        if previous is not None:
            return PlanChange(
                action, actor, why, (Variant("primary", previous.model, 100.0),), None, "single", status, rollout,
                {"restored": previous.model, "dropped": [primary.model], **details},
            )
        raise ConflictError(f"deployment {current.name!r} has nothing to roll back to", field="name")

    # -- progressive rollout ------------------------------------------------------------------

    def start_rollout(self, name: str, model: str, policy: str | RolloutPolicy, *, reason: str | None = None) -> Deployment:
        """Start a progressive rollout of ``model``: a canary at the policy's first step,
        advanced or rolled back by the controller.

        Args:
            policy: the YAML text of a rollout policy, or a parsed one.

        Raises:
            InvalidInputError: a policy fault (naming its line), a bad reference, fails to load.
            ConflictError: the version may not serve, or a rollout is already running.
        """
        parsed = parse_rollout_policy(policy) if isinstance(policy, str) else policy
        why = _reason(reason)
        current = self._current_for_change(check_deployment_name(name))
        version, refs = self._servable(model)
        label = f"{version.name}:{version.version}"
        first = parsed.steps[0]
        primary = self._primary(current)
        now = now_ms()
        rollout: dict[str, Any] = {  # Any: JSON
            "state": "running",
            "candidate": label,
            "primary": primary.model,
            "steps": list(parsed.steps),
            "step": 0,
            "step_started_at": now,
            "started_at": now,
            "started_by": self.actor,
            "interval_s": parsed.interval_s or self.rollout_interval,
            "policy": _policy_summary(parsed),
            "policy_text": parsed.text,
            "last": None,
        }
        variants = (Variant("primary", primary.model, 100.0 - first), Variant("candidate", label, first))
        change = PlanChange("rollout.start", self.actor, why, variants, None, "rollout", "rolling_out", rollout, {"candidate": refs, "percent": first})
        return self._apply(current, change)

    def _policy(self, rollout: dict[str, Any]) -> RolloutPolicy:  # Any: JSON
        text = str(rollout.get("policy_text") or "")
        if text:
            return parse_rollout_policy(text)
        return RolloutPolicy(steps=tuple(float(s) for s in rollout["steps"]))

    def evaluate_rollout(self, name: str, *, now: int | None = None) -> Decision | None:
        """What the controller would decide now (None: no rollout is running)."""
        current = self.get_deployment(name)
        return self._decide(current, now if now is not None else now_ms())

    def _decide(self, current: Deployment, now: int) -> Decision | None:
        rollout = current.rollout
        if current.status != "rolling_out" or not rollout or rollout.get("state") != "running":
            return None
        stats = self.store.stats_since(current.name, current.plan.revision, int(rollout["step_started_at"]))
        policy = self._policy(rollout)
        quality = None
        if policy.quality is not None and self.quality is not None:
            quality = self.quality(current.name, policy.quality.metric, int(rollout["step_started_at"]))
        return decide(
            policy,
            step_index=int(rollout["step"]),
            step_started_ms=int(rollout["step_started_at"]),
            now_ms=now,
            primary=sum_stats(stats, "primary"),
            candidate=sum_stats(stats, "candidate"),
            quality=quality,
        )

    def rollout_status(self, name: str) -> dict[str, object]:
        """The rollout of a deployment: its state, step and the evidence as of now."""
        current = self.get_deployment(name)
        decision = self._decide(current, now_ms())
        document: dict[str, object] = {
            "deployment": current.name,
            "status": current.status,
            "revision": current.plan.revision,
            "rollout": current.to_dict()["rollout"],
        }
        if decision is not None:
            document["next"] = {"action": decision.action.value, "reason": decision.reason, "evidence": decision.evidence}
        return document

    def tick_rollout(self, name: str, holder: str, *, now: int | None = None) -> Decision | None:
        """One look of the controller holding the lease: advance, promote, roll back or hold.

        The change is applied only if the plan is unchanged since it was read and
        ``holder`` still holds the lease (one transaction), so two controllers never both act.

        Returns:
            The decision taken, or None when no rollout is running.
        """
        current = self.get_deployment(name)
        at = now if now is not None else now_ms()
        decision = self._decide(current, at)
        if decision is None:
            # no rollout reads these windows: keep an hour of them, for people looking
            self.store.prune_stats(name, current.plan.revision, at - _STATS_RETENTION_MS)
            return None
        if decision.action is RolloutAction.HOLD:
            return decision
        assert current.rollout is not None  # _decide returned a decision
        details: dict[str, object] = {"evidence": decision.evidence, "controller": holder}
        if decision.action is RolloutAction.ROLLBACK:
            change = self._rollback(current, self.actor, "rollout.rollback", decision.reason, details)
        elif decision.action is RolloutAction.PROMOTE:
            change = self._promotion(current, self.actor, "rollout.promote", decision.reason, details)
        else:
            change = self._advance(current, decision, at, details)
        self._apply(current, change, lease_holder=holder)
        return decision

    def _advance(self, current: Deployment, decision: Decision, at: int, details: dict[str, object]) -> PlanChange:
        assert current.rollout is not None and decision.next_weight is not None
        rollout = {**current.rollout, "step": int(current.rollout["step"]) + 1, "step_started_at": at, "last": decision.evidence}
        share = decision.next_weight
        primary, candidate = self._primary(current), current.variant("candidate")
        assert candidate is not None  # a running rollout always has its candidate
        variants = (Variant("primary", primary.model, 100.0 - share), Variant("candidate", candidate.model, share))
        return PlanChange("rollout.advance", self.actor, decision.reason, variants, None, "rollout", "rolling_out", rollout, {**details, "percent": share})

    # -- stats from serving replicas ----------------------------------------------------------

    def stats_since(self, name: str, since_ms: int, *, revision: int | None = None) -> list[VariantStats]:
        """What the serving replicas reported for a deployment since ``since_ms``, per variant
        and window (oldest first): the live traffic the UI draws and the controller reads.

        Args:
            name: the deployment.
            since_ms: windows starting at or after this time (ms since the epoch).
            revision: the plan revision the reports are for (default: the current plan's;
                reports of an older plan describe traffic that no longer flows).

        Raises:
            NotFoundError: no such deployment.
            InvalidInputError: a negative time or revision.
        """
        if isinstance(since_ms, bool) or not isinstance(since_ms, int) or since_ms < 0:
            raise InvalidInputError("since_ms must be a non-negative integer", field="since_ms")
        if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int) or revision < 0):
            raise InvalidInputError("revision must be a non-negative integer", field="revision")
        current = self.get_deployment(name)
        return self.store.stats_since(current.name, current.plan.revision if revision is None else revision, since_ms)

    def record_stats(self, stats: Sequence[VariantStats]) -> None:
        """Store what serving replicas saw per variant and window (the controller sums them).

        Raises:
            InvalidInputError: a malformed report (negative counts, a wrong histogram length,
                a bad deployment name), naming the field.
        """
        if len(stats) > _MAX_STATS:
            raise InvalidInputError(f"at most {_MAX_STATS} stats windows per report", field="stats")
        for s in stats:
            check_deployment_name(s.deployment, field="deployment")
            if min(s.requests, s.errors, s.revision, s.window_start_ms) < 0 or s.errors > s.requests:
                raise InvalidInputError("stats counts must be non-negative and errors at most requests", field="stats")
            if s.window_end_ms < s.window_start_ms:
                raise InvalidInputError("a stats window must end after it starts", field="window_end_ms")
            if len(s.latency_counts) != len(LATENCY_BUCKETS_MS) or min(s.latency_counts, default=0) < 0:
                raise InvalidInputError(f"latency_counts must hold {len(LATENCY_BUCKETS_MS)} non-negative counts", field="latency_counts")
            if not s.variant or len(s.variant) > 40 or len(s.model) > 200:
                raise InvalidInputError("variant and model must be short names", field="variant")
            if not (s.cpu_ms >= 0 and s.rows >= 0) or s.cpu_ms == float("inf"):
                raise InvalidInputError("cpu_ms and rows must be finite and non-negative", field="cpu_ms")
        self.store.record_stats(list(stats))


def _ended(rollout: dict[str, Any] | None, state: str, evidence: object) -> dict[str, Any] | None:  # Any: JSON
    """The rollout record after it ends (None when there was none running)."""
    if not rollout or rollout.get("state") != "running":
        return rollout
    return {**rollout, "state": state, "ended_at": now_ms(), "last": evidence if evidence is not None else rollout.get("last")}


def _policy_summary(policy: RolloutPolicy) -> dict[str, object]:
    return {
        "steps": list(policy.steps),
        "min_requests": policy.min_requests,
        "min_duration_ms": policy.min_duration_ms,
        "max_error_rate_ratio": policy.max_error_rate_ratio,
        "max_error_rate_delta": policy.max_error_rate_delta,
        "max_p99_ratio": policy.max_p99_ratio,
        "max_p99_delta_ms": policy.max_p99_delta_ms,
        "max_p99_ms": policy.max_p99_ms,
        "rollback_min_requests": policy.rollback_min_requests,
    }
