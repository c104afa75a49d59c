"""A monitor's windows over time as one self-contained HTML file: inline CSS and SVG, no script, no CDN.

Panels: drift (share of drifted features, the domain classifier's ROC-AUC, each feature's effect
against its threshold), quality (the primary metric with its confidence interval and the number
of labelled rows), service health (latency p50/p95/p99, error rate, throughput) and cost per
1,000 predictions. Input is the JSON form of a monitor and its results (what ``steward monitor
show --json`` prints), so the page renders the same from the embedded store or a server.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from steward._report_style import page

__all__ = ["render_monitor_html"]

JSON = Mapping[str, Any]  # Any: JSON values
_W, _H, _PAD = 640, 160, 40
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
_MAX_FEATURES = 40


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _get(doc: object, *path: str) -> object:
    for key in path:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return doc


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%m-%d %H:%M")


def _chart(
    title: str,
    times: Sequence[int],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    band: tuple[Sequence[float | None], Sequence[float | None]] | None = None,
    threshold: float | None = None,
    fmt: str = ".3g",
    notes: Sequence[str] | None = None,
) -> str:
    """A line chart over the windows (oldest left), one polyline per series; gaps where a value is missing."""
    values = [v for _, ys in series for v in ys if v is not None]
    if band is not None:
        values += [v for side in band for v in side if v is not None]
    if threshold is not None:
        values.append(threshold)
    if not values or not times:
        return f'<div class="panel"><h3>{escape(title)}</h3><p class="note">no value in these windows</p></div>'
    lo, hi = min(values + [0.0]), max(values)
    hi = hi if hi > lo else lo + 1.0
    n = len(times)

    def x(i: int) -> float:
        return _PAD + (i * (_W - 2 * _PAD) / (n - 1) if n > 1 else (_W - 2 * _PAD) / 2)

    def y(v: float) -> float:
        return _H - 20 - (v - lo) / (hi - lo) * (_H - 40)

    parts = [f'<svg width="{_W}" height="{_H}" role="img" aria-label="{escape(title)}">']
    parts.append(f'<line class="axis" x1="{_PAD}" y1="{_H - 20}" x2="{_W - _PAD}" y2="{_H - 20}"/>')
    parts.append(f'<text x="2" y="{y(hi) + 4:.1f}" font-size="10">{format(hi, fmt)}</text>')
    parts.append(f'<text x="2" y="{y(lo) + 4:.1f}" font-size="10">{format(lo, fmt)}</text>')
    if band is not None:
        upper = [(x(i), y(v)) for i, v in enumerate(band[1]) if v is not None]
        lower = [(x(i), y(v)) for i, v in enumerate(band[0]) if v is not None]
        if upper and lower:
            outline = " ".join(f"{a:.1f},{b:.1f}" for a, b in [*upper, *reversed(lower)])
            parts.append(f'<polygon points="{outline}" fill="#1f77b4" fill-opacity="0.15"><title>95% interval</title></polygon>')
    if threshold is not None:
        parts.append(
            f'<line x1="{_PAD}" y1="{y(threshold):.1f}" x2="{_W - _PAD}" y2="{y(threshold):.1f}" stroke="#d62728" '
            f'stroke-dasharray="4 3"><title>threshold {format(threshold, fmt)}</title></line>'
        )
    legend = []
    for k, (label, ys) in enumerate(series):
        colour = _COLOURS[k % len(_COLOURS)]
        points = [(i, v) for i, v in enumerate(ys) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for i, v in points:
            tip = f"{label} {_time(times[i])}: {format(v, fmt)}" + (f" ({notes[i]})" if notes and notes[i] else "")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"><title>{escape(tip)}</title></circle>')
        legend.append(f'<span style="color:{colour}">&#9632; {escape(label)}</span>')
    parts.append(f'<text x="{_PAD}" y="{_H - 4}" font-size="10">{_time(times[0])}</text>')
    parts.append(f'<text x="{_W - _PAD}" y="{_H - 4}" font-size="10" text-anchor="end">{_time(times[-1])}</text>')
    parts.append("</svg>")
    return f'<div class="panel"><h3>{escape(title)}</h3>{"".join(parts)}<div class="legend">{" ".join(legend)}</div></div>'


def _feature_table(times: Sequence[int], results: Sequence[JSON]) -> str:
    """Each feature's effect per window against its threshold (red: drifted), as a heat table."""
    by_feature: dict[str, list[JSON | None]] = {}
    for i, r in enumerate(results):
        columns = _get(r, "summary", "drift", "columns")
        for c in columns if isinstance(columns, list) else []:
            if isinstance(c, Mapping) and isinstance(c.get("column"), str):
                by_feature.setdefault(c["column"], [None] * len(results))[i] = c
    if not by_feature:
        return '<p class="note">no window compared its features</p>'
    ordered = sorted(by_feature, key=lambda f: (-sum(1 for c in by_feature[f] if c and c.get("drifted")), f))[:_MAX_FEATURES]
    head = "".join(f"<th>{_time(t)}</th>" for t in times)
    rows = []
    for feature in ordered:
        cells = []
        for c in by_feature[feature]:
            if c is None:
                cells.append("<td></td>")
                continue
            effect, limit = _number(c.get("effect_size")), _number(c.get("threshold"))
            if effect is None:
                cells.append(f'<td class="note">{escape(str(c.get("status", "")).replace("_", " "))}</td>')
                continue
            ratio = min(effect / limit, 2.0) if limit else 0.0
            colour = "#d62728" if c.get("drifted") else f"rgba(31,119,180,{0.1 + 0.4 * ratio / 2:.2f})"
            tip = f"{c.get('method')}: effect {effect:.4g}, threshold {limit}, p {c.get('p_value')}"
            cells.append(f'<td style="background:{colour}" title="{escape(tip)}">{effect:.3g}</td>')
        rows.append(f"<tr><th>{escape(feature)}</th>{''.join(cells)}</tr>")
    return f'<table class="heat"><thead><tr><th>feature</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_monitor_html(monitor: JSON, results: Sequence[JSON]) -> str:
    """A monitor's windows over time as a standalone HTML page.

    Args:
        monitor: the monitor's JSON form (``Monitor.to_dict()``).
        results: its results' JSON forms (``MonitorResult.to_dict()``), in any order.

    Returns:
        The HTML text (opens with no network access).
    """
    ordered = sorted(results, key=lambda r: int(r.get("window_end") or 0))
    times = [int(r.get("window_end") or 0) for r in ordered]

    def series(*path: str) -> list[float | None]:
        return [_number(_get(r, "summary", *path)) for r in ordered]

    auc_limit = next((_number(_get(r, "summary", "drift", "multivariate", "threshold")) for r in reversed(ordered)
                      if _get(r, "summary", "drift", "multivariate", "threshold") is not None), None)
    drift = _chart("Share of drifted features", times, [("drift share", series("drift", "drift_share"))], fmt=".0%")
    auc = _chart("Domain classifier ROC-AUC (0.5 = chance)", times, [("ROC-AUC", series("drift", "multivariate", "roc_auc"))],
                 threshold=auc_limit)
    primary = next((str(_get(r, "summary", "quality", "primary")) for r in reversed(ordered)
                    if _get(r, "summary", "quality", "primary")), None)
    if primary is not None:
        intervals = [_get(r, "summary", "quality", "intervals", primary) for r in ordered]
        low = [_number(i[0]) if isinstance(i, Sequence) and len(i) == 2 else None for i in intervals]
        high = [_number(i[1]) if isinstance(i, Sequence) and len(i) == 2 else None for i in intervals]
        labelled = [_get(r, "summary", "quality", "labelled_rows") for r in ordered]
        notes = [f"{n:,} labelled rows" if isinstance(n, int) else "" for n in labelled]
        quality = _chart(f"Quality: {primary} with its 95% interval", times,
                         [(primary, series("quality", "metrics", primary))], band=(low, high), notes=notes)
        quality += _chart("Labelled rows per window", times,
                          [("labelled rows", [float(n) if isinstance(n, int) else None for n in labelled])], fmt=",.0f")
    else:
        quality = '<div class="panel"><h3>Quality</h3><p class="note">no window had labelled rows</p></div>'
    latency = _chart("Latency (ms)", times, [
        ("p50", series("health", "latency_ms", "p50")), ("p95", series("health", "latency_ms", "p95")),
        ("p99", series("health", "latency_ms", "p99")),
    ])
    errors = _chart("Error rate", times, [("error rate", series("health", "error_rate"))], fmt=".2%")
    throughput = _chart("Throughput (requests/s)", times, [("requests/s", series("health", "throughput_rps"))])
    cost = _chart("Cost per 1,000 predictions (measured CPU-seconds x price per CPU-hour)", times,
                  [("cost / 1k", series("health", "cost", "per_1000_predictions"))], fmt=".3g")
    statuses = "".join(
        f'<tr><td>{_time(int(r.get("window_start") or 0))} &ndash; {_time(int(r.get("window_end") or 0))}</td>'
        f'<td class="{"drift" if r.get("status") in ("drift", "concept_drift", "failed") else "ok"}">{escape(str(r.get("status")))}</td>'
        f'<td>{_get(r, "summary", "rows") or 0:,}</td><td>{escape(str(r.get("error") or _get(r, "summary", "drift", "message") or ""))}</td></tr>'
        for r in reversed(ordered)
    )
    name = str(monitor.get("name", ""))
    title = f"Monitor {name}: {monitor.get('deployment', '')} vs {monitor.get('reference', '')}"
    flagged = [r for r in reversed(ordered) if r.get("status") in ("drift", "concept_drift", "failed")]
    lead = (
        f'<p class="drift">{len(flagged)} of {len(ordered)} windows flagged; latest: {escape(str(flagged[0].get("status")))} '
        f'at {_time(int(flagged[0].get("window_end") or 0))}.</p>' if flagged else '<p class="ok">No window flagged.</p>'
    )
    body = f"""<h1>{escape(title)}</h1>
{lead}
<p>{len(ordered)} windows of {monitor.get("window_s")} s; oldest on the left. Hover a point for its value.</p>
<h2 id="drift">Drift</h2>
{drift}{auc}
<h3>Effect per feature and window (red: drifted; shade: effect against the threshold)</h3>
{_feature_table(times, ordered)}
<h2 id="quality">Quality</h2>
{quality}
<h2 id="health">Service health and cost</h2>
{latency}{errors}{throughput}{cost}
<h2 id="windows">Windows</h2>
<table><thead><tr><th>window</th><th>status</th><th>rows</th><th>note</th></tr></thead><tbody>{statuses}</tbody></table>"""
    return page(title, body, extra_css=_EXTRA_CSS)


_EXTRA_CSS = (
    ".panel{display:inline-block;vertical-align:top;margin:0 1em 1em 0}.panel h3{font-size:100%;margin:0 0 4px}"
    ".legend{font-size:85%}table.heat td{text-align:right;min-width:3.5em}table.heat{width:auto}"
)
