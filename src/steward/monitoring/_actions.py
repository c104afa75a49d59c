"""What a firing alert may do: roll its deployment back, or start a retraining command.

The retraining command is an argv list run without a shell, with a time limit (the whole
process group is killed when it passes). It learns what to train on from environment
variables: the deployment, the window's bounds, and — when the window's logged
predictions could be registered — the dataset version holding them::

    STEWARD_ALERT_RULE          the rule that fired
    STEWARD_ALERT_DEPLOYMENT    the deployment it watches
    STEWARD_ALERT_WINDOW_START  the window's start and end (ISO-8601, UTC)
    STEWARD_ALERT_WINDOW_END
    STEWARD_ALERT_DATASET       e.g. ``fraud-api-drift-high:1`` (absent when not registered)
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from steward.core.alerts import AlertEvent, AlertRule
from steward.errors import StewardError

from ._alert_rules import RetrainCommand

if TYPE_CHECKING:
    from steward.data import DataService
    from steward.predictions import PredictionService
    from steward.serving._deployments import DeploymentService

__all__ = ["ActionOutcome", "register_window", "retrain_env", "rollback", "run_retrain"]

_OUTPUT_TAIL = 2000


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """How an action ended, with what it did (stored in the rule's history and audited)."""

    action: str
    ok: bool
    details: dict[str, object] = field(default_factory=dict)


def rollback(deployments: DeploymentService, rule: AlertRule, event: AlertEvent) -> ActionOutcome:
    """Roll ``rule.deployment`` back, the reason naming the rule and the value that fired it."""
    assert rule.deployment is not None  # the rule file's check requires it
    reason = f"alert {rule.name} fired: {rule.describe()} (value {event.evidence.get('value')})"
    try:
        deployment = deployments.rollback(rule.deployment, reason=reason)
    except StewardError as exc:  # nothing to roll back to, no such deployment: recorded, not raised
        return ActionOutcome("rollback", False, {"deployment": rule.deployment, "error": str(exc)[:500]})
    except Exception as exc:  # noqa: BLE001 - a store or model-loading failure: the firing is stored, its action must be recorded too
        return ActionOutcome("rollback", False, {"deployment": rule.deployment, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
    primary = next((v.model for v in deployment.plan.variants if v.name == "primary"), None)
    return ActionOutcome("rollback", True, {"deployment": rule.deployment, "revision": deployment.plan.revision, "primary": primary, "reason": reason})


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def register_window(
    predictions: PredictionService, data: DataService, rule: AlertRule, start_ms: int, end_ms: int
) -> tuple[str | None, str | None]:
    """Register the logged predictions of the rule's deployment in ``[start_ms, end_ms)`` as
    the next version of dataset ``<deployment>-<rule>``.

    Returns:
        ``(ref, None)``, e.g. ``("fraud-api-drift-high:1", None)``, or ``(None, why)`` when
        the window holds no rows or cannot be registered.
    """
    assert rule.deployment is not None
    try:
        table = predictions.read(rule.deployment, start_ms, end_ms)
        if table.num_rows == 0:
            return None, "the window holds no logged predictions"
        # columns with no value at all (labels not yet arrived) carry no type to store
        table = table.select([n for n in table.column_names if table.column(n).null_count < table.num_rows])
        version = data.register(f"{rule.deployment}-{rule.name}", table, description=f"window of alert {rule.name}: {_iso(start_ms)} to {_iso(end_ms)}")
    except StewardError as exc:
        return None, str(exc)[:300]
    return f"{version.name}:{version.version}", None


def retrain_env(rule: AlertRule, start_ms: int, end_ms: int, dataset: str | None) -> dict[str, str]:
    """The variables a retraining command is given (see the module docstring)."""
    env = {
        "STEWARD_ALERT_RULE": rule.name, "STEWARD_ALERT_DEPLOYMENT": rule.deployment or "",
        "STEWARD_ALERT_WINDOW_START": _iso(start_ms), "STEWARD_ALERT_WINDOW_END": _iso(end_ms),
    }
    if dataset is not None:
        env["STEWARD_ALERT_DATASET"] = dataset
    return env


def run_retrain(command: RetrainCommand, extra_env: dict[str, str]) -> ActionOutcome:
    """Run the command (no shell) with ``extra_env`` added, killing it at its time limit."""
    # the child inherits this process's environment (PATH, the store's settings), as any launcher does
    env = {**os.environ, **extra_env}
    started = time.monotonic()
    details: dict[str, object] = {"argv": list(command.argv), "timeout_s": command.timeout_s, "env": extra_env}
    try:
        proc = subprocess.Popen(
            list(command.argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
    except OSError as exc:
        return ActionOutcome("retrain", False, {**details, "error": f"cannot start: {exc.strerror or exc}"})
    try:
        out, _ = proc.communicate(timeout=command.timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: children of the command go too
        except ProcessLookupError:  # it ended just now
            pass
        out, _ = proc.communicate()
        return ActionOutcome("retrain", False, {
            **details, "error": f"killed after its time limit of {command.timeout_s:g} s", "timed_out": True,
            "seconds": round(time.monotonic() - started, 3), "output": out.decode("utf-8", "replace")[-_OUTPUT_TAIL:],
        })
    return ActionOutcome("retrain", proc.returncode == 0, {
        **details, "exit_code": proc.returncode, "timed_out": False, "seconds": round(time.monotonic() - started, 3),
        "output": out.decode("utf-8", "replace")[-_OUTPUT_TAIL:],
    })
