"""The UI's dataset pages: datasets, a dataset's versions with the profile (per-column
charts), validation reports and lineage, and the diff of two versions. Each page runs the
REST route's check and calls its service function."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from steward.errors import InvalidInputError, NotFoundError

from ._access import Caller
from ._pages import _arg, _num, _script_json
from ._web import render

JSON = dict[str, Any]  # Any: JSON values
_VERSION = "/api/v1/datasets/{name}/versions/{version}"
MAX_COLUMN_CHARTS = 40
VALIDATIONS_SHOWN = 20


def datasets_page(caller: Caller) -> Response:
    readable = caller.check("GET", "/api/v1/datasets")
    items = caller.services.data(caller.actor).list_datasets(readable)
    return render(caller, "datasets.html", title="Datasets", datasets=items)


def _column_chart(stats: JSON) -> JSON | None:
    """A numeric column's histogram (with its p01-p99 range shaded) or a categorical column's bars."""
    histogram = stats.get("histogram") or {}
    edges, counts = histogram.get("edges") or [], histogram.get("counts") or []
    if stats.get("kind") == "numeric" and len(edges) == len(counts) + 1 and counts:
        centres = [(edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        quantiles = stats.get("quantiles") or {}
        shapes = []
        if isinstance(quantiles.get("p01"), int | float) and isinstance(quantiles.get("p99"), int | float):
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": quantiles["p01"], "x1": quantiles["p99"], "y0": 0, "y1": 1,
                           "fillcolor": "rgba(46,160,67,0.12)", "line": {"width": 0}})
        return {"traces": [{"type": "bar", "x": [_num(float(c)) for c in centres], "y": counts, "name": "rows"}],
                "layout": {"bargap": 0.02, "shapes": shapes, "height": 200}}
    top = stats.get("top") or []
    if top:
        return {"traces": [{"type": "bar", "x": [str(t.get("value")) for t in top[:20]], "y": [t.get("count") for t in top[:20]], "name": "rows"}],
                "layout": {"height": 200}}
    return None


def dataset_page(caller: Caller, name: str) -> Response:
    caller.check("GET", "/api/v1/datasets/{name}/versions", name=name)
    data = caller.services.data(caller.actor)
    versions = data.list(name)
    if not versions:
        raise NotFoundError(f"dataset {name!r} has no versions")
    wanted = _arg(caller, "version", limit=12)
    if wanted and not wanted.isdigit():
        raise NotFoundError(f"dataset {name!r} has no version {wanted!r}")
    number = int(wanted) if wanted else max(v.version for v in versions)
    caller.check("GET", _VERSION, name=name)
    version = data.get(f"{name}:{number}")
    raw = version.to_dict().get("profile")
    profile: JSON = raw if isinstance(raw, dict) else {}
    columns: dict[str, JSON] = profile.get("columns") or {}
    charts = {}
    for i, (column, stats) in enumerate(list(columns.items())[:MAX_COLUMN_CHARTS]):
        chart = _column_chart(stats)
        if chart is not None:
            charts[f"col-{i}"] = chart
    caller.check("GET", "/api/v1/validations", dataset=version.ref)
    readable = caller.check("GET", f"{_VERSION}/lineage", name=name)
    checker = caller.services.validation(caller.actor)
    # results keep the reference they were asked with: transactions:2 or datasets:/transactions/2
    found = {r.result_id: r for ref in (version.ref, f"{name}:{number}") for r in checker.list_results(ref, None, VALIDATIONS_SHOWN, projects=readable)}
    validations = sorted(found.values(), key=lambda r: -r.created_at)[:VALIDATIONS_SHOWN]
    lineage = data.lineage(f"{name}:{number}", projects=readable).to_dict()
    return render(
        caller, "dataset.html", title=f"Dataset {name}", name=name, versions=versions, version=version, columns=columns,
        chart_ids={c: f"col-{i}" for i, c in enumerate(columns) if f"col-{i}" in charts}, charts_json=_script_json(charts),
        validations=[v.to_dict() for v in validations], lineage=lineage,
    )


def dataset_diff_page(caller: Caller, name: str) -> Response:
    caller.check("GET", "/api/v1/datasets/{name}/diff", name=name)
    data = caller.services.data(caller.actor)
    versions = data.list(name)
    if not versions:
        raise NotFoundError(f"dataset {name!r} has no versions")
    a, b = _arg(caller, "a", limit=20).strip(), _arg(caller, "b", limit=20).strip()
    error, field, diff = None, None, None
    overlays: JSON = {}
    if a or b:
        try:
            for label, text in (("a", a), ("b", b)):
                if not text.isdigit() or int(text) < 1:
                    field = label
                    raise InvalidInputError(f"{label} must be a version number, not {text[:20]!r}", field=label)
            diff = data.diff(f"{name}:{int(a)}", f"{name}:{int(b)}").to_dict()
            caller.check("GET", _VERSION, name=name)
            overlays = _overlays(data.get(f"{name}:{int(a)}").to_dict(), data.get(f"{name}:{int(b)}").to_dict(), a, b)
        except InvalidInputError as exc:
            error, field = exc.message, field or exc.field
        except NotFoundError as exc:
            error = exc.message
    status = 400 if error else 200
    return render(caller, "dataset_diff.html", status=status, title=f"Diff of {name}", name=name, versions=versions, a=a, b=b,
                  diff=diff, error=error, field=field, charts_json=_script_json(overlays), overlaid=list(overlays))


def _overlays(first: JSON, second: JSON, a: str, b: str) -> JSON:
    """Each column's distribution in both versions, overlaid (the profiles' histograms and top values)."""
    out: JSON = {}
    cols_a = (first.get("profile") or {}).get("columns") or {}
    cols_b = (second.get("profile") or {}).get("columns") or {}
    for column in [c for c in cols_a if c in cols_b][:MAX_COLUMN_CHARTS]:
        traces = []
        for label, stats in ((f"version {a}", cols_a[column]), (f"version {b}", cols_b[column])):
            chart = _column_chart(stats)
            if chart is None:
                break
            trace = dict(chart["traces"][0])
            trace.update({"name": label, "opacity": 0.6})
            traces.append(trace)
        if len(traces) == 2:
            out[column] = {"traces": traces, "layout": {"barmode": "overlay", "height": 220, "showlegend": True}}
    return out
