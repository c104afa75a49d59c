"""The UI's deployment and monitor pages: traffic split, live request rate, latency and
errors, rollout progress, promote / rollback (the REST routes' service calls after their
checks); monitors' drift per feature over time, quality, health and alerts."""

from __future__ import annotations

import itertools
import math
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from starlette.responses import RedirectResponse, Response

from steward.core.rollout import latency_quantile_ms
from steward.core.traffic import LATENCY_BUCKETS_MS
from steward.errors import ConflictError, InvalidInputError
from steward.monitoring._html_monitor import _get, _number

from ._access import Caller
from ._pages import _form, _script_json
from ._web import render

JSON = dict[str, Any]  # Any: JSON values
_D = "/api/v1/deployments/{name}"
LIVE_WINDOW_MS = 3_600_000
MONITOR_RESULTS = 50
MAX_FEATURES = 12


def _iso(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- deployments ------------------------------------------------------------------------------


def deployments_page(caller: Caller) -> Response:
    readable = caller.check("GET", "/api/v1/deployments")
    items = caller.services.deployments(caller.actor).list_deployments(projects=readable)
    return render(caller, "deployments.html", title="Deployments", deployments=items)


def _live(stats: list[Any]) -> tuple[JSON, JSON]:  # Any: VariantStats
    """Per window of the serving replicas' reports: request rate, error rate and latency
    quantiles (all variants summed), as charts and as the last hour's totals."""
    windows: dict[int, list[Any]] = {}
    for s in stats:
        windows.setdefault(int(s.window_start_ms), []).append(s)
    times, rps, errors, p50, p95 = [], [], [], [], []
    for start in sorted(windows):
        group = windows[start]
        span_s = max(1.0, (max(s.window_end_ms for s in group) - start) / 1000)
        requests = sum(s.requests for s in group)
        counts = [sum(s.latency_counts[i] for s in group) for i in range(len(LATENCY_BUCKETS_MS))]
        times.append(_iso(start))
        rps.append(requests / span_s)
        errors.append(sum(s.errors for s in group) / requests if requests else None)
        p50.append(latency_quantile_ms(counts, 0.5))
        p95.append(latency_quantile_ms(counts, 0.95))
    line = {"type": "scatter", "mode": "lines+markers", "x": times}
    charts = {
        "rps": {"traces": [{**line, "y": rps, "name": "requests/s"}], "layout": {"yaxis": {"title": {"text": "requests/s"}}}},
        "errors": {"traces": [{**line, "y": errors, "name": "error rate"}], "layout": {"yaxis": {"title": {"text": "error rate"}, "tickformat": ".1%"}}},
        "latency": {"traces": [{**line, "y": p50, "name": "p50"}, {**line, "y": p95, "name": "p95"}], "layout": {"yaxis": {"title": {"text": "ms"}}}},
    }
    total = sum(s.requests for s in stats)
    counts = [sum(s.latency_counts[i] for s in stats) for i in range(len(LATENCY_BUCKETS_MS))]
    totals = {
        "requests": total, "errors": sum(s.errors for s in stats), "windows": len(windows),
        "error_rate": (sum(s.errors for s in stats) / total) if total else None,
        "p50": latency_quantile_ms(counts, 0.5) if total else None, "p95": latency_quantile_ms(counts, 0.95) if total else None,
    }
    return charts, totals


def deployment_page(caller: Caller, name: str, *, error: str | None = None, form: dict[str, str] | None = None, status: int = 200) -> Response:
    caller.check("GET", _D, name=name)
    svc = caller.services.deployments(caller.actor)
    deployment = svc.get_deployment(name)
    caller.check("GET", f"{_D}/rollout", name=name)
    rollout = svc.rollout_status(name)
    caller.check("GET", f"{_D}/history", name=name)
    history = svc.list_history(name, max_results=50)
    # the serving replicas' reports of the current plan over the last hour (what the rollout controller reads)
    stats = svc.stats_since(name, int(time.time() * 1000) - LIVE_WINDOW_MS, revision=deployment.plan.revision)
    charts, totals = _live(stats)
    live = [v for v in deployment.plan.variants if not v.shadow]
    charts["split"] = {
        "traces": [{"type": "bar", "orientation": "h", "y": [f"{v.name} ({v.model})" for v in live], "x": [v.weight for v in live]}],
        "layout": {"xaxis": {"title": {"text": "% of traffic"}, "range": [0, 100]}, "height": 90 + 40 * len(live), "margin": {"l": 180, "r": 10, "t": 10, "b": 40}},
    }
    steps: list[float] = []
    step = None
    record = rollout.get("rollout")
    if isinstance(record, Mapping):
        raw = _get(record, "policy", "steps") or record.get("steps") or []
        steps = [float(s) for s in raw if isinstance(s, int | float)] if isinstance(raw, list) else []
        step = record.get("step")
    has_candidate = any(v.name in ("candidate", "shadow") for v in deployment.plan.variants)
    return render(
        caller, "deployment.html", status=status, title=f"Deployment {name}", deployment=deployment, rollout=rollout,
        rollout_record=record if isinstance(record, Mapping) else None, steps=steps, step=step, history=history,
        totals=totals, charts_json=_script_json(charts), error=error, form={"action": "", "reason": ""} | (form or {}),
        notice=caller.request.query_params.get("done", "")[:200] or None, has_candidate=has_candidate,
        may_promote=caller.may("POST", f"{_D}/promote", name=name), may_rollback=caller.may("POST", f"{_D}/rollback", name=name),
    )


def _traffic_action(caller: Caller, name: str, verb: str) -> Response:
    caller.check("POST", f"{_D}/{verb}", name=name)
    reason = _form(caller, "reason")
    form = {"action": verb, "reason": reason}
    svc = caller.services.deployments(caller.actor)
    try:
        if len(reason) > 2000:
            raise InvalidInputError("a reason is at most 2,000 characters", field="reason")
        changed = svc.promote(name, reason=reason) if verb == "promote" else svc.rollback(name, reason=reason)
    except (InvalidInputError, ConflictError) as exc:
        return deployment_page(caller, name, error=exc.message, form=form, status=409 if isinstance(exc, ConflictError) else 400)
    done = f"{'promoted' if verb == 'promote' else 'rolled back'} (revision {changed.plan.revision})"
    return RedirectResponse(f"/deployments/{urllib.parse.quote(name, safe='')}?done={urllib.parse.quote(done)}", status_code=303)


def promote_deployment(caller: Caller, name: str) -> Response:
    return _traffic_action(caller, name, "promote")


def rollback_deployment(caller: Caller, name: str) -> Response:
    return _traffic_action(caller, name, "rollback")


# -- monitors ---------------------------------------------------------------------------------


def monitors_page(caller: Caller) -> Response:
    readable = caller.check("GET", "/api/v1/monitors")
    items = caller.services.monitors(caller.actor).list_monitors(projects=readable)
    return render(caller, "monitors.html", title="Monitors", monitors=items)


def _monitor_charts(results: list[JSON]) -> tuple[JSON, list[JSON]]:
    """Charts over the windows (oldest left) from the results' JSON forms, the data the
    ``steward monitor show --html`` report reads; and per feature, its latest comparison."""
    ordered = sorted(results, key=lambda r: int(r.get("window_end") or 0))
    times = [_iso(int(r.get("window_end") or 0)) for r in ordered]
    line = {"type": "scatter", "mode": "lines+markers", "x": times}

    def series(*path: str) -> list[float | None]:
        return [_number(_get(r, "summary", *path)) for r in ordered]

    effects: dict[str, list[float | None]] = {}
    drifted: dict[str, int] = {}
    latest: dict[str, JSON] = {}
    for i, r in enumerate(ordered):
        columns = _get(r, "summary", "drift", "columns")
        for c in columns if isinstance(columns, list) else []:
            if isinstance(c, Mapping) and isinstance(c.get("column"), str):
                effects.setdefault(c["column"], [None] * len(ordered))[i] = _number(c.get("effect_size"))
                drifted[c["column"]] = drifted.get(c["column"], 0) + (1 if c.get("drifted") else 0)
                latest[c["column"]] = dict(c)
    shown = sorted(effects, key=lambda f: (-drifted[f], f))[:MAX_FEATURES]
    charts: JSON = {
        "drift-share": {"traces": [{**line, "y": series("drift", "drift_share"), "name": "drift share"}],
                        "layout": {"yaxis": {"title": {"text": "share of drifted features"}, "tickformat": ".0%"}}},
        "features": {"traces": [{**line, "y": effects[f], "name": f} for f in shown],
                     "layout": {"yaxis": {"title": {"text": "effect size"}}, "height": 300}},
        "latency": {"traces": [{**line, "y": series("health", "latency_ms", q), "name": q} for q in ("p50", "p95", "p99")],
                    "layout": {"yaxis": {"title": {"text": "ms"}}}},
        "health-errors": {"traces": [{**line, "y": series("health", "error_rate"), "name": "error rate"}],
                          "layout": {"yaxis": {"title": {"text": "error rate"}, "tickformat": ".1%"}}},
    }
    primary = next((str(_get(r, "summary", "quality", "primary")) for r in reversed(ordered) if _get(r, "summary", "quality", "primary")), None)
    if primary is not None:
        charts["quality"] = {"traces": [{**line, "y": series("quality", "metrics", primary), "name": primary}],
                             "layout": {"yaxis": {"title": {"text": primary}}}}
    features = [{"column": f, "windows_drifted": drifted[f], **latest[f]} for f in sorted(latest, key=lambda f: (-drifted[f], f))]
    for i, feature in enumerate(features[:MAX_FEATURES]):
        overlay = _overlay(feature.get("histogram"))
        if overlay is not None:
            charts[f"dist-{i}"], feature["bins"] = overlay
            feature["chart"] = f"dist-{i}"
    return charts, features


def _counts(raw: object, size: int) -> list[int] | None:
    if not isinstance(raw, list) or len(raw) != size or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw):
        return None
    return list(raw)


def _overlay(histogram: object) -> tuple[JSON, list[JSON]] | None:
    """A feature's reference and current distributions, overlaid (the newest window that
    compared it), and the same numbers as table rows; None for a result without counts
    (windows computed before they were kept, embeddings, columns not compared)."""
    if not isinstance(histogram, Mapping):
        return None
    if histogram.get("kind") == "categorical":
        labels = histogram.get("categories")
        if not isinstance(labels, list) or not labels:
            return None
        labels = [str(x) for x in labels]
        widths: list[float] | None = None
        x: list[Any] = labels  # Any: category names or bin centres
    else:
        edges = histogram.get("edges")
        if not isinstance(edges, list) or not all(isinstance(e, int | float) and not isinstance(e, bool) and math.isfinite(e) for e in edges):
            return None
        edges = [float(e) for e in edges]
        if not edges:
            return None
        # the outer two bins are open-ended: drawn as wide as their neighbours (a single edge: a unit)
        inner = [b - a for a, b in itertools.pairwise(edges)] or [1.0]
        lows = [edges[0] - (inner[0] or 1.0), *edges]
        highs = [*edges, edges[-1] + (inner[-1] or 1.0)]
        widths = [max(h - lo, 1e-12) for lo, h in zip(lows, highs, strict=True)]
        x = [(lo + h) / 2 for lo, h in zip(lows, highs, strict=True)]
        labels = [f"< {edges[0]:.4g}"] + [f"[{lo:.4g}, {h:.4g})" for lo, h in itertools.pairwise(edges)] + [f">= {edges[-1]:.4g}"]
    ref, cur = _counts(histogram.get("reference"), len(labels)), _counts(histogram.get("current"), len(labels))
    if ref is None or cur is None:
        return None
    traces = []
    for name, counts in (("reference", ref), ("current", cur)):
        total = max(sum(counts), 1)
        shares = [c / total for c in counts]
        y = shares if widths is None else [v / w for v, w in zip(shares, widths, strict=True)]
        trace: JSON = {"type": "bar", "name": name, "x": x, "y": y, "opacity": 0.55, "customdata": labels,
                       "hovertemplate": "%{customdata}: %{y:.3g}<extra>" + name + "</extra>"}
        if widths is not None:
            trace["width"] = widths
        traces.append(trace)
    axis = {"title": {"text": "share" if widths is None else "density"}}
    layout: JSON = {"barmode": "overlay", "yaxis": axis, "height": 220, "bargap": 0 if widths is not None else 0.2}
    rows = [{"bin": label, "reference": r, "current": c} for label, r, c in zip(labels, ref, cur, strict=True)]
    return {"traces": traces, "layout": layout}, rows


def monitor_page(caller: Caller, name: str) -> Response:
    caller.check("GET", "/api/v1/monitors/{name}", name=name)
    svc = caller.services.monitors(caller.actor)
    monitor = svc.get_monitor(name)
    results = [r.to_dict() for r in svc.list_results(name, max_results=MONITOR_RESULTS)]
    charts, features = _monitor_charts(results)
    primary = next((str(_get(r, "summary", "quality", "primary")) for r in results if _get(r, "summary", "quality", "primary")), None)
    alerts: list[JSON] | None = None
    if caller.may("GET", "/api/v1/alerts"):
        caller.check("GET", "/api/v1/alerts")
        alerts = [a.to_dict() for a in caller.services.alerts(caller.actor).list_alerts() if a.deployment == monitor.deployment]
    for r in results:
        r["rows"] = _get(r, "summary", "rows") or 0
        r["note"] = r.get("error") or _get(r, "summary", "drift", "message") or ""
        r["quality"] = _number(_get(r, "summary", "quality", "metrics", primary)) if primary else None
    return render(
        caller, "monitor.html", title=f"Monitor {name}", monitor=monitor.to_dict(), results=results, features=features,
        primary=primary, alerts=alerts, charts_json=_script_json(charts),
    )

