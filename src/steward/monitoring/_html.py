"""The drift report as one self-contained HTML file: inline CSS and SVG, no script, no CDN."""

from __future__ import annotations

from html import escape

from ._report import ColumnDrift, DriftReport

__all__ = ["render_html"]

_WIDTH = 520
_BAR_AREA = 150


def _fmt(value: float | None, spec: str = ".4g") -> str:
    return "" if value is None else format(value, spec)


def _overlay_svg(column: ColumnDrift) -> str:
    """Reference (grey) and current (blue or red) shares side by side per bin or category."""
    if column.overlay is None:
        return ""
    labels, ref, cur = column.overlay
    n = len(labels)
    if n == 0:
        return ""
    top = max(max(ref, default=0.0), max(cur, default=0.0)) or 1.0
    slot = _WIDTH / n
    bar = max(slot / 2 - 1, 1.0)
    current = "bad" if column.drifted else "bar"
    parts = [f'<svg width="{_WIDTH}" height="{_BAR_AREA + 20}" role="img" aria-label="distribution of {escape(column.column)}">']
    for i, (label, r, c) in enumerate(zip(labels, ref, cur, strict=True)):
        x = i * slot
        for offset, share, css, who in ((0.0, r, "ref", "reference"), (bar, c, current, "current")):
            h = share / top * _BAR_AREA
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{_BAR_AREA - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                f"<title>{escape(label)}: {who} {share:.2%}</title></rect>"
            )
    parts.append(f'<text x="0" y="{_BAR_AREA + 15}" font-size="11">{escape(labels[0])}</text>')
    parts.append(f'<text x="{_WIDTH}" y="{_BAR_AREA + 15}" font-size="11" text-anchor="end">{escape(labels[-1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _row(column: ColumnDrift) -> str:
    verdict = "DRIFT" if column.drifted else ("ok" if column.status == "ok" else column.status.replace("_", " "))
    css = "drift" if column.drifted else ("ok" if column.status == "ok" else "note")
    cells = [
        escape(column.column),
        column.kind,
        column.method or "",
        _fmt(column.statistic),
        _fmt(column.p_value, ".3g"),
        _fmt(column.effect_size),
        _fmt(column.threshold),
        "" if column.missing_reference is None else f"{column.missing_reference:.1%} &rarr; {column.missing_current:.1%}",
        f'<span class="{css}">{escape(verdict)}</span>',
    ]
    detail = f'<div class="msg">{escape(column.message)}</div>' if column.message else ""
    if column.embedding is not None:
        e = column.embedding
        detail += (
            f'<div class="msg">embedding of {int(e["dimensions"])} dimensions: MMD² {_fmt(column.statistic)} on '
            f'{int(e["sample_rows"]):,} sampled vectors per side (RBF bandwidth {e["bandwidth"]:.3g}); distance between '
            f'the means {e["euclidean"]:.3g} reference spreads, cosine {e["cosine"]:.3g}</div>'
        )
    return (
        "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        f'<tr class="plot"><td colspan="9">{detail}{_overlay_svg(column)}</td></tr>'
    )


def _multivariate(report: DriftReport) -> str:
    """The domain classifier's panel: ROC-AUC against its threshold and the features behind it."""
    mv = report.multivariate
    if mv is None:
        return ""
    if mv.status != "ok" or mv.roc_auc is None:
        return f'<h2>Multivariate drift</h2><p class="note">{escape(mv.status.replace("_", " "))}: {escape(mv.message or "")}</p>'
    css, verdict = ("drift", "DRIFT") if mv.drifted else ("ok", "ok")
    bars = ""
    if mv.top_features:
        top = max(v for _, v in mv.top_features) or 1.0
        rows = []
        for i, (name, value) in enumerate(mv.top_features):
            w = value / top * 300
            rows.append(
                f'<text x="0" y="{i * 22 + 15}" font-size="12">{escape(name[:40])}</text>'
                f'<rect class="bad" x="180" y="{i * 22 + 3}" width="{w:.1f}" height="16"><title>{escape(name)}: AUC drop {value:.4f}</title></rect>'
                f'<text x="{185 + w:.1f}" y="{i * 22 + 15}" font-size="11">{value:.3f}</text>'
            )
        bars = (
            f'<p>Features the classifier relies on (drop of its ROC-AUC when the feature is shuffled):</p>'
            f'<svg width="{_WIDTH}" height="{len(rows) * 22 + 6}" role="img" aria-label="top features">{"".join(rows)}</svg>'
        )
    excluded = ", ".join(f"{escape(c)} ({escape(r)})" for c, r in mv.excluded)
    return (
        "<h2>Multivariate drift</h2>"
        f'<p>A domain classifier (gradient boosting, {mv.folds}-fold cross-validation on {mv.reference_rows:,} reference and '
        f"{mv.current_rows:,} current rows) tells current from reference rows with <b>ROC-AUC {mv.roc_auc:.3f}</b> "
        f"(threshold {mv.threshold}, p-value {mv.p_value:.3g}): <span class=\"{css}\">{verdict}</span>. "
        "0.5 is chance: the rows as a whole look alike.</p>"
        + bars
        + (f'<p class="msg">Left out: {excluded}</p>' if excluded else "")
    )


def _table(columns: list[ColumnDrift]) -> str:
    head = "".join(
        f"<th>{h}</th>" for h in ("column", "kind", "method", "statistic", "p-value (adj.)", "effect", "threshold", "missing", "verdict")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(_row(c) for c in columns)}</tbody></table>"


def render_html(report: DriftReport) -> str:
    """The report as a standalone HTML page in the UI's look: drifted columns first, the rest folded.

    Args:
        report: a :class:`DriftReport`.

    Returns:
        The HTML text (opens with no network access).
    """
    from steward._report_style import badge, folded, page

    ordered = sorted(report.columns, key=lambda c: (not c.drifted, c.status == "ok", c.column))
    flagged = [c for c in ordered if c.drifted or c.status != "ok"]
    steady = [c for c in ordered if not (c.drifted or c.status != "ok")]
    title = f"Drift: {report.current} vs {report.reference}"
    verdict = badge(f"{len(report.drifted)} drifted", "fail") if report.drifted else badge("no drift", "pass")
    body = [
        f"<h1>{escape(title)} {verdict}</h1>",
        f"""<p>{len(report.drifted)} of {report.compared} compared columns drifted (share {report.drift_share:.1%});
reference {report.reference_rows:,} rows, current {report.current_rows:,} rows; sensitivity {escape(report.sensitivity)},
{escape(report.correction)} correction at alpha {report.alpha}. A column is flagged only when its change is significant
after the correction and at least the effect-size threshold.</p>""",
        ('<p class="legend"><svg width="12" height="12"><rect class="ref" width="12" height="12"/></svg> reference &nbsp; '
         '<svg width="12" height="12"><rect class="bar" width="12" height="12"/></svg> current &nbsp; '
         '<svg width="12" height="12"><rect class="bad" width="12" height="12"/></svg> current (drifted)</p>'),
    ]
    if flagged:
        body.append(f"<h2>Drifted or not compared ({len(flagged)})</h2>{_table(flagged)}")
    else:
        body.append('<p class="pass">No column drifted.</p>')
    if steady:
        body.append(f"<h2>Stable ({len(steady)})</h2>" + folded(f"{len(steady)} columns without drift", _table(steady)))
    body.append(_multivariate(report))
    return page(title, "\n".join(body), extra_css=_EXTRA_CSS)


_EXTRA_CSS = "tr.plot td{border-bottom:2px solid var(--line);padding-bottom:12px}.msg{font-size:90%;color:var(--muted);margin:4px 0}"
