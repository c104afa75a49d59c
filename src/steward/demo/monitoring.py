"""Demo chapter, monitoring: a monitor of the deployment reads the window of shifted traffic
from the prediction log, compares every input feature with the training data, feeds the
window to an alert rule, and the drift report is written as HTML.

The serving chapter has stopped its server by now, so every request it answered is in the log.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

import steward.predictions
from steward import Settings
from steward.core.alerts import AlertStatus, EventKind
from steward.errors import NotFoundError
from steward.monitoring import parse_alert_rules, render_html, report
from steward.wiring import build_services

from .serving import DEPLOYMENT, Shift

MONITOR = "demo-api-drift"
ACTOR = "demo-monitor"
ALERT_RULES = f"""\
rules:
  - name: demo-api-drift-share
    deployment: {DEPLOYMENT}
    metric: drift.share        # the share of features that drifted
    comparison: ">"
    threshold: 0.05
    min_sample: 100            # fewer rows: insufficient, never a breach
    for: 0s                    # fire on the first breaching window
    severity: warning
    notify: [log]
"""


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%H:%M:%S.%f")[:-3] + " UTC"


def _fmt(value: object, spec: str = ".3f") -> str:
    return "-" if not isinstance(value, (int, float)) else format(value, spec)


def _drift_table(columns: list[dict[str, object]], shifted: tuple[str, ...]) -> Table:
    table = Table(title=f"Drift per feature: monitor {MONITOR}, the shifted window against the reference")
    for column, justify in (("feature", "left"), ("method", "left"), ("effect", "right"), ("threshold", "right"),
                            ("p-value", "right"), ("drifted", "left"), ("shifted by the demo", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]  # rich's Literal of justifications
    ordered = sorted(columns, key=lambda c: (not c.get("drifted"), str(c.get("column"))))
    for c in ordered:
        drifted = bool(c.get("drifted"))
        table.add_row(
            str(c.get("column")), str(c.get("method") or c.get("status")), _fmt(c.get("effect_size")),
            _fmt(c.get("threshold")), _fmt(c.get("p_value"), ".2g"),
            "[bold red]yes[/bold red]" if drifted else "no", "yes" if c.get("column") in shifted else "",
        )
    return table


def monitor_drift(console: Console, settings: Settings, shift: Shift) -> None:
    """Monitor the shifted window, print the verdicts, evaluate an alert rule, write the report."""
    console.rule("[bold]Monitoring[/bold]: drift of the shifted traffic, an alert, a report")
    home = Path(settings.resolved_home())
    services = build_services(settings)
    try:
        monitors = services.monitors(ACTOR)
        try:
            monitors.delete_monitor(MONITOR)  # a fresh monitor on a store that ran the demo before
        except NotFoundError:
            pass
        window_s = max(1, math.ceil((shift.end_ms - shift.start_ms) / 1000))
        monitor = monitors.create_monitor(MONITOR, DEPLOYMENT, window=window_s)
        console.print(f"$ steward monitor create {MONITOR} --deployment {DEPLOYMENT} --window {window_s}s")
        console.print(f"Monitor {MONITOR}: reference {monitor.reference} (the training data in the primary model version's lineage).")
        # the window [now - window, now) starts where the shifted phase started and covers all of it
        result = monitors.run_monitor(MONITOR, now=shift.start_ms + window_s * 1000)
        summary = result.summary
        drift = summary.get("drift") or {}
        console.print(
            f"Ran {MONITOR} over the shifted phase's window ({window_s} s from {_utc(result.window_start)}): "
            f"{result.status}, {summary.get('rows', 0)} rows"
        )
        if result.status == "failed" or drift.get("status") != "ok":
            console.print(f"[red]The window could not be judged:[/red] {result.error or drift.get('message')}")
            return
        columns = [c for c in drift.get("columns", []) if isinstance(c, dict)]
        console.print(_drift_table(columns, shift.features))
        drifted = [str(c["column"]) for c in columns if c.get("drifted")]
        stable = [c for c in columns if not c.get("drifted") and c.get("status") == "ok"]
        console.print(
            f"Drifted: {', '.join(drifted) or 'none'}; stable: {len(stable)} others "
            f"(drift share {_fmt(drift.get('drift_share'))}; shifted by the demo: {', '.join(shift.features)})"
        )

        rules_path = home / "alerts.yaml"
        rules_path.write_text(ALERT_RULES)
        console.print(f"Alert rules {rules_path}:")
        console.print(ALERT_RULES.rstrip(), style="dim", highlight=False, markup=False)  # [log] is YAML, not markup
        evaluation = services.alerts(ACTOR).evaluate(parse_alert_rules(ALERT_RULES), result.observations(), deployment=DEPLOYMENT)
        evaluation.wait(timeout=10)
        for outcome in evaluation.outcomes:
            fired = [e for e in outcome.events if e.kind is EventKind.FIRED]
            if fired:
                evidence = fired[0].evidence
                console.print(
                    f"[bold]Alert fired: {outcome.rule}[/bold] — drift.share {_fmt(evidence.get('value'))} > "
                    f"{_fmt(evidence.get('threshold'), 'g')} over {evidence.get('sample')} rows (notified: log)"
                )
            elif outcome.state.status is AlertStatus.FIRING:
                console.print(f"Alert {outcome.rule} is still firing since an earlier window (it fires once per episode).")
            else:
                console.print(f"Alert {outcome.rule} did not fire: {outcome.state.status.value}, value {_fmt(outcome.state.value)}.")
        if not evaluation.outcomes:
            console.print("No alert rule observed this window.")

        window = steward.predictions.read(DEPLOYMENT, result.window_start, result.window_end, as_pandas=False, settings=settings)
        inputs = [c for c in window.column_names if c.startswith("input.")]
        reports = home / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        current = reports / "shifted-window.parquet"
        pq.write_table(window.select(inputs).rename_columns([c[len("input."):] for c in inputs]), current)
        drift_report = report(monitor.reference, current, data=services.data(ACTOR))
        html = reports / "drift.html"
        html.write_text(render_html(drift_report), encoding="utf-8")
        console.print(f"$ steward monitor report --reference {monitor.reference} --current {current} --html {html}")
        console.print(f"Drift report: {html} ({len(drift_report.drifted)} of {drift_report.compared} columns drifted)")
    finally:
        services.close()
