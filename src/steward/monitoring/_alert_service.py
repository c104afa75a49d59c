"""The alert service: apply observations to rules, store each rule's state, notify and act.

:meth:`AlertService.evaluate` takes a rule set and one window's metric values (a monitor's
results, or anything else that computes them) and, per rule whose metric is observed,
applies :func:`steward.core.alerts.step` to the stored state. The new state, its events
and the audit entries of a firing or a resolution are stored in one transaction; then the
notifications go out (webhooks on the background pool) and a firing rule's actions run:
the rollback at once, the retraining command on the background pool. Each action's
outcome is stored in the rule's history and audited with the evidence that fired it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from steward.core.alerts import AlertEvent, AlertRule, AlertState, EventKind, Observation, step
from steward.errors import InvalidInputError, NotFoundError
from steward.tracking import AuditEvent

from ._actions import ActionOutcome, register_window, retrain_env, rollback, run_retrain
from ._alert_ports import AlertRecord, AlertStore, StoredEvent
from ._alert_rules import RuleSet, column_faults
from ._notify import AlertGauges, Delivery, Notifier

if TYPE_CHECKING:
    from steward.data import DataService
    from steward.predictions import PredictionService
    from steward.serving._deployments import DeploymentService

__all__ = ["AlertRuntime", "AlertService", "Evaluation", "RuleOutcome"]

_Work = Future[Delivery] | Future[ActionOutcome]
_AUDITED = {EventKind.FIRED: "alerts.fire", EventKind.RESOLVED: "alerts.resolve"}


def _now_ms() -> int:
    return int(time.time() * 1000)


class AlertRuntime:
    """What alerting keeps for the life of a process: the Prometheus gauges the server's
    ``/metrics`` renders and the pool that delivers webhooks and runs retraining commands."""

    def __init__(self) -> None:
        self.gauges = AlertGauges()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="steward-alerts")
            return self._pool

    def close(self) -> None:
        """Finish the deliveries and commands in flight (each bounded by its own time limit)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule's step: where it was, where it is, what happened, what its actions did."""

    rule: str
    previous: AlertState
    state: AlertState
    events: tuple[AlertEvent, ...]
    actions: tuple[ActionOutcome, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule, "previous": self.previous.status.value, "status": self.state.status.value,
            "since_ms": self.state.since_ms, "value": self.state.value,
            "events": [{"kind": e.kind.value, "at_ms": e.at_ms, "evidence": e.evidence} for e in self.events],
            "actions": [{"action": a.action, "ok": a.ok, "details": a.details} for a in self.actions],
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of one :meth:`AlertService.evaluate`; ``background`` are the webhook
    deliveries and retraining commands still running (the caller need not wait)."""

    outcomes: tuple[RuleOutcome, ...]
    background: tuple[_Work, ...] = field(default=())

    def wait(self, timeout: float | None = None) -> list[Delivery | ActionOutcome]:
        """Wait for the background work; its results (:class:`Delivery`, :class:`ActionOutcome`)."""
        return [f.result(timeout=timeout) for f in self.background]


class AlertService:
    """Alert rules' state, notifications and actions, acting as ``actor``.

    Args:
        store: alert states and history.
        actor: who evaluates (recorded in the audit trail).
        runtime: the process's gauges and background pool.
        secret: the value of a stored secret by name (webhook signing keys).
        deployments, predictions, data: the services actions use, built on first need.
        base_delay_s: the first webhook retry's wait.
    """

    def __init__(
        self,
        store: AlertStore,
        actor: str,
        runtime: AlertRuntime,
        *,
        secret: Callable[[str], str],
        deployments: Callable[[], DeploymentService],
        predictions: Callable[[], PredictionService],
        data: Callable[[], DataService],
        base_delay_s: float = 0.5,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.store = store
        self.actor = actor
        self.runtime = runtime
        self.secret = secret
        self.deployments = deployments
        self.predictions = predictions
        self.data = data
        self.base_delay_s = base_delay_s
        self.clock = clock
        self.contacts: Callable[[str], dict[str, str]] | None = None  # set by wiring: whom an alert names

    # -- reading ---------------------------------------------------------------------------

    def list_alerts(self) -> list[AlertRecord]:
        """Every rule's stored state, by name."""
        return self.store.list_alerts()

    def get_alert(self, name: str, *, max_events: int = 50) -> tuple[AlertRecord, list[StoredEvent]]:
        """A rule's state and its newest events.

        Raises:
            NotFoundError: no rule of that name was ever evaluated.
        """
        record = self.store.get_alert(name)
        if record is None:
            raise NotFoundError(f"alert rule {name[:63]!r} has never been evaluated", field="name")
        return record, self.store.list_events(name, max_results=max_events)

    def render_gauges(self) -> bytes:
        """The Prometheus text of ``steward_alert_firing``, brought up to date from the stored
        states first: rules evaluated by another process (a CLI, another replica) show too."""
        gauges = self.runtime.gauges
        for record in self.store.list_alerts():
            gauges.set_named(record.rule, record.severity, record.state.status)
        return gauges.render()

    # -- evaluating ------------------------------------------------------------------------

    def _rules_for(self, rule_set: RuleSet, metric: str, deployment: str | None) -> list[AlertRule]:
        return [r for r in rule_set.rules if r.metric == metric and (deployment is None or r.deployment in (None, deployment))]

    def dry_run(self, rule_set: RuleSet, metric: str, value: float | None, *, sample: int | None = None) -> list[RuleOutcome]:
        """What each rule on ``metric`` would do with ``value`` now, from its stored state;
        nothing is stored, sent or done.

        Raises:
            InvalidInputError: no rule watches ``metric``.
        """
        rules = self._rules_for(rule_set, metric, None)
        if not rules:
            watched = sorted({r.metric for r in rule_set.rules})
            raise InvalidInputError(f"no rule watches {metric[:60]!r}; the rules watch: {', '.join(watched)}", field="metric")
        now = self.clock()
        outcomes = []
        for rule in rules:
            stored = self.store.get_alert(rule.name)
            previous = stored.state if stored is not None else AlertState()
            state, events = step(rule, previous, Observation(now, value, sample if sample is not None else rule.min_sample))
            outcomes.append(RuleOutcome(rule.name, previous, state, events))
        return outcomes

    def evaluate(
        self, rule_set: RuleSet, observations: Mapping[str, Observation], *, deployment: str | None = None,
        columns: Iterable[str] | None = None,
    ) -> Evaluation:
        """Apply one window's metric values (``{metric: observation}``) to the rules watching
        them (with ``deployment``, only its rules and rules without one).

        Args:
            columns: the monitored data's columns; a rule on a column not among them is refused.

        Returns:
            Every affected rule's step, and the background work started.

        Raises:
            InvalidInputError: a rule names a column the data does not have (naming its line).
        """
        if columns is not None:
            faults = column_faults(rule_set, columns)
            if faults:
                line, message = faults[0]
                more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
                raise InvalidInputError(f"alert rules line {line}: {message}{more}", field="rules")
        outcomes: list[RuleOutcome] = []
        background: list[_Work] = []
        for rule in rule_set.rules:
            obs = observations.get(rule.metric)
            if obs is None or (deployment is not None and rule.deployment not in (None, deployment)):
                continue
            outcome, started = self._apply(rule_set, rule, obs)
            outcomes.append(outcome)
            background += started
        return Evaluation(tuple(outcomes), tuple(background))

    def _apply(self, rule_set: RuleSet, rule: AlertRule, obs: Observation) -> tuple[RuleOutcome, list[_Work]]:
        stored = self.store.get_alert(rule.name)
        previous = stored.state if stored is not None else AlertState()
        state, events = step(rule, previous, obs)
        now = self.clock()
        audits = [AuditEvent(self.actor, _AUDITED[e.kind], f"alerts:/{rule.name}", now, {"event": e.kind.value, **e.evidence})
                  for e in events if e.kind in _AUDITED]
        self.store.save_alert(rule, state, events, audits, now)
        self.runtime.gauges.set(rule, state.status)
        background: list[_Work] = []
        notifier = Notifier(rule_set.webhooks, self.secret, self.runtime.gauges, on_delivery=self._record_delivery,
                            base_delay_s=self.base_delay_s, pool=self.runtime.pool, contacts=self.contacts)
        actions: list[ActionOutcome] = []
        for event in events:
            if event.kind in _AUDITED:
                background.extend(notifier.notify(rule, event, state.status))
            if event.kind is EventKind.FIRED:
                if "rollback" in rule.actions:
                    actions.append(self._record_action(rule, event, rollback(self.deployments(), rule, event)))
                if "retrain" in rule.actions and rule_set.retrain is not None:
                    background.append(self.runtime.pool.submit(self._retrain, rule_set, rule, event))
        return RuleOutcome(rule.name, previous, state, events, tuple(actions)), background

    def _record_delivery(self, rule: AlertRule, event: AlertEvent, delivery: Delivery) -> None:
        kind = "notified" if delivery.ok else "notify_failed"
        self.store.add_event(rule.name, kind, event.at_ms, {"event": event.kind.value, **delivery.to_dict()}, None, self.clock())

    def _record_action(self, rule: AlertRule, event: AlertEvent, outcome: ActionOutcome) -> ActionOutcome:
        evidence = {"ok": outcome.ok, **outcome.details, "evidence": event.evidence}
        audit = AuditEvent(self.actor, f"alerts.action.{outcome.action}", f"alerts:/{rule.name}", self.clock(), evidence)
        self.store.add_event(rule.name, f"action.{outcome.action}", event.at_ms, evidence, audit, self.clock())
        return outcome

    def _retrain(self, rule_set: RuleSet, rule: AlertRule, event: AlertEvent) -> ActionOutcome:
        command = rule_set.retrain
        assert command is not None
        start = int(str(event.evidence.get("window_start_ms")))
        end = int(str(event.evidence.get("window_end_ms")))
        dataset: str | None = None
        why: str | None = "register_window is off"
        try:
            if command.register_window:
                dataset, why = register_window(self.predictions(), self.data(), rule, start, end)
            outcome = run_retrain(command, retrain_env(rule, start, end, dataset))
        except Exception as exc:  # noqa: BLE001 - on the background pool: a failure must be recorded, not lost in a future
            outcome = ActionOutcome("retrain", False, {"argv": list(command.argv), "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
        details = {**outcome.details, "dataset": dataset} if dataset else {**outcome.details, "dataset": None, "dataset_not_registered": why}
        return self._record_action(rule, event, ActionOutcome(outcome.action, outcome.ok, details))
