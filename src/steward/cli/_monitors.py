"""``steward monitor create|list|show|run|delete``: monitors of deployments (on the ``monitor`` noun)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import typer

from steward.errors import InvalidInputError
from steward.sdk import HttpBackend

from ._monitor import EMBEDDING_OPTION, HTML_OPTION, app
from ._output import echo, note, print_json, print_table
from ._session import run_local_or_remote
from ._time import format_time

T = TypeVar("T")
JSON = dict[str, Any]  # Any: JSON values
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")
NAME_ARGUMENT = typer.Argument(..., help="Monitor name: lowercase letters, digits, '-'.")
SENSITIVE_OPTION = typer.Option([], "--sensitive", help="Input attribute to compute fairness for; repeatable.")


def _run(local: Callable[[Any], T], remote: Callable[[HttpBackend], T]) -> T:  # Any: MonitorService
    return run_local_or_remote(lambda services: services.monitors, local, remote)


def _path(name: str, suffix: str = "") -> str:
    from steward.monitoring._monitors import check_monitor_name

    return f"/monitors/{quote(check_monitor_name(name), safe='')}{suffix}"


def _is_window(reference: str) -> bool:
    return "/" in reference and not reference.startswith("datasets:/")


def _fmt(value: object, spec: str = ".4g") -> str:
    return "-" if value is None else format(value, spec)


def _quality_cell(summary: JSON) -> str:
    q = summary.get("quality") or {}
    if q.get("status") != "ok":
        return q.get("status", "-") if q else "-"
    name = q["primary"]
    interval = q["intervals"].get(name)
    ci = f" [{interval[0]:.3g}, {interval[1]:.3g}]" if interval else ""
    return f"{name} {_fmt(q['metrics'].get(name), '.3g')}{ci} n={q['labelled_rows']}"


def _fairness_cell(summary: JSON) -> str:
    parts = [
        f"{attr}: dp {_fmt(f.get('demographic_parity_difference'), '.2f')} eo {_fmt(f.get('equalized_odds_difference'), '.2f')}"
        for attr, f in (summary.get("fairness") or {}).items()
        if f.get("status") == "ok"
    ]
    return "; ".join(parts) or "-"


def _result_row(r: JSON) -> list[str]:
    s = r["summary"] or {}
    drift = s.get("drift") or {}
    pred = s.get("prediction_drift") or {}
    health = s.get("health") or {}
    lat = health.get("latency_ms") or {}
    cost = (health.get("cost") or {}).get("per_1000_predictions")
    concept = s.get("concept_drift") or {}
    return [
        format_time(r["window_end"]),
        r["status"] if not r.get("error") else f"failed: {r['error'][:80]}",
        str(s.get("rows", "-")),
        ", ".join(drift.get("drifted", [])) or "-",
        "yes" if pred.get("drifted") else pred.get("status", "-") if pred.get("status") != "ok" else "no",
        _quality_cell(s),
        "yes" if concept.get("flagged") else "-",
        _fairness_cell(s),
        f"{_fmt(lat.get('p50'), '.1f')}/{_fmt(lat.get('p95'), '.1f')}/{_fmt(lat.get('p99'), '.1f')}",
        _fmt(health.get("error_rate"), '.2%'),
        _fmt(health.get("throughput_rps"), '.3g'),
        _fmt(cost, '.3g'),
    ]


_RESULT_HEADERS = ["WINDOW END", "STATUS", "ROWS", "DRIFTED", "PRED DRIFT", "QUALITY (95% CI)", "CONCEPT", "FAIRNESS",
                   "LATENCY P50/95/99 MS", "ERRORS", "REQ/S", "COST/1K"]


def _show_results(title: str, results: list[JSON]) -> None:
    if not results:
        note(f"{title}: no results yet (steward monitor run NAME).")
        return
    print_table(_RESULT_HEADERS, [_result_row(r) for r in results], title=title)
    last = results[0].get("summary") or {}
    columns = (last.get("drift") or {}).get("columns") or []
    if columns:
        ordered = sorted(columns, key=lambda c: (not c.get("drifted"), c.get("status") != "ok", c["column"]))
        print_table(
            ["COLUMN", "METHOD", "P-VALUE", "EFFECT", "THRESHOLD", "DRIFTED", "NOTE"],
            [[c["column"], c.get("method") or "", _fmt(c.get("p_value"), ".3g"), _fmt(c.get("effect_size")),
              _fmt(c.get("threshold")), "yes" if c.get("drifted") else "", c.get("message") or c.get("status", "")]
             for c in ordered],
            title="latest window, per feature",
        )
    cost = (last.get("health") or {}).get("cost") or {}
    if cost and not cost.get("measured_rows"):
        note("cost: the window's log rows carry no measured CPU time (a server before CPU measurement): no cost")
    message = (last.get("drift") or {}).get("message")
    if message:
        echo(message)


@app.command("create")
def create(
    name: str = NAME_ARGUMENT,
    deployment: str = typer.Option(..., "--deployment", "-d", help="The deployment to watch."),
    reference: str | None = typer.Option(
        None, "--reference", help="Dataset version (transactions:3) or a time window of the log START/END; "
        "default: the training dataset in the deployment's model version lineage.",
    ),
    window: str = typer.Option("1h", "--window", help="Log a run reads: 15m, 1h, 1d ..."),
    schedule: str | None = typer.Option(None, "--schedule", help="5-field cron (UTC) the server runs it on, e.g. '*/15 * * * *'."),
    sensitive: list[str] = SENSITIVE_OPTION,
    min_rows: int | None = typer.Option(None, "--min-rows", min=1, help="Fewest rows a window needs (default: the setting)."),
    sensitivity: str = typer.Option("medium", "--sensitivity", help="low | medium | high (drift effect-size thresholds)."),
    embedding: list[str] = EMBEDDING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a monitor of a deployment's prediction log."""
    ref = None if reference is None or _is_window(reference) else reference
    ref_window = reference if reference is not None and _is_window(reference) else None
    body: JSON = {"name": name, "deployment": deployment, "reference": ref, "reference_window": ref_window, "window": window,
                  "schedule": schedule, "sensitive": sensitive, "min_rows": min_rows, "sensitivity": sensitivity,
                  "embeddings": embedding}
    document: JSON = _run(
        lambda s: s.create_monitor(
            name, deployment, reference=ref, reference_window=ref_window, window=window, schedule=schedule,
            sensitive=sensitive, min_rows=min_rows, sensitivity=sensitivity, embeddings=embedding,
        ).to_dict(),
        lambda b: dict(b._call("POST", "/monitors", body={k: v for k, v in body.items() if v is not None})),
    )
    if as_json:
        print_json(document)
        return
    typer.echo(
        f"Monitor {document['name']} watches {document['deployment']} against {document['reference']} "
        f"every {document['schedule'] or 'run on demand'} (window {document['window_s']}s)."
    )


@app.command("list")
def list_monitors(
    project: str | None = typer.Option(None, "--project", help="Only this project's monitors."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List monitors."""
    found: list[JSON] = _run(
        lambda s: [m.to_dict() for m in s.list_monitors(project=project)],
        lambda b: list(b._call("GET", "/monitors", params={"project": project} if project else None)["monitors"]),
    )
    if as_json:
        print_json({"monitors": found})
        return
    if not found:
        note("No monitors.")
        return
    rows = [[m["name"], m["deployment"], m["project"], m["reference"], f"{m['window_s']}s", m["schedule"] or "-",
             format_time(m["next_run_at"])] for m in found]
    print_table(["NAME", "DEPLOYMENT", "PROJECT", "REFERENCE", "WINDOW", "SCHEDULE", "NEXT RUN"], rows)


@app.command("show")
def show(
    name: str = NAME_ARGUMENT,
    max_results: int = typer.Option(20, "--max-results", min=1, max=10_000, help="Newest windows shown."),
    as_json: bool = JSON_OPTION,
    html: Path | None = HTML_OPTION,
) -> None:
    """A monitor and its newest windows: drift, quality, fairness, health and cost."""
    document: JSON = _run(
        lambda s: {**s.get_monitor(name).to_dict(), "results": [r.to_dict() for r in s.list_results(name, max_results=max_results)]},
        lambda b: dict(b._call("GET", _path(name), params={"max_results": max_results})),
    )
    if html is not None:
        from steward.monitoring import render_monitor_html

        try:
            html.write_text(render_monitor_html(document, list(document["results"])), encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot write the report to {str(html)[:300]!r}: {exc.strerror}", field="--html") from exc
        if not as_json:
            note(f"HTML report over {len(document['results'])} windows: {html}")
    if as_json:
        print_json(document)
        return
    title = f"{document['name']}  {document['deployment']}  vs {document['reference']}  window {document['window_s']}s"
    _show_results(title, list(document["results"]))


@app.command("run")
def run(name: str = NAME_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Compute the latest window now and store it; exit 1 when it drifted or failed."""
    result: JSON = _run(lambda s: s.run_monitor(name).to_dict(), lambda b: dict(b._call("POST", _path(name, "/run"))))
    if as_json:
        print_json(result)
    else:
        _show_results(name, [result])
    if result["status"] in ("drift", "concept_drift", "failed"):
        raise typer.Exit(1)


@app.command("delete")
def delete(name: str = NAME_ARGUMENT) -> None:
    """Delete a monitor and its results."""
    _run(lambda s: s.delete_monitor(name), lambda b: b._call("DELETE", _path(name)))
    typer.echo(f"Deleted monitor {name}.")
