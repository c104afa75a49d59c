"""Triggers: a cron schedule, a new dataset version, an alert firing or a registry event
starts a pipeline with the event's input passed as a parameter.

Each event has a key (``cron:<tick>``, ``dataset:<name>:<version>``, ``alert:<rule>:<event id>``,
``registry:<model>:<event>:<id>``); a start is stored unique per (trigger, key) and audited in
the same transaction, so an event seen twice (two server replicas, a retried tick) starts
one pipeline. :meth:`TriggerService.tick` looks at every trigger under its lease and claims
the new events' starts; :meth:`TriggerService.run_start` runs one.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from steward.core.names import check_name
from steward.core.permissions import new_project
from steward.errors import InvalidInputError, NotFoundError, StewardError
from steward.tracking import AuditEvent, now_ms

from ._ports import JSON, KINDS, PipelineLauncher, Trigger, TriggerStart, TriggerStore

__all__ = ["REGISTRY_EVENTS", "RETRAIN_PREFIX", "TriggerService", "WindowRegistrar", "next_tick", "parse_cron"]

log = logging.getLogger("steward.triggers")

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
REGISTRY_EVENTS = ("version_created", "approved", "alias_moved")
_DEFAULT_INPUT = {"cron": None, "dataset": "data", "alert": "data", "registry": "model"}
_MAX_PARAMS = 50

# (deployment, window start ms, window end ms, dataset name, project) -> "name:version"
WindowRegistrar = Callable[[str, int, int, str, str], str]


def _check_trigger_name(name: object) -> str:
    if isinstance(name, str):
        check_name(name, "name", kind="trigger name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError("trigger name must be 1-63 characters of a-z, 0-9 or '-', starting with a letter or digit", field="name")
    return name


def parse_cron(text: str) -> str:
    """A 5-field cron expression (minute hour day month weekday), normalised.

    Raises:
        InvalidInputError: anything else (field ``schedule``).
    """
    from croniter import croniter

    fields = text.split()
    if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
        raise InvalidInputError(f"schedule {text[:100]!r} is not a 5-field cron expression such as '0 3 * * *'", field="schedule")
    return " ".join(fields)


def next_tick(schedule: str, after_ms: int) -> int:
    """The first tick of ``schedule`` strictly after ``after_ms`` (epoch ms, UTC)."""
    from croniter import croniter

    following = croniter(schedule, datetime.fromtimestamp(after_ms / 1000, tz=UTC)).get_next(datetime)
    return int(following.timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _check_params(params: Mapping[str, object] | None) -> JSON:
    values = dict(params or {})
    if len(values) > _MAX_PARAMS:
        raise InvalidInputError(f"at most {_MAX_PARAMS} params", field="params")
    for key, value in values.items():
        if not isinstance(key, str) or not _PARAM.fullmatch(key):
            raise InvalidInputError(f"param names are Python names, got {str(key)[:40]!r}", field="params")
        if not (value is None or isinstance(value, (str, int, float, bool))):
            raise InvalidInputError(f"param {key} must be a string, number or boolean", field="params")
    return values


RETRAIN_PREFIX = "retrain:"
# what a `retrain:<model>` trigger's params may set (steward.yaml's retrain keys, scalars only)
RETRAIN_PARAMS = frozenset({"project_file", "train", "data", "eval_data", "target", "suite", "gate", "deployment", "rollout", "timeout"})


def _retrain_spec(pipeline: str, params: Mapping[str, object] | None, input_param: str | None, kind: str) -> JSON:
    """``retrain:<model>``: the standard lifecycle pipeline (``steward retrain <model>``) instead
    of a pipeline file; its params are the retraining's options (``project_file``: the
    ``steward.yaml`` holding ``retrain.<model>``, default the one where the triggers run)."""
    model = pipeline[len(RETRAIN_PREFIX):]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", model):
        raise InvalidInputError(f"retrain:<model> names a registered model, got {pipeline[:100]!r}", field="pipeline")
    values = _check_params(params)
    chosen = _DEFAULT_INPUT[kind] if input_param == "" else input_param
    unknown = sorted((set(values) | ({chosen} if chosen else set())) - RETRAIN_PARAMS)
    if unknown:
        raise InvalidInputError(
            f"retrain:{model} takes the params {', '.join(sorted(RETRAIN_PARAMS))}; not {', '.join(unknown)[:100]}", field="params"
        )
    file = values.get("project_file")
    if file is not None:
        found = Path(str(file))
        if found.suffix not in (".yaml", ".yml") or not found.is_file():
            raise NotFoundError(f"no project file {str(file)[:200]!r} where the triggers run", field="params")
        values["project_file"] = str(found.resolve())
    return {"file": pipeline, "retrain": model, "name": None, "params": values, "input": chosen}


class TriggerService:
    """Triggers of pipelines and their starts.

    Args:
        store: triggers, starts, leases and the events they watch.
        actor: who acts (audited).
        launcher: runs a pipeline as a given user (the pipelines stage).
        register_window: registers an alert's production window, labels joined, as a dataset
            version (the predictions and data stages).
    """

    def __init__(self, store: TriggerStore, actor: str, launcher: PipelineLauncher, register_window: WindowRegistrar) -> None:
        self.store = store
        self.actor = actor
        self.launcher = launcher
        self.register_window = register_window

    def _audit(self, action: str, name: str, details: JSON | None = None, at: int | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, f"triggers:/{name}", now_ms() if at is None else at, details or {})

    # -- definitions -----------------------------------------------------------------------

    def create_trigger(
        self,
        name: str,
        kind: str,
        pipeline: str,
        *,
        pipeline_name: str | None = None,
        params: Mapping[str, object] | None = None,
        input_param: str | None = "",
        schedule: str | None = None,
        timezone: str = "UTC",
        dataset: str | None = None,
        alert: str | None = None,
        model: str | None = None,
        events: Sequence[str] | None = None,
        project: str | None = None,
        monitor: str | None = None,
        now: int | None = None,
    ) -> Trigger:
        """Create a trigger that starts ``pipeline`` (a Python file) on each new event of its kind.

        Args:
            kind: ``cron`` (``schedule``), ``dataset`` (``dataset``: each new version),
                ``alert`` (``alert``: each firing of that rule; or ``monitor``: each window of
                that monitor whose status is drift or concept drift), ``registry`` (``model`` and
                ``events``: ``version_created``, ``approved``, ``alias_moved``).
            input_param: the pipeline parameter receiving the event's input (a dataset or
                model version reference, or the cron tick); ``""``: the kind's default
                (``data``, ``model``, none for cron); None: nothing passed.
            project: the trigger's project (default: its name).

        Raises:
            InvalidInputError: a bad name, kind, schedule, timezone, param or event (naming the field).
            NotFoundError: no such pipeline file, dataset, monitor or model.
            AlreadyExistsError: the name is taken.
        """
        _check_trigger_name(name)
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}, got {str(kind)[:20]!r}", field="kind")
        at = now_ms() if now is None else now
        spec = self._pipeline_spec(pipeline, pipeline_name, params, input_param, kind)
        source: JSON
        cursor: JSON = {}
        next_fire: int | None = None
        if kind == "cron":
            if not schedule:
                raise InvalidInputError("a cron trigger needs a schedule", field="schedule")
            if timezone.upper() != "UTC":
                raise InvalidInputError(f"timezone must be UTC, got {timezone[:40]!r}", field="timezone")
            source = {"schedule": parse_cron(schedule), "timezone": "UTC"}
            next_fire = next_tick(source["schedule"], at)
        elif kind == "dataset":
            if not dataset:
                raise InvalidInputError("a dataset trigger names its dataset", field="dataset")
            versions = self.store.dataset_versions(dataset, 0)
            if versions is None:
                raise NotFoundError(f"no dataset named {dataset[:200]!r}", field="dataset")
            source, cursor = {"dataset": dataset}, {"version": max(versions, default=0)}
        elif kind == "alert" and monitor is not None and alert is None:
            drifted = self.store.monitor_firings(monitor, 0)
            if drifted is None:
                raise NotFoundError(f"no monitor named {monitor[:63]!r}", field="monitor")
            source, cursor = {"monitor": monitor}, {"result_id": max((f.id for f in drifted), default=0)}
        elif kind == "alert":
            if not alert or not _NAME.fullmatch(alert) or monitor is not None:
                raise InvalidInputError(
                    "an alert trigger names an alert rule (lowercase a-z, 0-9, '-') or a monitor, not both", field="alert"
                )
            seen = self.store.alert_firings(alert, 0)
            source, cursor = {"alert": alert}, {"event_id": max((f.id for f in seen), default=0)}
        else:
            if not model:
                raise InvalidInputError("a registry trigger names its model", field="model")
            chosen = tuple(events or REGISTRY_EVENTS)
            unknown = [e for e in chosen if e not in REGISTRY_EVENTS]
            if unknown:
                raise InvalidInputError(f"unknown event {unknown[0][:40]!r}; events: {', '.join(REGISTRY_EVENTS)}", field="events")
            versions = self.store.model_versions(model, 0)
            if versions is None:
                raise NotFoundError(f"no registered model named {model[:64]!r}", field="model")
            source = {"model": model, "events": sorted(set(chosen), key=REGISTRY_EVENTS.index)}
            cursor = {"version": max(versions, default=0), "audit_entry": self.store.last_audit_entry()}
        if spec.get("retrain"):  # the lifecycle's timeline names what started it
            spec["trigger"] = f"{kind}:{source.get('alert') or source.get('monitor') or source.get('dataset') or source.get('model') or name}"
        trigger = Trigger(name, new_project(name, project), kind, source, spec, cursor, next_fire, at, self.actor)
        return self.store.create_trigger(trigger, self._audit("triggers.create", name, {"kind": kind, **source, "project": trigger.project}, at))

    def _pipeline_spec(
        self, pipeline: str, pipeline_name: str | None, params: Mapping[str, object] | None, input_param: str | None, kind: str
    ) -> JSON:
        if isinstance(pipeline, str) and pipeline.startswith(RETRAIN_PREFIX):
            return _retrain_spec(pipeline, params, input_param, kind)
        if not isinstance(pipeline, str) or not pipeline.strip() or len(pipeline) > 1000:
            raise InvalidInputError("pipeline is the path of a Python file defining a @steward.pipeline", field="pipeline")
        check_name(pipeline, "pipeline", kind="pipeline path")
        file = Path(pipeline)
        if file.suffix != ".py":
            raise InvalidInputError(f"pipeline must be a .py file, got {pipeline[:100]!r}", field="pipeline")
        try:
            found = file.is_file()
            resolved = str(file.resolve())
        except (OSError, ValueError):  # a name too long for the file system, a NUL byte
            found = False
        if not found:
            raise NotFoundError(f"no pipeline file {pipeline[:200]!r} where the triggers run", field="pipeline")
        if pipeline_name is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", pipeline_name):
            raise InvalidInputError("a pipeline name is lowercase [a-z0-9_-], at most 63", field="pipeline_name")
        chosen = _DEFAULT_INPUT[kind] if input_param == "" else input_param
        if chosen is not None and not _PARAM.fullmatch(chosen):
            raise InvalidInputError(f"input must be a Python name, got {chosen[:40]!r}", field="input")
        return {"file": resolved, "name": pipeline_name, "params": _check_params(params), "input": chosen}

    def get_trigger(self, name: str) -> Trigger:
        """The trigger ``name``.

        Raises:
            NotFoundError: no such trigger.
        """
        return self.store.get_trigger(_check_trigger_name(name))

    def list_triggers(self, project: str | None = None, projects: frozenset[str] | None = None) -> list[Trigger]:
        """Triggers, by name (of ``project`` only when given; of ``projects`` when not None)."""
        return self.store.list_triggers(project, projects)

    def delete_trigger(self, name: str) -> None:
        """Delete a trigger and its history (audited).

        Raises:
            NotFoundError: no such trigger.
        """
        self.store.delete_trigger(_check_trigger_name(name), self._audit("triggers.delete", name))

    def history(self, name: str, max_results: int = 50) -> list[TriggerStart]:
        """The trigger's starts, newest first.

        Raises:
            NotFoundError: no such trigger.
        """
        self.get_trigger(name)
        return self.store.list_starts(name, max(1, min(int(max_results), 10_000)))

    # -- events ----------------------------------------------------------------------------

    def _events(self, trigger: Trigger, now: int) -> tuple[list[tuple[str, JSON, object]], JSON, int | None]:
        """The trigger's new events as (key, event, input value), and its cursor after them."""
        src, cursor = trigger.source, dict(trigger.cursor)
        found: list[tuple[str, JSON, object]] = []
        event: JSON
        if trigger.kind == "cron":
            tick = trigger.next_fire_at
            if tick is None or tick > now:
                return [], cursor, tick
            # missed ticks (the server was down) start one pipeline, for the latest tick due
            latest = tick
            while (following := next_tick(src["schedule"], latest)) <= now:
                latest = following
            found.append((f"cron:{latest}", {"tick": _iso(latest), "tick_ms": latest}, _iso(latest)))
            return found, cursor, next_tick(src["schedule"], now)
        if trigger.kind == "dataset":
            versions = self.store.dataset_versions(src["dataset"], int(cursor.get("version", 0))) or []
            for v in versions:
                ref = f"{src['dataset']}:{v}"
                found.append((f"dataset:{ref}", {"dataset": ref}, ref))
            if versions:
                cursor["version"] = versions[-1]
            return found, cursor, None
        if trigger.kind == "alert" and "monitor" in src:
            drifted = self.store.monitor_firings(src["monitor"], int(cursor.get("result_id", 0))) or []
            for f in drifted:
                event = {"monitor": f.rule, "monitor_result_id": f.id, "status": f.evidence.get("status"),
                         "deployment": f.deployment, "window_start_ms": f.window_start_ms, "window_end_ms": f.window_end_ms}
                found.append((f"monitor:{f.rule}:{f.id}", event, None))  # the window is registered when the start runs
            if drifted:
                cursor["result_id"] = drifted[-1].id
            return found, cursor, None
        if trigger.kind == "alert":
            firings = self.store.alert_firings(src["alert"], int(cursor.get("event_id", 0)))
            for f in firings:
                event = {"alert": f.rule, "alert_event_id": f.id, "deployment": f.deployment,
                         "window_start_ms": f.window_start_ms, "window_end_ms": f.window_end_ms}
                found.append((f"alert:{f.rule}:{f.id}", event, None))  # the window is registered when the start runs
            if firings:
                cursor["event_id"] = firings[-1].id
            return found, cursor, None
        wanted = set(src.get("events", REGISTRY_EVENTS))
        model = src["model"]
        if "version_created" in wanted:
            versions = self.store.model_versions(model, int(cursor.get("version", 0))) or []
            for v in versions:
                found.append((f"registry:{model}:version_created:{v}", {"model": model, "event": "version_created", "version": v}, f"{model}:{v}"))
            if versions:
                cursor["version"] = versions[-1]
        entries = self.store.registry_events(model, int(cursor.get("audit_entry", 0)))
        for e in entries:
            if e.event in wanted:
                event = {"model": model, "event": e.event, "version": e.version, "audit_entry": e.id}
                if e.alias is not None:
                    event["alias"] = e.alias
                found.append((f"registry:{model}:{e.event}:{e.id}", event, f"{model}:{e.version}"))
        if entries:
            cursor["audit_entry"] = entries[-1].id
        return found, cursor, None

    def _claim(self, trigger: Trigger, key: str, event: JSON, value: object, at: int) -> TriggerStart | None:
        params = dict(trigger.pipeline.get("params") or {})
        target = trigger.pipeline.get("input")
        if target and value is not None:
            params[str(target)] = value
        start = TriggerStart(0, trigger.name, key[:300], event, params, "started", started_at=at, started_by=self.actor)
        audit = self._audit("triggers.start", trigger.name, {
            "event_key": start.event_key, "event": event, "pipeline": trigger.pipeline.get("file"), "params": params,
            "project": trigger.project,
        }, at)
        return self.store.claim_start(start, audit)

    def tick(self, holder: str, *, now: int | None = None, ttl_ms: int = 60_000) -> list[TriggerStart]:
        """Look at every trigger this holder wins the lease of and claim its new events' starts.

        A trigger leased by another holder is left to it; an event another runner already
        claimed is skipped (the unique event key). A trigger whose look fails is logged and
        the others go on.

        Returns:
            The starts claimed here (run them with :meth:`run_start`).
        """
        at = now_ms() if now is None else now
        claimed: list[TriggerStart] = []
        for trigger in self.store.list_triggers(None):
            try:
                if not self.store.acquire_lease(trigger.name, holder, at, ttl_ms):
                    continue
                try:
                    found, cursor, next_fire = self._events(trigger, at)
                    for key, event, value in found:
                        start = self._claim(trigger, key, event, value, at)
                        if start is not None:
                            claimed.append(start)
                    if found or next_fire != trigger.next_fire_at:
                        self.store.set_cursor(trigger.name, cursor, next_fire)
                finally:
                    self.store.release_lease(trigger.name, holder)
            except Exception as exc:  # noqa: BLE001 - one trigger's failure (a store error, a bug) never stops the others
                log.warning("trigger %s: look failed: %s", trigger.name, exc)
        return claimed

    def run_due(self, holder: str | None = None, *, now: int | None = None) -> list[TriggerStart]:
        """One look at every trigger (``steward triggers tick``): claim the new events' starts
        and run their pipelines here, one after another.

        Returns:
            The starts run, as they ended.
        """
        who = holder or f"tick:{self.actor}:{uuid.uuid4().hex[:8]}"
        return [self.run_start(start) for start in self.tick(who, now=now)]

    def fire(self, name: str, *, params: Mapping[str, object] | None = None, now: int | None = None) -> TriggerStart:
        """Start the trigger's pipeline now, as if its latest event had just happened (audited).

        The input is the kind's latest: the dataset's or model's newest version, the alert's
        newest firing's window, the current time for cron. ``params`` override the trigger's.

        Raises:
            NotFoundError: no such trigger.
            InvalidInputError: a bad param.
        """
        trigger = self.get_trigger(name)
        extra = _check_params(params)
        at = now_ms() if now is None else now
        event: JSON = {"manual": True}
        value: object = None
        src = trigger.source
        if trigger.kind == "cron":
            value = _iso(at)
            event["tick"] = value
        elif trigger.kind == "dataset":
            versions = self.store.dataset_versions(src["dataset"], 0) or []
            if versions:
                value = f"{src['dataset']}:{versions[-1]}"
                event["dataset"] = value
        elif trigger.kind == "alert":
            firings = self.store.monitor_firings(src["monitor"], 0) if "monitor" in src else self.store.alert_firings(src["alert"], 0)
            if firings:
                f = firings[-1]
                event.update({"monitor" if "monitor" in src else "alert": f.rule, "deployment": f.deployment,
                              "window_start_ms": f.window_start_ms, "window_end_ms": f.window_end_ms})
        else:
            versions = self.store.model_versions(src["model"], 0) or []
            if versions:
                value = f"{src['model']}:{versions[-1]}"
                event.update({"model": src["model"], "version": versions[-1]})
        with_params = Trigger(trigger.name, trigger.project, trigger.kind, trigger.source,
                              {**trigger.pipeline, "params": {**(trigger.pipeline.get("params") or {}), **extra}},
                              trigger.cursor, trigger.next_fire_at, trigger.created_at, trigger.created_by)
        start = self._claim(with_params, f"manual:{uuid.uuid4().hex}", event, value, at)
        assert start is not None  # a fresh key never conflicts
        return self.run_start(start)

    # -- running a start -------------------------------------------------------------------

    def run_start(self, start: TriggerStart) -> TriggerStart:
        """Run a claimed start's pipeline (as the trigger's creator) and store how it ended.

        An alert's start first registers the window that fired, labels joined, as a dataset
        version and passes it as the input. A failure is stored on the start, never raised.
        """
        try:
            trigger = self.store.get_trigger(start.trigger)
        except NotFoundError:
            return self.store.update_start(start.id, status="failed", error="the trigger was deleted", finished_at=now_ms())
        params = dict(start.params)
        event = start.event
        try:
            if trigger.kind == "alert" and event.get("deployment") and event.get("window_start_ms") is not None:
                target = trigger.pipeline.get("input")
                ref = self.register_window(
                    str(event["deployment"]), int(event["window_start_ms"]), int(event["window_end_ms"]),
                    f"{event['deployment']}-{trigger.source.get('alert') or trigger.source.get('monitor')}", trigger.project,
                )
                if target:
                    params[str(target)] = ref
            self.store.update_start(start.id, status="running", params=params)
            outcome = self.launcher(trigger.pipeline, params, trigger.created_by)
        except StewardError as exc:
            return self._finish(start, trigger, "failed", None, exc.message, params)
        except Exception as exc:  # noqa: BLE001 - the user's pipeline raised anything: recorded on the start
            return self._finish(start, trigger, "failed", None, f"{type(exc).__name__}: {str(exc)[:500]}", params)
        return self._finish(start, trigger, outcome.status, outcome.run_id, outcome.error, params)

    def _finish(self, start: TriggerStart, trigger: Trigger, status: str, run_id: str | None, error: str | None, params: JSON) -> TriggerStart:
        audit = self._audit("triggers.finish", trigger.name, {
            "start_id": start.id, "event_key": start.event_key, "status": status, "run_id": run_id,
            "error": None if error is None else error[:500], "project": trigger.project,
        })
        return self.store.update_start(
            start.id, status=status, params=params, run_id=run_id, error=None if error is None else error[:2000],
            finished_at=now_ms(), audit=audit,
        )
