"""The standard lifecycle pipeline: what ``steward retrain MODEL`` runs.

::

    validate data -> train (the user's function) -> evaluate -> gate against the champion on
    the same data -> register as candidate -> approval where the policy needs one (stop, and
    resume with --resume VERSION) -> canary on the model's deployment -> progressive rollout
    by the rollout policy -> promote (production, @champion), or roll back and keep the champion

Every stage is audited on the model, so ``steward models timeline MODEL`` shows the run in
order: ``retraining started``, ``trained``, the version registered, its evaluations and
gate, ``candidate registered``, ``awaiting approval``, the rollout's start, advances and
promotion or rollback, the state and alias changes, and ``retraining ended`` with the
outcome and the reason. A failed stage ends the run there with the champion untouched.

The user's training function is ``module:function`` taking the training frame (a pandas
DataFrame, the target column included) and optionally ``target`` and ``params`` keyword
arguments; it returns a model ``Client.log_model`` accepts. It runs isolated, in a subprocess
of its own session (the pipelines' :func:`~steward.pipelines._isolate.call_step`: the frame
goes in and the model comes back pickled), with a time limit (``train_timeout``, 1 h by
default) and ``train_retries`` more attempts after a failure (none by default), inside a run
of this process that records the dataset version it read. A step that raises, crashes (killed
by a signal, ``os._exit``, out of memory) or runs out of time ends the retraining
``train_failed`` with the reason (the exception, the exit code or signal, the time limit):
the champion is untouched and keeps serving.

The specification comes from ``steward.yaml`` (a ``retrain:`` section, one entry per model)
and/or the command's options::

    retrain:
      fraud:
        train: fraud_training:train   # module:function (the module importable from here)
        data: fraud-train             # a dataset version; a bare name means its latest
        eval_data: fraud-holdout      # the gate's data (default: data)
        target: label
        suite: fraud-checks           # validation suite run on data first (optional)
        gate: gates/fraud.yaml        # gate policy file
        deployment: fraud-api         # where the candidate is canaried (optional)
        rollout: rollout.yaml         # rollout policy file (needed with a deployment)
        train_timeout: 30m            # the training step's time limit (seconds or 30s/15m/1h; default 1h)
        train_retries: 1              # attempts after a failed one (default 0)
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml

from steward.core.lifecycle import ModelState
from steward.errors import InvalidInputError, StewardError
from steward.pipelines._isolate import StepOptions, call_step

from ._lifecycle_ops import EmbeddedLifecycle, LifecycleOps, RemoteLifecycle

if TYPE_CHECKING:
    from steward.sdk import Client
    from steward.wiring import Services

__all__ = ["RetrainResult", "RetrainSpec", "load_spec", "retrain"]

ENDED = "models.retrain.end"
TRAIN_TIMEOUT_S = 3600.0  # the training step's default time limit


@dataclass(frozen=True, slots=True)
class RetrainSpec:
    """What one retraining of ``model`` uses (see the module docstring).

    ``gate_policy`` and ``rollout_policy`` hold the YAML text of the policies.
    """

    model: str
    train: str = ""
    data: str = ""
    target: str = ""
    eval_data: str | None = None
    suite: str | None = None
    gate_policy: str = ""
    deployment: str | None = None
    rollout_policy: str | None = None
    params: dict[str, object] = field(default_factory=dict)
    trigger: str = "manual"
    timeout_s: float = 900.0
    train_timeout_s: float = TRAIN_TIMEOUT_S
    train_retries: int = 0


@dataclass(slots=True)
class RetrainResult:
    """How a retraining ended: ``status`` is promoted, rolled_back, gate_failed,
    validation_failed, train_failed, awaiting_approval, registered (no deployment) or
    rolling_out (the deployment's controller carries on past the time limit)."""

    model: str
    status: str
    version: int | None = None
    champion: int | None = None
    reason: str = ""
    stages: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("promoted", "awaiting_approval", "registered", "rolling_out")

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model, "status": self.status, "version": self.version, "champion": self.champion,
            "reason": self.reason, "stages": self.stages,
        }


def _read_policy(value: object, field_name: str, base: Path) -> str:
    text = str(value)
    path = Path(text) if Path(text).is_absolute() else base / text
    if "\n" not in text and path.is_file():
        return path.read_text(encoding="utf-8")
    if "\n" in text or ":" in text:
        return text
    raise InvalidInputError(f"{field_name}: no policy file {text!r}", field=field_name)


def load_spec(model: str, project_file: Path | None = None, **overrides: object) -> RetrainSpec:
    """The retraining specification of ``model``: ``steward.yaml``'s ``retrain.<model>`` entry
    (when the file exists) with ``overrides`` (options given on the command line) on top.

    Raises:
        InvalidInputError: an unknown key, a missing train function, data, target or gate.
    """
    path = project_file or Path("steward.yaml")
    entry: dict[str, Any] = {}  # Any: YAML values
    if path.is_file():
        from steward.pipelines._project import project_faults

        text = path.read_text(encoding="utf-8")
        faults = [(line, message) for line, message in project_faults(text) if not message.startswith("pipelines")]
        if faults:  # checked against the project file's JSON Schema (`steward check` shows the same)
            raise InvalidInputError("; ".join(f"{path}:{line}: {message}" for line, message in faults[:5]), field="retrain")
        document = yaml.safe_load(text) or {}
        section = document.get("retrain", {}) if isinstance(document, dict) else {}
        entry = dict(section.get(model) or {}) if isinstance(section, dict) else {}
    entry.update({k: v for k, v in overrides.items() if v not in (None, "", {})})
    base = path.parent if path.is_file() else Path.cwd()
    for required in ("train", "data", "target", "gate"):
        if not entry.get(required):
            raise InvalidInputError(f"retraining {model} needs {required} (--{required} or retrain.{model}.{required} in steward.yaml)", field=required)
    if entry.get("deployment") and not entry.get("rollout"):
        raise InvalidInputError(f"retraining {model} onto a deployment needs a rollout policy (--rollout)", field="rollout")
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInputError("params must be a mapping", field="params")
    train_options = _train_options(entry.get("train_timeout"), entry.get("train_retries"))
    return RetrainSpec(
        model=model, train=str(entry["train"]), data=str(entry["data"]), target=str(entry["target"]),
        eval_data=str(entry["eval_data"]) if entry.get("eval_data") else None,
        suite=str(entry["suite"]) if entry.get("suite") else None,
        gate_policy=_read_policy(entry["gate"], "gate", base),
        deployment=str(entry["deployment"]) if entry.get("deployment") else None,
        rollout_policy=_read_policy(entry["rollout"], "rollout", base) if entry.get("rollout") else None,
        params=dict(params), trigger=str(entry.get("trigger") or "manual"),
        timeout_s=float(entry.get("timeout") or 900.0),
        train_timeout_s=train_options.timeout or TRAIN_TIMEOUT_S, train_retries=train_options.retries,
    )


def _train_options(timeout: object, retries: object) -> StepOptions:
    """How the training step is called: isolated, with its time limit and retries.

    Raises:
        InvalidInputError: a time limit that is not a positive duration, a negative retry count.
    """
    if timeout is not None and not isinstance(timeout, (str, int, float)):
        raise InvalidInputError(f"train_timeout must be a duration such as 30m, got {timeout!r}", field="train_timeout")
    # of() checks the count at run time, whatever its type
    count = cast(int, 0 if retries is None else retries)
    return StepOptions.of(isolate=True, timeout=timeout, retries=count, field_prefix="train_")


def _train_function(ref: str) -> Callable[..., Any]:  # Any: the user's function and its model
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise InvalidInputError(f"train must be module:function, not {ref[:100]!r}", field="train")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # a user's module next to steward.yaml, as `python -m` finds it
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInputError(f"cannot import {module_name!r}: {exc}", field="train") from None
    fn = getattr(module, attribute, None)
    if not callable(fn):
        raise InvalidInputError(f"{module_name} has no function {attribute!r}", field="train")
    return fn  # type: ignore[no-any-return]


class _TrainFailed(Exception):
    """The training step failed (raised, crashed or ran out of time): ends its run failed."""


def _train_failure(label: str, error: str | None, attempts: int) -> str:
    """Why the training step failed, from :func:`call_step`'s error: the step's exception, or
    how its subprocess died (exit code, signal) or its time limit."""
    error = error or "failed"
    crashed, timed_out = f"StepCrashed: step {label} ", f"TimeoutError: step {label} "
    if error.startswith(crashed):  # "... crashed (exit code 137)" or "(killed by signal SIGKILL)", its last line
        why = f"{label} {error[len(crashed):]}"
    elif error.startswith(timed_out) and "time limit" in error:
        why = f"{label} {error[len(timed_out):]}"
    else:
        why = f"{label} raised {error}"
    return why[:400] + (f" (after {attempts} attempts)" if attempts > 1 else "")


class _Run:
    """One retraining's bookkeeping: each stage audited on the model and kept in the result."""

    def __init__(self, ops: LifecycleOps, spec: RetrainSpec, progress: Callable[[str], None]) -> None:
        self.ops = ops
        self.spec = spec
        self.progress = progress
        self.result = RetrainResult(spec.model, "running")

    def stage(self, action: str, stage: str, details: dict[str, object], *, version: int | None = None, say: str = "") -> None:
        self.ops.record_stage(self.spec.model, action, {"stage": stage, "trigger": self.spec.trigger, **details}, version)
        self.result.stages.append({"stage": stage, **details})
        if say:
            self.progress(say)

    def end(self, status: str, reason: str, *, version: int | None = None) -> RetrainResult:
        self.result.status = status
        self.result.reason = reason
        self.result.version = version if version is not None else self.result.version
        self.stage(ENDED, "end", {"outcome": status, "reason": reason}, version=version, say=f"retraining {status}: {reason}")
        return self.result


def _ops(source: Services | Client, actor: str | None) -> LifecycleOps:
    from steward.sdk import Client
    from steward.wiring import default_actor

    services: Services
    if isinstance(source, Client):
        if source.settings.is_remote():
            return RemoteLifecycle(source)
        services = source.services
    else:
        services = source
    return EmbeddedLifecycle(services, actor or default_actor(services.settings))


def retrain(
    source: Services | Client, spec: RetrainSpec, *, actor: str | None = None, resume: int | None = None,
    progress: Callable[[str], None] | None = None, poll_s: float | None = None,
) -> RetrainResult:
    """Run the standard lifecycle pipeline for ``spec.model`` (see the module docstring).

    Args:
        source: the embedded store's services, or a client (embedded, or talking to a
            Steward server: every stage is then a REST call as the token's user).
        actor: who retrains on the embedded store (every stage is audited as them).
        resume: a candidate version that waited for approval: continue from the canary.
        progress: told one line per stage.
        poll_s: seconds between looks at the rollout (default: the policy's interval).

    Returns:
        The outcome; a failed stage ends the run with the champion still serving.

    Raises:
        NotFoundError: no such model, dataset version, suite or deployment.
        InvalidInputError: a malformed policy or training function.
        PermissionDeniedError: through a server, a role the caller lacks.
    """
    ops = _ops(source, actor)
    say = progress or (lambda _: None)
    ops.model_exists(spec.model)
    run = _Run(ops, spec, say)
    run.result.champion = ops.champion(spec.model)
    if spec.deployment:
        ops.get_deployment(spec.deployment)  # fail before training, not after
    if resume is None:
        version = _build(ops, spec, run)
        if version is None:
            return run.result
    else:
        version = int(resume)
        found = ops.get_version(spec.model, version)
        if found.state not in (ModelState.CANDIDATE, ModelState.APPROVED):
            raise InvalidInputError(f"{spec.model}:{version} is {found.state.value}; only a candidate can resume", field="resume")
        run.stage("models.retrain.resume", "resume", {"version": version}, version=version, say=f"resuming {spec.model}:{version}")
    run.result.version = version
    found = ops.get_version(spec.model, version)
    if ops.require_approval and not found.approvals:
        run.result.status = "awaiting_approval"
        run.result.reason = f"{spec.model}:{version} needs an approval"
        run.stage(
            "models.retrain.awaiting_approval", "approval",
            {"version": version, "resume": f"steward retrain {spec.model} --resume {version}"}, version=version,
            say=f"waiting for an approval: steward models approve {spec.model}:{version} --comment ..., then steward retrain {spec.model} --resume {version}",
        )
        return run.result
    if not spec.deployment:
        return run.end("registered", f"{spec.model}:{version} passed its gate; no deployment to canary it on", version=version)
    return _roll_out(ops, spec, run, version, poll_s)


def _build(ops: LifecycleOps, spec: RetrainSpec, run: _Run) -> int | None:
    """Validate, train, register, gate. The version when it passed; None when a stage failed."""
    dataset = ops.dataset_ref(spec.data)
    run.stage("models.retrain.start", "start", {"data": dataset, "train": spec.train, "champion": run.result.champion},
              say=f"retraining {spec.model} on {dataset} (trigger: {spec.trigger})")
    if spec.suite:
        passed, failures = ops.validate(dataset, spec.suite)
        run.stage("models.retrain.validate", "validate", {"suite": spec.suite, "passed": passed, "failures": failures[:20]},
                  say=f"validation with {spec.suite}: {'passed' if passed else 'failed'}")
        if not passed:
            run.end("validation_failed", f"{dataset} failed {spec.suite}: {', '.join(failures[:5])}")
            return None
    frame = ops.load_frame(dataset)
    if spec.target not in frame.columns:
        raise InvalidInputError(f"{dataset} has no target column {spec.target!r}", field="target")
    fn = _train_function(spec.train)
    accepted = inspect.signature(fn).parameters
    kwargs: dict[str, object] = {}
    if "target" in accepted:
        kwargs["target"] = spec.target
    if "params" in accepted:
        kwargs["params"] = dict(spec.params)
    options = StepOptions(isolate=True, timeout=spec.train_timeout_s, retries=spec.train_retries)
    with ops.tracking_client() as client:
        try:
            with client.start_run(f"retrain-{spec.model}") as active:
                active.log_input(dataset, role="train")
                active.log_params({f"retrain.{k}": v for k, v in spec.params.items()})
                # in a subprocess of its own: a crash or a hang of the user's step cannot take this process down
                outcome = call_step(fn, (frame,), kwargs, options, spec.train)
                if not outcome.ok:
                    raise _TrainFailed(_train_failure(spec.train, outcome.error, outcome.attempts))
                example = frame.drop(columns=[spec.target]).head(5)
                logged = active.log_model(outcome.output, "model", input_example=example, registered_model_name=spec.model)
                run_id = active.run_id
        except _TrainFailed as why:  # the run ended failed; the champion keeps serving
            run.end("train_failed", str(why))
            return None
        except StewardError:
            raise
        except Exception as exc:  # noqa: BLE001 - the model the step returned could not be logged
            run.end("train_failed", f"{spec.train} returned a model that could not be logged: {type(exc).__name__}: {str(exc)[:300]}")
            return None
    assert logged.registered is not None
    version = int(logged.registered.version)
    run.stage("models.retrain.trained", "train", {"run_id": run_id, "version": version}, version=version,
              say=f"trained {spec.model}:{version} in run {run_id}")
    gate = ops.gate(f"{spec.model}:{version}", spec.eval_data or dataset, spec.gate_policy, spec.target)
    failed = [f"{c.gate}: {c.detail}" if c.detail else f"{c.gate} failed" for c in gate.checks if not c.passed]
    if not gate.passed:
        run.end("gate_failed", "; ".join(failed) or "the gate failed", version=version)
        return None
    run.stage("models.retrain.candidate", "register", {"version": version, "gate_result_id": gate.id, "champion": gate.champion_version},
              version=version, say=f"{spec.model}:{version} passed its gate (champion: {gate.champion_version}); registered as candidate")
    return version


def _roll_out(ops: LifecycleOps, spec: RetrainSpec, run: _Run, version: int, poll_s: float | None) -> RetrainResult:
    assert spec.deployment is not None and spec.rollout_policy is not None
    label = f"{spec.model}:{version}"
    started = ops.start_rollout(spec.deployment, label, spec.rollout_policy, f"retraining {spec.model}: canary of {label}")
    canary = started.variant("candidate")
    run.progress(f"canary of {label} on {spec.deployment} at {canary.weight if canary is not None else 0:g}%")
    interval = poll_s or float((started.rollout or {}).get("interval_s") or ops.rollout_interval)
    deadline = time.monotonic() + spec.timeout_s
    current = started
    with ops.controller(spec.deployment, f"retrain:{os.getpid()}:{version}") as controller:
        while time.monotonic() < deadline:
            current = ops.get_deployment(spec.deployment)
            if current.status != "rolling_out":
                break
            if controller is not None:
                controller.step(interval)  # competes for the lease with the serving processes' controllers
            time.sleep(interval)
        current = ops.get_deployment(spec.deployment)
    state = (current.rollout or {}).get("state")
    if current.status == "rolling_out":
        return run.end("rolling_out", f"{label} is still rolling out after {spec.timeout_s:g} s; the deployment's controller carries on", version=version)
    why = ops.last_reason(spec.deployment)
    primary = current.variant("primary")
    if state == "promoted" and primary is not None and primary.model == label:
        _promote_in_registry(ops, spec.model, version)
        return run.end("promoted", why or f"{label} promoted", version=version)
    return run.end("rolled_back", why or f"the rollout of {label} ended {state}; the champion keeps serving", version=version)


def _promote_in_registry(ops: LifecycleOps, model: str, version: int) -> None:
    """The promoted version becomes production and @champion; the old champion deprecated."""
    found = ops.get_version(model, version)
    if found.state is ModelState.CANDIDATE:
        ops.transition(model, version, ModelState.APPROVED, "passed its gate and rollout")
    old = ops.champion(model)
    ops.transition(model, version, ModelState.PRODUCTION, "promoted by its rollout")
    ops.set_alias(model, "champion", version)
    if old is not None and old != version and ops.get_version(model, old).state is ModelState.PRODUCTION:
        ops.transition(model, old, ModelState.DEPRECATED, f"replaced by {model}:{version}")


def trigger_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """``(trigger, dataset)`` when an alert's retrain action started this process (its
    ``STEWARD_ALERT_*`` variables), else ``("manual", None)``."""
    env = os.environ if environ is None else environ
    rule = env.get("STEWARD_ALERT_RULE")
    if not rule:
        return "manual", None
    return f"alert:{rule}", env.get("STEWARD_ALERT_DATASET") or None
