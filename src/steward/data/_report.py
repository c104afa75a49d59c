"""The validation result: one object for the SDK, JSON, a terminal table and HTML."""

from __future__ import annotations

import datetime as dt
import decimal
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckResult", "ValidationResult", "jsonable"]


def jsonable(value: Any) -> Any:  # Any: values of any column type, nested in dicts/lists
    """Turn polars/Python values into strict-JSON values (dates as ISO, NaN as a string)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes):
        return [jsonable(v) for v in value]
    return str(value)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: the check kind (``not_null``, ``range``, ``allowed``, ...).
        column: the column (``a+b`` for a compound key; None for table checks).
        severity: ``error`` or ``warning``.
        passed: the check ran and held.
        observed: what the data showed (a share, min/max, a type, per-class shares).
        expected: the expectation, in words.
        message: one readable line.
        counts: element, unexpected and missing counts and shares.
        examples: up to N failing values with their counts (or row numbers).
        evaluated: False when the check could not run (missing column, wrong type).
        line: the suite line the check comes from.
    """

    name: str
    column: str | None
    severity: str
    passed: bool
    observed: Any  # Any: depends on the check; always JSON-able
    expected: str
    message: str
    counts: Mapping[str, Any] = field(default_factory=dict)  # Any: ints and floats
    examples: Sequence[Any] = field(default_factory=tuple)  # Any: column values
    evaluated: bool = True
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON form."""
        return {
            "name": self.name,
            "column": self.column,
            "severity": self.severity,
            "passed": self.passed,
            "evaluated": self.evaluated,
            "observed": jsonable(self.observed),
            "expected": self.expected,
            "message": self.message,
            "counts": jsonable(self.counts),
            "examples": jsonable(self.examples),
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """A suite applied to a dataset.

    Attributes:
        suite: the suite's name (or ref once stored).
        dataset: the dataset ref, file or ``<frame>``.
        num_rows: rows validated.
        num_columns: columns in the data.
        checks: one :class:`CheckResult` per check, in suite order.
        duration_s: wall time of the validation.
        created_at: when it ran (ms since epoch, UTC).

    Example:
        >>> result = validate(frame, suite)            # doctest: +SKIP
        >>> result.passed, [c.name for c in result.failures]  # doctest: +SKIP
        (False, ['range'])
    """

    suite: str
    dataset: str
    num_rows: int
    num_columns: int
    checks: tuple[CheckResult, ...]
    duration_s: float
    created_at: int

    @property
    def passed(self) -> bool:
        """No error-severity check failed (warnings do not fail validation)."""
        return not any(not c.passed and c.severity == "error" for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        """The checks that did not pass (errors and warnings)."""
        return [c for c in self.checks if not c.passed]

    def summary(self) -> dict[str, int]:
        """Counts: checks, passed, failed errors, failed warnings."""
        return {
            "checks": len(self.checks),
            "passed": sum(c.passed for c in self.checks),
            "failed_errors": sum(not c.passed and c.severity == "error" for c in self.checks),
            "failed_warnings": sum(not c.passed and c.severity == "warning" for c in self.checks),
        }

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON form (what ``--json`` prints and the REST API returns)."""
        return {
            "suite": self.suite,
            "dataset": self.dataset,
            "passed": self.passed,
            "summary": self.summary(),
            "num_rows": self.num_rows,
            "num_columns": self.num_columns,
            "duration_s": round(self.duration_s, 4),
            "created_at": self.created_at,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The result as one JSON document."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. from the REST API)."""
        checks = tuple(
            CheckResult(
                c["name"], c.get("column"), c["severity"], bool(c["passed"]), c.get("observed"), c.get("expected", ""),
                c.get("message", ""), c.get("counts", {}), tuple(c.get("examples", ())), bool(c.get("evaluated", True)), c.get("line"),
            )
            for c in data.get("checks", [])
        )
        return cls(
            data["suite"], data["dataset"], int(data["num_rows"]), int(data["num_columns"]), checks,
            float(data.get("duration_s", 0.0)), int(data.get("created_at", 0)),
        )

    def table_rows(self) -> list[list[str]]:
        """Rows of the terminal table: status, severity, check, column, observed, expected, examples."""
        rows = []
        for c in self.checks:
            status = "ok" if c.passed else ("FAIL" if c.severity == "error" else "warn")
            rows.append([status, c.severity, c.name, c.column or "-", c.message, c.expected, _examples_text(c.examples)])
        return rows

    def to_html(self, profile: Mapping[str, Any] | None = None) -> str:  # Any: the profile's JSON
        """A self-contained HTML report: inline CSS and SVG, no scripts, no external assets.

        Failures come first (each with its examples as a table and, where it helps, a chart);
        passed checks are folded. With ``profile`` (the dataset's :func:`profile` document) the
        report draws per-column histograms with the expected range and category bars.
        """
        return _html(self, profile)


def _examples_text(examples: Sequence[Any], limit: int = 5) -> str:
    parts = []
    for e in list(examples)[:limit]:
        if isinstance(e, Mapping) and "value" in e and "count" in e:
            parts.append(f"{_short(e['value'])} ({e['count']:,})")
        elif isinstance(e, Mapping) and set(e) == {"row"}:
            parts.append(f"row {e['row']}")
        else:
            parts.append(_short(e))
    more = f" +{len(examples) - limit}" if len(examples) > limit else ""
    return ", ".join(parts) + more


def _short(value: Any, width: int = 40) -> str:  # Any: a column value
    text = json.dumps(jsonable(value), ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"


def _html(result: ValidationResult, profile: Mapping[str, Any] | None) -> str:  # Any: the profile's JSON
    """Failures first (one card each, with a chart and its examples as a table), passes folded."""
    from steward._report_style import badge, folded, page, table

    e = html.escape
    s = result.summary()
    columns = _profile_columns(profile)
    failures = sorted(result.failures, key=lambda c: (c.severity != "error", c.line or 0))
    passes = [c for c in result.checks if c.passed]
    verdict = badge("PASSED", "pass") if result.passed else badge("FAILED", "fail")
    when = dt.datetime.fromtimestamp(result.created_at / 1000, dt.UTC).isoformat(timespec="seconds")
    body = [
        f"<h1>Validation of {e(result.dataset)} {verdict}</h1>",
        (f'<div class="meta">suite <code>{e(result.suite)}</code> · {result.num_rows:,} rows × {result.num_columns} columns · '
         f"{result.duration_s:.3f} s · {e(when)}</div>"),
        (f'<div class="summary"><span><b>{s["failed_errors"]}</b> errors</span><span><b>{s["failed_warnings"]}</b> warnings</span>'
         f'<span><b>{s["passed"]}</b> passed</span><span><b>{s["checks"]}</b> checks</span></div>'),
    ]
    if failures:
        body.append(f"<h2>What failed ({len(failures)})</h2>")
        body += [_failure_card(c, columns) for c in failures]
    else:
        body.append('<p class="pass">Every check passed.</p>')
    pass_rows = [[c.name, c.column or "(table)", c.message, c.expected, c.line or ""] for c in passes]
    if pass_rows:
        body.append(f"<h2>Passed ({len(passes)})</h2>")
        body.append(folded(f"{len(passes)} passed checks", table(["check", "column", "observed", "expected", "suite line"], pass_rows)))
    charts = _column_charts(result, columns)
    if charts:
        body.append("<h2>Columns</h2>")
        body.append(folded(f"Distributions of {len(charts)} columns", f'<div class="charts">{"".join(charts)}</div>'))
    return page(f"Validation: {result.suite} on {result.dataset}", "\n".join(body))


def _profile_columns(profile: Mapping[str, Any] | None) -> Mapping[str, Mapping[str, Any]]:  # Any: JSON
    cols = profile.get("columns") if isinstance(profile, Mapping) else None
    return {str(k): v for k, v in cols.items() if isinstance(v, Mapping)} if isinstance(cols, Mapping) else {}


_RANGE_BOTH = re.compile(r"^values in \[(.+), (.+)\]$")
_RANGE_ONE = re.compile(r"^values ([<>]=) (.+)$")


def _number(text: Any) -> float | None:  # Any: a bound or an observed value
    if isinstance(text, bool):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _bounds(expected: str) -> tuple[float | None, float | None] | None:
    """The numeric expected range of a ``range`` check from its ``expected`` text."""
    both = _RANGE_BOTH.match(expected)
    if both:
        return _number(both.group(1)), _number(both.group(2))
    one = _RANGE_ONE.match(expected)
    if one:
        value = _number(one.group(2))
        return (value, None) if one.group(1) == ">=" else (None, value)
    return None


def _chart(c: CheckResult, columns: Mapping[str, Mapping[str, Any]]) -> str:  # Any: JSON
    from steward._report_style import bars_svg, histogram_svg, range_svg

    col = columns.get(c.column or "", {})
    bounds = _bounds(c.expected) if c.name == "range" else None
    if bounds is not None:
        hist = col.get("histogram") if isinstance(col.get("histogram"), Mapping) else None
        if hist and hist.get("edges"):
            return histogram_svg(hist["edges"], hist["counts"], lo=bounds[0], hi=bounds[1],
                                 caption=f"{c.column}: distribution (bars), expected range shaded")
        observed = c.observed if isinstance(c.observed, Mapping) else {}
        lo, hi = _number(observed.get("min")), _number(observed.get("max"))
        if lo is not None and hi is not None:
            return range_svg(lo, hi, bounds[0], bounds[1], caption=f"{c.column}: observed span against the expected range")
    top = col.get("top")
    if isinstance(top, list) and top:
        bad = {_short(x.get("value")) for x in c.examples if isinstance(x, Mapping) and "value" in x}
        items = [(_short(t.get("value")), float(t.get("count", 0))) for t in top if isinstance(t, Mapping)]
        return bars_svg(items, bad=bad, caption=f"{c.column}: most frequent values (red: unexpected)")
    counted = [(_short(x["value"]), float(x["count"])) for x in c.examples if isinstance(x, Mapping) and "value" in x and "count" in x]
    if len(counted) > 1:
        return bars_svg(counted, bad={k for k, _ in counted}, caption=f"{c.column}: unexpected values by count")
    return ""


def _failure_card(c: CheckResult, columns: Mapping[str, Mapping[str, Any]]) -> str:  # Any: JSON
    from steward._report_style import badge, table

    e = html.escape
    kind = "error" if c.severity == "error" else "warning"
    state = badge("not evaluated" if not c.evaluated else ("FAIL" if kind == "error" else "warning"), "fail" if kind == "error" else "warn")
    where = f" · suite line {c.line}" if c.line else ""
    parts = [
        f'<section class="card {kind}"><h3>{state} <code>{e(c.name)}</code> on {e(c.column or "the table")}</h3>',
        f"<p>{e(c.message)}</p>",
        f'<p class="meta">expected: {e(c.expected)}{where}</p>',
    ]
    counts = _counts_text(c.counts)
    if counts:
        parts.append(f'<p class="meta">{e(counts)}</p>')
    parts.append(_chart(c, columns))
    if c.examples:
        headers, rows = _example_rows(c.examples)
        parts.append(f"<h3>Examples ({len(c.examples)})</h3>" + table(headers, rows))
    parts.append("</section>")
    return "".join(parts)


def _counts_text(counts: Mapping[str, Any]) -> str:  # Any: ints and floats
    unexpected, total = counts.get("unexpected_count"), counts.get("element_count")
    share = counts.get("unexpected_share")
    parts = []
    if isinstance(unexpected, int) and isinstance(total, int):
        parts.append(f"{unexpected:,} of {total:,} values unexpected" + (f" ({share:.2%})" if isinstance(share, float) else ""))
    parts += [f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in counts.items() if k not in ("unexpected_count", "element_count", "unexpected_share")]
    return "; ".join(parts)


def _example_rows(examples: Sequence[Any]) -> tuple[list[str], list[list[str]]]:  # Any: column values
    """Examples as a table: one column per key when they are rows or value counts, else one value column."""
    if all(isinstance(x, Mapping) for x in examples):
        headers: list[str] = []
        for x in examples:
            headers += [str(k) for k in x if str(k) not in headers]
        return headers, [[_cell(x.get(h)) for h in headers] for x in examples]
    return ["value"], [[_cell(x)] for x in examples]


def _cell(value: Any) -> str:  # Any: a column value
    if value is None:
        return "(missing)"
    if isinstance(value, str):
        return "(empty)" if value == "" else _short(value, 80)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return _short(value, 80)


def _column_charts(result: ValidationResult, columns: Mapping[str, Mapping[str, Any]]) -> list[str]:  # Any: JSON
    """A histogram per numeric column (its expected range drawn) and category bars per categorical column."""
    from steward._report_style import bars_svg, histogram_svg

    ranges: dict[str, tuple[float | None, float | None]] = {}
    for c in result.checks:
        b = _bounds(c.expected) if c.name == "range" and c.column else None
        if b is not None and c.column:
            ranges[c.column] = b
    out = []
    for name, col in columns.items():
        hist = col.get("histogram")
        if isinstance(hist, Mapping) and hist.get("edges"):
            lo, hi = ranges.get(name, (None, None))
            out.append(histogram_svg(hist["edges"], hist["counts"], lo=lo, hi=hi,
                                     caption=f"{name}" + (" (expected range shaded)" if name in ranges else "")))
        top = col.get("top")
        if isinstance(top, list) and top:
            out.append(bars_svg([(_short(t.get("value")), float(t.get("count", 0))) for t in top if isinstance(t, Mapping)], caption=name))
    return [c for c in out if c]


def _fmt(value: Any) -> str:  # Any: a count or a share
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
