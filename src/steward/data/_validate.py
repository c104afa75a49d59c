"""Apply a suite to data: every aggregate in one lazy polars pass, evidence only for failures."""

from __future__ import annotations

import time
from typing import Any

import polars as pl

from steward.errors import InvalidInputError

from ._checks import CHECKS, Plan, Verdict
from ._report import CheckResult, ValidationResult, jsonable
from ._suite import CheckSpec, Suite

__all__ = ["validate"]

_ROWS = "__rows"


def as_lazy(data: Any) -> pl.LazyFrame:  # Any: a polars frame, or anything polars can take
    """The data as a polars LazyFrame (polars frames as they are; pandas/arrow converted)."""
    if isinstance(data, pl.LazyFrame):
        return data
    if isinstance(data, pl.DataFrame):
        return data.lazy()
    try:
        frame = pl.from_pandas(data) if type(data).__module__.startswith("pandas") else pl.DataFrame(data)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        raise InvalidInputError(f"cannot read {type(data).__name__} as a table: {str(exc)[:200]}", field="data") from exc
    return frame.lazy()


def validate(data: Any, suite: Suite, *, dataset: str = "<frame>", examples: int | None = None) -> ValidationResult:
    """Apply ``suite`` to ``data``.

    All aggregates of all checks run as one lazy ``select`` (one pass over the data);
    only the checks that fail then run a second, targeted query for counts and example
    values.

    Args:
        data: a polars DataFrame or LazyFrame (pandas and arrow tables are converted).
        suite: the parsed suite.
        dataset: how the report names the data (a ref or file name).
        examples: example values per failed check (default: the suite's, 20).

    Returns:
        The :class:`ValidationResult`; ``result.passed`` is False when an error-severity
        check failed.

    Raises:
        InvalidInputError: the data cannot be read as a table.

    Example:
        >>> import polars as pl
        >>> from steward.data import parse_suite, validate
        >>> suite = parse_suite("name: s\\ncolumns:\\n  x: {min: 0}\\n")
        >>> validate(pl.DataFrame({"x": [1, -2]}), suite).passed
        False
    """
    started = time.perf_counter()
    n_examples = suite.examples if examples is None else examples
    lf = as_lazy(data)
    try:
        schema = lf.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"cannot read the data: {str(exc).splitlines()[0][:200]}", field="data") from exc
    plans: list[Plan] = []
    exprs: list[pl.Expr] = [pl.len().alias(_ROWS)]
    for i, spec in enumerate(suite.checks):
        plan = CHECKS[spec.kind].plan(spec, schema, f"c{i}_")
        plans.append(plan)
        exprs.extend(e.alias(k) for k, e in plan.exprs.items())
    try:
        values = lf.select(exprs).collect().row(0, named=True)
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"cannot evaluate the suite on this data: {str(exc).splitlines()[0][:200]}", field="data") from exc
    rows = int(values[_ROWS])
    results = [
        _run(spec, plan, schema, values, rows, lf, n_examples, f"c{i}_") for i, (spec, plan) in enumerate(zip(suite.checks, plans, strict=True))
    ]
    return ValidationResult(
        suite.ref or suite.name,
        dataset,
        rows,
        len(schema),
        tuple(results),
        time.perf_counter() - started,
        int(time.time() * 1000),
    )


def _run(
    spec: CheckSpec, plan: Plan, schema: pl.Schema, values: dict[str, Any], rows: int, lf: pl.LazyFrame, n: int, key: str
) -> CheckResult:
    check = CHECKS[spec.kind]
    if plan.problem is not None:
        # a check that cannot run has not passed: reporting it as passed would hide the fault
        verdict = Verdict(False, None, spec.kind, plan.problem, evaluated=False)
    else:
        mine = {k[len(key):]: v for k, v in values.items() if k.startswith(key)}
        verdict = check.judge(spec, schema, mine, rows)
        if not verdict.passed:
            try:
                verdict = check.explain(spec, lf, verdict, n)
            except pl.exceptions.PolarsError as exc:
                verdict = Verdict(False, verdict.observed, verdict.expected, f"{verdict.message} (no examples: {str(exc)[:120]})", verdict.counts)
    return CheckResult(
        spec.kind,
        spec.column,
        spec.severity,
        verdict.passed,
        jsonable(verdict.observed),
        verdict.expected,
        verdict.message,
        jsonable(verdict.counts),
        tuple(jsonable(verdict.examples)),
        verdict.evaluated,
        spec.line,
    )
