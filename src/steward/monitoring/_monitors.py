"""Monitors: watch a deployment's prediction log window by window against a reference.

A run reads the latest window of the log (``[now - window, now)``) and computes, in one
stored result:

* drift of every input feature against the reference, with the drift report's methods
  (:func:`steward.monitoring.drift_report`: one implementation of each statistic);
* prediction drift of the model's output against the outputs of a reference window of
  the log (the reference time window, or the log's first window);
* quality from the delayed labels, concept drift and fairness (:mod:`._quality`);
* service health and cost (:mod:`._health`).

A window with fewer rows than ``min_rows`` is ``insufficient_data``, never drift.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from steward.core.alerts import parse_duration_ms
from steward.core.drift import threshold as _check_sensitivity
from steward.core.names import check_name
from steward.errors import InvalidInputError, NotFoundError, StewardError
from steward.predictions._service import to_epoch_ms
from steward.tracking import AuditEvent, now_ms

from ._health import health
from ._ports import JSON, Monitor, MonitorResult, MonitorStore
from ._quality import concept_drift, quality, window_fairness
from ._report import DatasetScanner, DriftReport, drift_report
from ._summaries import ArrowSource

if TYPE_CHECKING:
    import polars as pl

    from steward.predictions import PredictionService
    from steward.registry import RegistryService
    from steward.serving._deployments import DeploymentService

__all__ = ["MonitorService", "next_run", "parse_schedule"]

log = logging.getLogger("steward.monitoring")

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_MIN_WINDOW_S = 1
_MAX_WINDOW_S = 90 * 86_400
_MAX_SENSITIVE = 20
_INPUT = "input."


def check_monitor_name(name: object, *, field: str = "name") -> str:
    """Monitor names are lowercase ``[a-z0-9][a-z0-9-]{0,62}``.

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(name, str):
        check_name(name, field, kind="monitor name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError(
            "monitor name must be 1-63 characters of a-z, 0-9 or '-', starting with a letter or digit", field=field
        )
    return name


def parse_schedule(text: str) -> str:
    """A 5-field cron expression (minute hour day month weekday, UTC), normalised.

    Raises:
        InvalidInputError: anything else.
    """
    from croniter import croniter

    fields = text.split()
    if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
        raise InvalidInputError(
            f"schedule {text[:100]!r} is not a 5-field cron expression such as '*/15 * * * *'", field="schedule"
        )
    return " ".join(fields)


def next_run(schedule: str, after_ms: int) -> int:
    """The first time strictly after ``after_ms`` the cron ``schedule`` names (epoch ms, UTC)."""
    from croniter import croniter

    start = datetime.fromtimestamp(after_ms / 1000, tz=UTC)
    following = croniter(schedule, start).get_next(datetime)
    return int(following.timestamp() * 1000)


def parse_window(value: str | int) -> int:
    """Window seconds from ``3600`` or ``1h``/``15m``/``7d``.

    Raises:
        InvalidInputError: not a duration, or outside 1 s - 90 days.
    """
    if isinstance(value, bool):
        raise InvalidInputError("window must be a duration such as 15m, 1h or 1d", field="window")
    if isinstance(value, int):
        seconds = value
    else:
        try:
            seconds = parse_duration_ms(value) // 1000
        except ValueError:
            raise InvalidInputError("window must be a duration such as 15m, 1h or 1d", field="window") from None
    if not _MIN_WINDOW_S <= seconds <= _MAX_WINDOW_S:
        raise InvalidInputError("window must be between 1s and 90d", field="window")
    return seconds


def parse_reference_window(text: str) -> tuple[int, int]:
    """``START/END`` (ISO-8601 or epoch ms) of a reference window of the prediction log.

    Raises:
        InvalidInputError: not two times, or END not after START.
    """
    start_text, sep, end_text = text.partition("/")
    if not sep:
        raise InvalidInputError("a reference window is START/END, e.g. 2024-05-01T00:00Z/2024-05-02T00:00Z", field="reference_window")
    start = to_epoch_ms(start_text, field="reference_window")
    end = to_epoch_ms(end_text, field="reference_window")
    if start is None or end is None or end <= start:
        raise InvalidInputError("the reference window's end must be after its start", field="reference_window")
    return start, end


def _window_ref(reference: str) -> tuple[int, int] | None:
    if reference.startswith("window:"):
        lo, _, hi = reference[len("window:"):].partition("/")
        return int(lo), int(hi)
    return None


def _column_metrics(report: DriftReport) -> dict[str, float | None]:
    out: dict[str, float | None] = {"drift.share": report.drift_share}
    for c in report.columns:
        if c.status != "ok":
            continue
        out[f"drift.feature.{c.column}.effect"] = c.effect_size
        out[f"drift.feature.{c.column}.p_value"] = c.p_value
        if c.missing_reference is not None and c.missing_current is not None:
            out[f"drift.feature.{c.column}.missing_share_change"] = c.missing_current - c.missing_reference
    mv = report.multivariate
    if mv is not None and mv.status == "ok":
        out["drift.multivariate.roc_auc"] = mv.roc_auc
    return out


def _drift_summary(report: DriftReport) -> JSON:
    return {
        "status": "ok",
        "reference_rows": report.reference_rows,
        "current_rows": report.current_rows,
        "drifted": report.drifted,
        "drift_share": report.drift_share,
        "columns_compared": report.compared,
        "multivariate": None if report.multivariate is None else report.multivariate.to_dict(),
        "columns": [
            {
                **{
                    k: v
                    for k, v in c.to_dict().items()
                    if k in ("column", "kind", "status", "method", "statistic", "p_value", "effect_size", "threshold",
                             "drifted", "unseen_share", "missing_reference", "missing_current", "message", "embedding")
                },
                # reference and current counts per bin: the UI's distribution overlays (kept in the result's JSON)
                **({"histogram": c.histogram} if c.histogram is not None else {}),
            }
            for c in report.columns
        ],
    }


def _finite(value: Any) -> Any:  # Any: a JSON value
    """Non-finite floats as None: PostgreSQL's JSON has no NaN or infinity."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value


class MonitorService:
    """Monitors of deployments, their runs and per-window results.

    Args:
        store: monitors, results and leases.
        deployments: resolves a deployment's project and primary model version.
        registry: the model version's lineage (training dataset) and registered metrics.
        data: reads dataset versions (the reference).
        predictions: reads the prediction log, labels joined.
        actor: who acts (audited).
        price_per_cpu_hour: for the cost per 1,000 predictions.
        min_rows: default fewest rows a window needs to be judged.
    """

    def __init__(
        self,
        store: MonitorStore,
        deployments: DeploymentService,
        registry: RegistryService,
        data: DatasetScanner,
        predictions: PredictionService,
        actor: str,
        *,
        price_per_cpu_hour: float = 0.05,
        min_rows: int = 100,
    ) -> None:
        self.store = store
        self.deployments = deployments
        self.registry = registry
        self.data = data
        self.predictions = predictions
        self.actor = actor
        self.price_per_cpu_hour = price_per_cpu_hour
        self.min_rows = min_rows

    def _audit(self, action: str, name: str, details: JSON | None = None) -> AuditEvent:
        return AuditEvent(self.actor, action, f"monitors:/{name}", now_ms(), details or {})

    # -- definitions --------------------------------------------------------------------------

    def create_monitor(
        self,
        name: str,
        deployment: str,
        *,
        reference: str | None = None,
        reference_window: str | None = None,
        window: str | int = "1h",
        schedule: str | None = None,
        sensitive: Sequence[str] = (),
        min_rows: int | None = None,
        sensitivity: str = "medium",
        embeddings: Sequence[str] = (),
    ) -> Monitor:
        """Create a monitor of ``deployment``.

        Args:
            name: the monitor's name.
            deployment: the deployment to watch (its project becomes the monitor's).
            reference: a dataset version (``transactions:3``); default: the training dataset
                recorded in the lineage of the deployment's primary model version.
            reference_window: instead, a time window of the log, ``START/END``.
            window: how much log a run reads (``15m``, ``1h``, ``1d`` or seconds).
            schedule: 5-field cron (UTC) on which the server runs it; None: on demand only.
            sensitive: input attributes fairness is computed for.
            min_rows: fewest rows a window needs (default: ``STEWARD_MONITOR_MIN_ROWS``).
            sensitivity: ``low``, ``medium`` or ``high`` (the drift report's).
            embeddings: input list columns compared as embeddings (lists of floats are found by type).

        Returns:
            The stored monitor.

        Raises:
            InvalidInputError: a bad name, window, schedule, reference or option; no
                reference given and none recorded in the model version's lineage.
            NotFoundError: no such deployment or dataset version.
            AlreadyExistsError: the name is taken.

        Example:
            >>> services.monitors().create_monitor("fraud-drift", "fraud-api", window="1h")  # doctest: +SKIP
        """
        check_monitor_name(name)
        seconds = parse_window(window)
        cron = None if schedule is None or not schedule.strip() else parse_schedule(schedule)
        _check_sensitivity("ks", sensitivity)
        rows = self.min_rows if min_rows is None else min_rows
        if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 10_000_000:
            raise InvalidInputError("min_rows must be between 1 and 10000000", field="min_rows")
        attrs = [a for a in sensitive if a]
        if len(attrs) > _MAX_SENSITIVE or any(not isinstance(a, str) or len(a) > 250 for a in attrs):
            raise InvalidInputError(f"at most {_MAX_SENSITIVE} sensitive attributes of up to 250 characters", field="sensitive")
        declared = [e for e in embeddings if e]
        if len(declared) > _MAX_SENSITIVE * 2 or any(not isinstance(e, str) or len(e) > 250 for e in declared):
            raise InvalidInputError(f"at most {_MAX_SENSITIVE * 2} embedding columns of up to 250 characters", field="embeddings")
        target = self.deployments.get_deployment(deployment)
        if reference and reference_window:
            raise InvalidInputError("give a reference dataset version or a reference window, not both", field="reference")
        if reference_window:
            lo, hi = parse_reference_window(reference_window)
            ref = f"window:{lo}/{hi}"
        else:
            ref = reference or self._lineage_reference(target.variant("primary"))
            if len(ref) > 500:
                raise InvalidInputError("reference is too long", field="reference")
            self._reference_frame(ref)  # NotFoundError now rather than at the first run
        now = now_ms()
        monitor = Monitor(
            name=name,
            deployment=target.name,
            project=target.project,
            reference=ref,
            window_s=seconds,
            schedule=cron,
            options={"sensitive": attrs, "min_rows": rows, "sensitivity": sensitivity, "embeddings": declared},
            next_run_at=None if cron is None else next_run(cron, now),
            created_at=now,
            created_by=self.actor,
        )
        return self.store.create_monitor(monitor, self._audit("monitor.create", name, monitor.to_dict()))

    def _lineage_reference(self, primary: Any) -> str:  # Any: the plan's primary Variant (or None)
        if primary is None:
            raise InvalidInputError("the deployment has no primary model version; give --reference", field="reference")
        version = self.registry.resolve(primary.model)
        if not version.datasets:
            raise InvalidInputError(
                f"model version {primary.model} records no training dataset in its lineage; give --reference", field="reference"
            )
        return str(version.datasets[0])

    def _reference_frame(self, ref: str) -> pl.LazyFrame:
        """The reference dataset version, lazily: resolving it reads nothing yet."""
        try:
            return self.data.scan(ref)
        except NotFoundError:
            raise
        except StewardError as exc:
            raise InvalidInputError(f"reference {ref[:200]!r}: {exc.message}", field="reference") from exc

    def get_monitor(self, name: str) -> Monitor:
        """The monitor called ``name``.

        Raises:
            NotFoundError: no such monitor.
        """
        check_monitor_name(name)
        return self.store.get_monitor(name)

    def list_monitors(self, *, project: str | None = None, projects: frozenset[str] | None = None) -> list[Monitor]:
        """Every monitor (of one ``project``; of ``projects`` only when given), by name."""
        return self.store.list_monitors(project, projects)

    def delete_monitor(self, name: str) -> None:
        """Delete a monitor and its results (audited).

        Raises:
            NotFoundError: no such monitor.
        """
        check_monitor_name(name)
        self.store.delete_monitor(name, self._audit("monitor.delete", name))

    def list_results(self, name: str, *, max_results: int = 100) -> list[MonitorResult]:
        """The monitor's newest results, newest first.

        Raises:
            NotFoundError: no such monitor.
            InvalidInputError: max_results outside 1-10000.
        """
        self.get_monitor(name)
        if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= 10_000:
            raise InvalidInputError("max_results must be between 1 and 10000", field="max_results")
        return self.store.list_results(name, max_results)

    def monitor_project(self, name: str) -> str | None:
        """The monitor's project (None: no such monitor)."""
        try:
            return self.store.get_monitor(name).project
        except NotFoundError:
            return None

    # -- runs -----------------------------------------------------------------------------------

    def run_monitor(self, name: str, *, now: int | None = None) -> MonitorResult:
        """Compute the latest window (``[now - window, now)``) and store its result (audited).

        A window the stores cannot be read for is stored as ``failed`` with the reason;
        the error is not raised, so a scheduled run never stops the runner.

        Raises:
            NotFoundError: no such monitor.
        """
        monitor = self.get_monitor(name)
        end = now_ms() if now is None else now
        start = end - monitor.window_s * 1000
        error = None
        try:
            status, summary = self._compute(monitor, start, end)
        except StewardError as exc:
            status, summary, error = "failed", {}, exc.message
        except (ValueError, TypeError, KeyError, pa.ArrowException) as exc:  # bad logged data: recorded, never raised
            log.warning("monitor %s: window could not be computed: %s", name, exc)
            status, summary, error = "failed", {}, f"{type(exc).__name__}: {str(exc)[:300]}"
        result = MonitorResult(0, name, start, end, status, _finite(summary), error, now_ms(), self.actor)
        details = {"window_start": start, "window_end": end, "status": status, "error": error,
                   "drifted": summary.get("drift", {}).get("drifted", [])}
        return self.store.add_result(result, self._audit("monitor.run", name, details))

    def _compute(self, monitor: Monitor, start: int, end: int) -> tuple[str, JSON]:
        table = self.predictions.read(monitor.deployment, start, end)
        min_rows = int(monitor.options.get("min_rows") or self.min_rows)
        summary: JSON = {"rows": table.num_rows, "min_rows": min_rows, "reference": monitor.reference}
        window_health = health(
            table, monitor.window_s,
            requests_and_errors=self.store.request_stats(monitor.deployment, start, end),
            price_per_cpu_hour=self.price_per_cpu_hour,
            reported_cpu=self.store.cpu_stats(monitor.deployment, start, end),
        )
        summary["health"] = window_health
        metrics: dict[str, float | None] = {
            "health.p50_ms": window_health["latency_ms"]["p50"],
            "health.p95_ms": window_health["latency_ms"]["p95"],
            "health.p99_ms": window_health["latency_ms"]["p99"],
            "health.error_rate": window_health["error_rate"],
            "health.throughput": window_health["throughput_rps"],
            "cost.per_1k": window_health["cost"]["per_1000_predictions"],
        }
        summary["metrics"] = metrics
        window_quality = quality(table, min_rows=min_rows)
        summary["quality"] = window_quality
        if window_quality and window_quality.get("status") == "ok":
            metrics.update({f"quality.{k}": v for k, v in window_quality["metrics"].items()})
        sensitive = list(monitor.options.get("sensitive", []))
        summary["fairness"] = window_fairness(table, sensitive, min_rows=min_rows)
        for key in ("demographic_parity_difference", "equalized_odds_difference"):
            values = [f[key] for f in summary["fairness"].values() if f.get("status") == "ok" and f.get(key) is not None]
            if values:
                metrics[f"fairness.{key}"] = max(values)
        if table.num_rows < min_rows:
            message = f"{table.num_rows} rows in the window; at least {min_rows} are needed to judge drift"
            summary["drift"] = {"status": "insufficient_data", "message": message, "drifted": []}
            summary["prediction_drift"] = {"status": "insufficient_data", "message": message}
            return "insufficient_data", summary
        sensitivity = str(monitor.options.get("sensitivity") or "medium")
        report = self._feature_drift(monitor, table, sensitivity)
        summary["drift"] = _drift_summary(report)
        metrics.update(_column_metrics(report))
        prediction = self._prediction_drift(monitor, table, start, sensitivity)
        summary["prediction_drift"] = prediction
        if prediction.get("effect_size") is not None:
            metrics["drift.prediction.effect"] = prediction["effect_size"]
        inputs_drifted = report.any_drift
        concept = concept_drift(window_quality, self._quality_baseline(monitor, window_quality), inputs_drifted=inputs_drifted)
        summary["concept_drift"] = concept
        if concept is not None and concept["flagged"]:
            return "concept_drift", summary
        if inputs_drifted or prediction.get("drifted"):
            return "drift", summary
        return "ok", summary

    def _reference_table(self, monitor: Monitor, columns: Sequence[str]) -> pa.Table:
        window = _window_ref(monitor.reference)
        if window is not None:
            table = self.predictions.read(monitor.deployment, window[0], window[1])
            return table.select([c for c in table.column_names if c.startswith(_INPUT)]).rename_columns(
                [c[len(_INPUT):] for c in table.column_names if c.startswith(_INPUT)]
            )
        lazy = self._reference_frame(monitor.reference)
        wanted = set(columns)
        # only the features the log has are read from the reference's files
        return lazy.select([c for c in lazy.collect_schema().names() if c in wanted]).collect().to_arrow()

    def _feature_drift(self, monitor: Monitor, table: pa.Table, sensitivity: str) -> DriftReport:
        features = [c for c in table.column_names if c.startswith(_INPUT)]
        if not features:
            raise InvalidInputError(
                "the prediction log holds no inputs (STEWARD_PREDICTION_LOG_INPUTS is off): nothing to compare", field="inputs"
            )
        current = table.select(features).rename_columns([c[len(_INPUT):] for c in features])
        reference = self._reference_table(monitor, current.column_names)
        if reference.num_rows == 0 or not reference.column_names:
            raise InvalidInputError(f"the reference {monitor.reference!r} has no rows or no feature of the log", field="reference")
        window_name = f"{monitor.deployment} window"
        declared = [e for e in monitor.options.get("embeddings", []) if e in current.column_names]
        return drift_report(
            ArrowSource(reference, monitor.reference), ArrowSource(current, window_name), sensitivity=sensitivity,
            embeddings=declared,
        )

    def _prediction_drift(self, monitor: Monitor, table: pa.Table, start: int, sensitivity: str) -> JSON:
        if "output" not in table.column_names:
            return {"status": "not_applicable", "message": "the model's output is not one scalar column"}
        window = _window_ref(monitor.reference)
        if window is None:
            segments = self.predictions.list_segments(monitor.deployment)
            first = min((s.min_time for s in segments), default=start)
            if first + monitor.window_s * 1000 > start:
                return {"status": "baseline", "message": "this is the log's first window: later windows are compared with it"}
            window = (first, first + monitor.window_s * 1000)
        reference = self.predictions.read(monitor.deployment, window[0], window[1])
        if "output" not in reference.column_names or reference.num_rows == 0:
            return {"status": "insufficient_data", "message": "no predictions in the reference window"}
        result = drift_report(
            ArrowSource(reference.select(["output"]), "reference predictions"),
            ArrowSource(table.select(["output"]), "window predictions"),
            sensitivity=sensitivity,
            multivariate=False,
        )
        column = result.columns[0]
        return {
            "status": column.status,
            "reference_window": list(window),
            "method": column.method,
            "statistic": column.statistic,
            "p_value": column.p_value,
            "effect_size": column.effect_size,
            "threshold": column.threshold,
            "drifted": column.drifted,
            "message": column.message,
        }

    def _quality_baseline(self, monitor: Monitor, window_quality: JSON | None) -> float | None:
        """What quality is compared with: the primary model version's registered metric of
        the same name, else the monitor's first window with quality."""
        if not window_quality or window_quality.get("status") != "ok":
            return None
        name = str(window_quality["primary"])
        try:
            primary = self.deployments.get_deployment(monitor.deployment).variant("primary")
            if primary is not None:
                registered = self.registry.resolve(primary.model).metrics.get(name)
                if registered is not None:
                    return float(registered)
        except StewardError:
            pass  # a deleted deployment or version: fall back on the monitor's own history
        for earlier in reversed(self.store.list_results(monitor.name, 10_000)):
            value = (earlier.summary.get("quality") or {}).get("metrics", {}).get(name)
            if value is not None:
                return float(value)
        return None

    # -- schedule -------------------------------------------------------------------------------

    def due_monitors(self, now: int) -> list[Monitor]:
        """Scheduled monitors whose next run is due."""
        return self.store.due_monitors(now)

    def schedule_next(self, monitor: Monitor, now: int) -> None:
        """Set the monitor's next run after ``now`` by its schedule."""
        self.store.set_next_run(monitor.name, None if monitor.schedule is None else next_run(monitor.schedule, now))
