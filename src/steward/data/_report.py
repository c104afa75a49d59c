"""The validation result: one object for the SDK, JSON, a terminal table and HTML."""

from __future__ import annotations

import datetime as dt
import decimal
import html
import json
import math
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

    def to_html(self) -> str:
        """A self-contained HTML report: inline CSS, no scripts, no external assets."""
        return _html(self)


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


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin:0 0 .3rem}
.meta{color:#57606a;margin-bottom:1rem}
.badge{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-weight:600;color:#fff}
.pass{background:#1a7f37}.fail{background:#cf222e}.warn{background:#9a6700}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d0d7de;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr.failed-error td{background:#ffebe9}tr.failed-warning td{background:#fff8c5}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
pre{margin:0;white-space:pre-wrap;max-height:12rem;overflow:auto}
.summary span{margin-right:1rem}
"""


def _html(result: ValidationResult) -> str:
    e = html.escape
    s = result.summary()
    badge = '<span class="badge pass">PASSED</span>' if result.passed else '<span class="badge fail">FAILED</span>'
    rows = []
    for c in result.checks:
        css = "" if c.passed else f"failed-{c.severity}"
        status = "ok" if c.passed else ("fail" if c.severity == "error" else "warn")
        status_badge = f'<span class="badge {"pass" if c.passed else ("fail" if c.severity == "error" else "warn")}">{status}</span>'
        counts = ", ".join(f"{k}: {_fmt(v)}" for k, v in c.counts.items())
        examples = json.dumps(jsonable(list(c.examples)), indent=1, ensure_ascii=False) if c.examples else ""
        rows.append(
            f'<tr class="{css}"><td>{status_badge}</td><td>{e(c.severity)}</td><td><code>{e(c.name)}</code></td>'
            f"<td>{e(c.column or '')}</td><td>{e(c.message)}</td><td>{e(c.expected)}</td><td>{e(counts)}</td>"
            f"<td>{'<pre>' + e(examples) + '</pre>' if examples else ''}</td><td>{c.line or ''}</td></tr>"
        )
    when = dt.datetime.fromtimestamp(result.created_at / 1000, dt.UTC).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Validation: {e(result.suite)} on {e(result.dataset)}</title>
<style>{_CSS}</style></head>
<body>
<h1>Validation of {e(result.dataset)} {badge}</h1>
<div class="meta">suite <code>{e(result.suite)}</code> · {result.num_rows:,} rows × {result.num_columns} columns ·
{result.duration_s:.3f} s · {e(when)}</div>
<div class="summary"><span>{s["checks"]} checks</span><span>{s["passed"]} passed</span>
<span>{s["failed_errors"]} errors</span><span>{s["failed_warnings"]} warnings</span></div>
<table><thead><tr><th>status</th><th>severity</th><th>check</th><th>column</th><th>observed</th>
<th>expected</th><th>counts</th><th>examples</th><th>suite line</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""


def _fmt(value: Any) -> str:  # Any: a count or a share
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
