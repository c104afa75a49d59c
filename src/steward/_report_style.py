"""The look every HTML report shares with the web UI, and small inline-SVG charts.

Reports (validation, evaluation and model card, drift, monitor) are single files that open with
no network: this module gives them the UI's palette (``steward/ui/static/ui.css``: the same
colour variables, dark and light following ``prefers-color-scheme``) as one inline stylesheet,
plus helpers for the common parts: a page shell, status badges, escaped tables, folded sections
(``<details>``, no script needed) and charts drawn as inline SVG (histograms with an expected
range, category bars, line curves). Nothing here links to or fetches anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["REPORT_CSS", "badge", "bars_svg", "folded", "histogram_svg", "line_svg", "page", "range_svg", "table"]

REPORT_CSS = """
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;--accent:#0969da;
--err-bg:#ffebe9;--err-fg:#82071e;--warn-bg:#fff8c5;--warn-fg:#7d4e00;--ok:#116329;--ok-bg:#dafbe1;
--bar:#0969da;--ref:#8c959f;--bad:#cf222e;--band:rgba(17,99,41,.14);color-scheme:light dark}
@media (prefers-color-scheme: dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;
--panel:#161b22;--accent:#58a6ff;--err-bg:#3c0d13;--err-fg:#ffa198;--warn-bg:#3b2e00;--warn-fg:#e3b341;
--ok:#56d364;--ok-bg:#0f2d1a;--bar:#58a6ff;--ref:#6e7681;--bad:#ff7b72;--band:rgba(86,211,100,.16)}}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:15px}
body{margin:0 auto;padding:1.25rem 1.25rem 3rem;max-width:1200px;background:var(--bg);color:var(--fg);line-height:1.45}
h1{font-size:1.45rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:1rem 0 .3rem}
.meta,.note,footer{color:var(--muted)}footer{margin-top:2rem;font-size:.85rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{white-space:pre-wrap;overflow:auto;max-height:24rem;background:var(--panel);padding:.5rem;border-radius:6px}
table{border-collapse:collapse;width:100%;margin:.4rem 0;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .55rem;text-align:left;vertical-align:top}
thead th,th{background:var(--panel)}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.k{width:28%;color:var(--muted)}
.badge{display:inline-block;padding:.05rem .55rem;border-radius:999px;font-size:.8rem;font-weight:600;border:1px solid var(--line)}
.badge.pass{color:var(--ok);background:var(--ok-bg)}.badge.fail{color:var(--err-fg);background:var(--err-bg)}
.badge.warn{color:var(--warn-fg);background:var(--warn-bg)}.badge.info{color:var(--muted)}
.pass,.ok{color:var(--ok)}.fail,.drift{color:var(--err-fg);font-weight:600}.warn{color:var(--warn-fg)}
.summary{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;margin:.6rem 0 1rem}
.summary b{font-size:1.2rem}
.card{border:1px solid var(--line);border-left:4px solid var(--line);border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}
.card.error{border-left-color:var(--bad);background:var(--err-bg)}.card.warning{border-left-color:var(--warn-fg);background:var(--warn-bg)}
.card h3{margin:0 0 .25rem}.card p{margin:.2rem 0}
details{border:1px solid var(--line);border-radius:6px;padding:.3rem .7rem;margin:.6rem 0}
details>summary{cursor:pointer;font-weight:600}
details[open]>summary{margin-bottom:.4rem}
.charts{display:flex;flex-wrap:wrap;gap:.8rem}
figure.chart{display:inline-block;margin:.3rem .5rem .3rem 0;border:1px solid var(--line);border-radius:6px;padding:.3rem .5rem;background:var(--bg)}
figure.chart figcaption{color:var(--muted);font-size:.85rem}
svg text{fill:var(--fg)}svg .axis{stroke:var(--line)}svg .bar{fill:var(--bar)}svg .ref{fill:var(--ref)}
svg .bad{fill:var(--bad)}svg .band{fill:var(--band)}svg .limit{stroke:var(--ok);stroke-width:1.5;stroke-dasharray:4 3}
svg .line{fill:none;stroke-width:1.8}
.legend span{display:inline-block;width:.8rem;height:.8rem;vertical-align:middle;margin-right:.25rem}
"""


def page(title: str, body: str, *, extra_css: str = "") -> str:
    """A whole self-contained HTML document: inline CSS, no script, no link to anything."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{REPORT_CSS}{extra_css}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def badge(text: str, kind: str) -> str:
    """A status pill; ``kind`` is ``pass``, ``fail``, ``warn`` or ``info``."""
    return f'<span class="badge {escape(kind)}">{escape(text)}</span>'


def folded(summary: str, inner: str, *, open_: bool = False) -> str:
    """A ``<details>`` section (``summary`` is escaped; ``inner`` is HTML)."""
    return f"<details{' open' if open_ else ''}><summary>{escape(summary)}</summary>{inner}</details>"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Sequence[int] = ()) -> str:
    """An escaped table; columns whose index is in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{escape(_text(c))}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _num(value: float) -> str:
    return f"{value:.4g}"


def _figure(svg: str, caption: str) -> str:
    return f'<figure class="chart">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def histogram_svg(
    edges: Sequence[float], counts: Sequence[int], *, lo: float | None = None, hi: float | None = None,
    caption: str = "", width: int = 360, height: int = 140,
) -> str:
    """Bars per bin; the expected range ``[lo, hi]`` shaded with dashed limits, bins outside it red."""
    if len(edges) < 2 or len(counts) != len(edges) - 1:
        return ""
    x0, x1 = float(edges[0]), float(edges[-1])
    for bound in (lo, hi):
        if bound is not None:
            x0, x1 = min(x0, bound), max(x1, bound)
    span = (x1 - x0) or 1.0
    plot_h, pad = height - 22, 4

    def x(v: float) -> float:
        return pad + (v - x0) / span * (width - 2 * pad)

    top = max(counts) or 1
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(caption or "histogram")}">']
    if lo is not None or hi is not None:
        a, b = x(lo if lo is not None else x0), x(hi if hi is not None else x1)
        parts.append(f'<rect class="band" x="{a:.1f}" y="0" width="{max(b - a, 1):.1f}" height="{plot_h}"><title>expected range</title></rect>')
    for left, right, n in zip(edges[:-1], edges[1:], counts, strict=True):
        outside = (lo is not None and right <= lo) or (hi is not None and left >= hi) or (lo is not None and left < lo) or (hi is not None and right > hi)
        h = n / top * (plot_h - 4)
        cls = "bad" if outside and n else "bar"
        parts.append(
            f'<rect class="{cls}" x="{x(left) + .5:.1f}" y="{plot_h - h:.1f}" width="{max(x(right) - x(left) - 1, .8):.1f}" height="{h:.1f}">'
            f"<title>[{_num(left)}, {_num(right)}): {n:,}</title></rect>"
        )
    for bound in (lo, hi):
        if bound is not None:
            parts.append(f'<line class="limit" x1="{x(bound):.1f}" y1="0" x2="{x(bound):.1f}" y2="{plot_h}"/>')
    parts.append(f'<line class="axis" x1="0" y1="{plot_h}" x2="{width}" y2="{plot_h}"/>')
    parts.append(f'<text x="{pad}" y="{height - 6}" font-size="11">{_num(x0)}</text>')
    parts.append(f'<text x="{width - pad}" y="{height - 6}" font-size="11" text-anchor="end">{_num(x1)}</text>')
    parts.append("</svg>")
    return _figure("".join(parts), caption)


def range_svg(obs_lo: float, obs_hi: float, lo: float | None, hi: float | None, *, caption: str = "", width: int = 360) -> str:
    """The observed span (red where it leaves the expected range) over the shaded expected range."""
    points = [obs_lo, obs_hi, *(b for b in (lo, hi) if b is not None)]
    x0, x1 = min(points), max(points)
    span = (x1 - x0) or 1.0
    pad = 6

    def x(v: float) -> float:
        return pad + (v - x0) / span * (width - 2 * pad)

    a, b = x(lo if lo is not None else x0), x(hi if hi is not None else x1)
    ok = (lo is None or obs_lo >= lo) and (hi is None or obs_hi <= hi)
    parts = [
        f'<svg width="{width}" height="54" role="img" aria-label="{escape(caption or "observed against expected range")}">',
        f'<rect class="band" x="{a:.1f}" y="4" width="{max(b - a, 1):.1f}" height="26"><title>expected range</title></rect>',
        (f'<rect class="{"bar" if ok else "bad"}" x="{x(obs_lo):.1f}" y="12" width="{max(x(obs_hi) - x(obs_lo), 2):.1f}" height="10">'
         f"<title>observed {_num(obs_lo)} to {_num(obs_hi)}</title></rect>"),
    ]
    for bound in (lo, hi):
        if bound is not None:
            parts.append(f'<line class="limit" x1="{x(bound):.1f}" y1="2" x2="{x(bound):.1f}" y2="32"/>')
    parts.append(f'<text x="{pad}" y="48" font-size="11">{_num(x0)}</text>')
    parts.append(f'<text x="{width - pad}" y="48" font-size="11" text-anchor="end">{_num(x1)}</text></svg>')
    return _figure("".join(parts), caption)


def bars_svg(items: Sequence[tuple[str, float]], *, bad: Iterable[str] = (), caption: str = "", fmt: str = ",g", width: int = 360) -> str:
    """Horizontal bars, one per label (at most 15); labels in ``bad`` drawn red."""
    shown = list(items)[:15]
    if not shown:
        return ""
    flagged = set(bad)
    top = max((v for _, v in shown), default=0.0) or 1.0
    label_w, row = 130, 20
    parts = [f'<svg width="{width}" height="{len(shown) * row + 4}" role="img" aria-label="{escape(caption or "bars")}">']
    for i, (label, value) in enumerate(shown):
        w = max(value, 0.0) / top * (width - label_w - 60)
        y = i * row + 2
        short = label if len(label) <= 18 else label[:17] + "…"
        parts.append(f'<text x="0" y="{y + 13}" font-size="11">{escape(short)}</text>')
        parts.append(
            f'<rect class="{"bad" if label in flagged else "bar"}" x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 6}">'
            f"<title>{escape(label)}: {format(value, fmt)}</title></rect>"
        )
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="11">{escape(format(value, fmt))}</text>')
    parts.append("</svg>")
    return _figure("".join(parts), caption)


_LINE_COLOURS = ("#0969da", "#bc4c00", "#1a7f37", "#8250df", "#bf3989", "#1b7c83")


def line_svg(series: Sequence[tuple[str, Sequence[tuple[float, float]]]], *, caption: str = "", width: int = 360, height: int = 150) -> str:
    """One polyline per ``(label, [(step, value), ...])``; a point per value with its tooltip."""
    values = [(s, v) for _, pts in series for s, v in pts]
    if not values:
        return ""
    sx0, sx1 = min(s for s, _ in values), max(s for s, _ in values)
    vy0, vy1 = min(v for _, v in values), max(v for _, v in values)
    sx1, vy1 = (sx1 if sx1 > sx0 else sx0 + 1), (vy1 if vy1 > vy0 else vy0 + 1)
    pad, plot_h = 36, height - 20

    def x(s: float) -> float:
        return pad + (s - sx0) / (sx1 - sx0) * (width - pad - 6)

    def y(v: float) -> float:
        return 6 + (1 - (v - vy0) / (vy1 - vy0)) * (plot_h - 12)

    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(caption or "curve")}">',
             f'<line class="axis" x1="{pad}" y1="{plot_h}" x2="{width}" y2="{plot_h}"/>',
             f'<text x="0" y="{y(vy1) + 4:.1f}" font-size="10">{_num(vy1)}</text>',
             f'<text x="0" y="{y(vy0) + 4:.1f}" font-size="10">{_num(vy0)}</text>']
    legend = []
    for k, (label, pts) in enumerate(series):
        colour = _LINE_COLOURS[k % len(_LINE_COLOURS)]
        ordered = sorted(pts)
        if len(ordered) > 1:
            path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in ordered)
            parts.append(f'<polyline class="line" stroke="{colour}" points="{path}"/>')
        for s, v in ordered:
            parts.append(f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"><title>{escape(label)} step {_num(s)}: {_num(v)}</title></circle>')
        legend.append(f'<span style="background:{colour}"></span>{escape(label)}')
    parts.append(f'<text x="{pad}" y="{height - 4}" font-size="10">step {_num(sx0)}</text>')
    parts.append(f'<text x="{width - 4}" y="{height - 4}" font-size="10" text-anchor="end">{_num(sx1)}</text></svg>')
    return _figure("".join(parts) + f'<div class="legend">{" ".join(legend)}</div>', caption)
