"""The checks a suite can run, each in two steps.

1. ``plan``: the aggregates the check needs, as polars expressions. The validator puts
   the aggregates of *every* check of a suite into one lazy ``select``, so the data is
   read once however many checks there are.
2. ``judge``: pass or fail from those aggregates alone.
3. ``explain`` (only for failed checks): a second, targeted query for the evidence —
   unexpected counts, shares and example values — so passing data never pays for it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from ._pii import PATTERNS, VERIFIERS
from ._suite import CheckSpec

__all__ = ["CHECKS", "Plan", "Verdict", "type_family"]

# Candidate values fetched per column to confirm card/IBAN checksums; enough to count
# reliably without pulling a whole column of personal data into Python.
PII_SAMPLE = 10_000

# Any: aggregate results are whatever polars returns (ints, floats, lists, structs).
Values = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a check needs from the one pass over the data.

    Attributes:
        exprs: named aggregate expressions (each yields one value).
        problem: why the check cannot run on this data (missing column, wrong type).
    """

    exprs: dict[str, pl.Expr] = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one check before it becomes a report line."""

    passed: bool
    observed: Any  # Any: a number, a share, a type name, a mapping of per-class shares
    expected: str
    message: str
    counts: dict[str, Any] = field(default_factory=dict)  # Any: ints and floats
    examples: list[Any] = field(default_factory=list)  # Any: values of the column
    evaluated: bool = True


def type_family(dtype: pl.DataType) -> str:
    """The suite's name for a polars dtype (``integer``, ``float``, ``string``, ...)."""
    if dtype.is_integer():
        return "integer"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        return "string"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Time:
        return "time"
    if isinstance(dtype, pl.Duration):
        return "duration"
    if dtype == pl.Null:
        return "null"
    return str(dtype).lower()


def _matches(family: str, expected: str) -> bool:
    # An all-null column has no value that contradicts any type; the missing-value
    # checks are the ones that report it.
    return family == expected or family == "null" or (expected == "number" and family in ("integer", "float"))


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _pct(share: float) -> str:
    return f"{share:.2%}" if share else "0%"


def _value_counts(lf: pl.LazyFrame, expr: pl.Expr, mask: pl.Expr, n: int) -> list[dict[str, Any]]:
    """The ``n`` most frequent values of ``expr`` among rows matching ``mask``."""
    frame = lf.filter(mask).group_by(expr.alias("value")).agg(pl.len().alias("count")).sort(["count", "value"], descending=[True, False], nulls_last=True).head(n)
    return frame.collect().to_dicts()


def _row_indices(lf: pl.LazyFrame, mask: pl.Expr, n: int) -> list[int]:
    return [int(i) for i in lf.with_row_index("__row").filter(mask).select("__row").head(n).collect().to_series()]


class Check:
    """Base: a check that needs its columns to exist."""

    kind = ""

    def problem(self, spec: CheckSpec, schema: pl.Schema) -> str | None:
        missing = [c for c in spec.columns if c not in schema]
        if missing:
            return f"not evaluated: column {', '.join(repr(m) for m in missing)} is missing"
        return None

    def plan(self, spec: CheckSpec, schema: pl.Schema, key: str) -> Plan:
        problem = self.problem(spec, schema)
        return Plan(problem=problem) if problem else Plan(self.exprs(spec, schema, key))

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        return {}

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        raise NotImplementedError

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        return verdict


class RowCount(Check):
    kind = "row_count"

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        lo, hi = spec.params.get("min"), spec.params.get("max")
        expected = f"between {lo if lo is not None else 0} and {hi if hi is not None else 'any'} rows"
        ok = (lo is None or rows >= lo) and (hi is None or rows <= hi)
        message = f"{rows:,} rows" + ("" if ok else f", expected {expected}")
        return Verdict(ok, rows, expected, message, {"element_count": rows})


class Present(Check):
    kind = "present"

    def problem(self, spec: CheckSpec, schema: pl.Schema) -> str | None:
        return None

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        name = spec.columns[0]
        if name in schema:
            return Verdict(True, "present", "column present", f"column {name!r} present")
        required = bool(spec.params.get("required", True))
        close = difflib.get_close_matches(name, list(schema.names()), n=3)
        hint = f"; similar: {', '.join(close)}" if close else ""
        where = f" (suite line {spec.line})" if spec.line else ""
        return Verdict(
            not required,
            "missing",
            "column present" if required else "column optional",
            f"column {name!r} named by the suite{where} is not in the data{hint}",
            examples=close,
        )


class TypeCheck(Check):
    kind = "type"

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        dtype = schema[spec.columns[0]]
        family, expected = type_family(dtype), str(spec.params["type"])
        ok = _matches(family, expected)
        return Verdict(ok, family, expected, f"type {family} ({dtype})" + ("" if ok else f", expected {expected}"))

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        col, expected = pl.col(spec.columns[0]), str(spec.params["type"])
        target = {"integer": pl.Int64, "float": pl.Float64, "number": pl.Float64, "boolean": pl.Boolean, "date": pl.Date, "datetime": pl.Datetime}.get(expected)
        if verdict.observed != "string" or target is None:
            return verdict
        # a mixed column (numbers and text) loads as strings: show the values that are not numbers
        bad = col.is_not_null() & col.cast(target, strict=False).is_null()
        count = int(lf.select(bad.sum()).collect().item())
        total = int(lf.select(col.count()).collect().item())
        examples = _value_counts(lf, col, bad, n)
        counts = {"element_count": total, "unexpected_count": count, "unexpected_share": _share(count, total)}
        msg = f"{verdict.message}; {count:,} of {total:,} values ({_pct(_share(count, total))}) are not {expected}"
        return replace(verdict, message=msg, counts=counts, examples=examples)


class NotNull(Check):
    kind = "not_null"

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        return {f"{key}nulls": pl.col(spec.columns[0]).null_count()}

    def limit(self, spec: CheckSpec) -> float:
        return 0.0

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        nulls = int(v["nulls"])
        share, limit = _share(nulls, rows), self.limit(spec)
        ok = nulls == 0 if limit == 0 else share <= limit
        expected = "no missing values" if limit == 0 else f"at most {_pct(limit)} missing"
        counts = {"element_count": rows, "missing_count": nulls, "missing_share": share}
        msg = f"{nulls:,} missing of {rows:,} ({_pct(share)})" + ("" if ok else f", expected {expected}")
        if rows and nulls == rows:
            msg += "; every value is missing"
        return Verdict(ok, share, expected, msg, counts)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        rows = _row_indices(lf, pl.col(spec.columns[0]).is_null(), n)
        return replace(verdict, examples=[{"row": r} for r in rows])


class MaxMissing(NotNull):
    kind = "max_missing"

    def limit(self, spec: CheckSpec) -> float:
        return float(spec.params["max_share"])


def _bound(value: Any, dtype: pl.DataType) -> Any:  # Any: a YAML scalar, returned comparable
    if value is None:
        return None
    if isinstance(value, str) and dtype.is_temporal():
        parsed = dt.datetime.fromisoformat(value)
        return parsed.date() if dtype == pl.Date else parsed
    return value


class Range(Check):
    kind = "range"

    def problem(self, spec: CheckSpec, schema: pl.Schema) -> str | None:
        base = super().problem(spec, schema)
        if base:
            return base
        dtype = schema[spec.columns[0]]
        if not (dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Null):
            return f"not evaluated: column is {type_family(dtype)}, a range needs numbers or dates"
        for b in ("min", "max"):
            value = spec.params.get(b)
            if isinstance(value, str) and not dtype.is_temporal():
                return f"not evaluated: bound {b}={value!r} is not a number"
            if isinstance(value, str):
                try:
                    dt.datetime.fromisoformat(value)
                except ValueError:
                    return f"not evaluated: bound {b}={value!r} is not an ISO date"
        return None

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        col = pl.col(spec.columns[0])
        return {f"{key}min": col.min(), f"{key}max": col.max()}

    def _expected(self, spec: CheckSpec) -> str:
        lo, hi = spec.params.get("min"), spec.params.get("max")
        if lo is not None and hi is not None:
            return f"values in [{lo}, {hi}]"
        return f"values >= {lo}" if lo is not None else f"values <= {hi}"

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        dtype = schema[spec.columns[0]]
        lo, hi = _bound(spec.params.get("min"), dtype), _bound(spec.params.get("max"), dtype)
        mn, mx = v["min"], v["max"]
        if isinstance(mn, float) and math.isnan(mn):
            mn = None
        ok = mn is None or ((lo is None or mn >= lo) and (hi is None or mx <= hi))
        observed = {"min": mn, "max": mx}
        msg = f"observed min {mn}, max {mx}" if mn is not None else "no values to compare (all missing)"
        return Verdict(ok, observed, self._expected(spec), msg if ok else f"{msg}, expected {self._expected(spec)}")

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        col = pl.col(spec.columns[0])
        dtype = lf.collect_schema()[spec.columns[0]]
        lo, hi = _bound(spec.params.get("min"), dtype), _bound(spec.params.get("max"), dtype)
        bad = pl.lit(False)
        if lo is not None:
            bad = bad | (col < lo)
        if hi is not None:
            bad = bad | (col > hi)
        count, total = lf.select(bad.sum().alias("bad"), col.count().alias("total")).collect().row(0)
        counts = {"element_count": total, "unexpected_count": count, "unexpected_share": _share(count, total)}
        examples = _value_counts(lf, col, bad, n)
        msg = f"{count:,} of {total:,} values ({_pct(_share(count, total))}) outside; {verdict.message}"
        return replace(verdict, counts=counts, examples=examples, message=msg)


def _allowed_for(values: Sequence[Any], dtype: pl.DataType) -> list[Any] | str:
    """The allowed list converted to the column's type, or why it cannot be."""
    family = type_family(dtype)
    if family == "string":
        return [str(x) for x in values]
    if family in ("integer", "float"):
        out = []
        for x in values:
            if isinstance(x, bool) or not isinstance(x, int | float):
                return f"not evaluated: allowed value {x!r} is not a number but the column is {family}"
            out.append(x)
        return out
    if family == "boolean":
        if not all(isinstance(x, bool) for x in values):
            return "not evaluated: allowed values must be true/false for a boolean column"
        return list(values)
    if family == "null":
        return list(values)
    return f"not evaluated: allowed values cannot apply to a {family} column"


class Allowed(Check):
    kind = "allowed"

    def problem(self, spec: CheckSpec, schema: pl.Schema) -> str | None:
        base = super().problem(spec, schema)
        if base:
            return base
        converted = _allowed_for(spec.params["allowed"], schema[spec.columns[0]])
        return converted if isinstance(converted, str) else None

    def _values(self, spec: CheckSpec, schema: pl.Schema) -> list[Any]:
        converted = _allowed_for(spec.params["allowed"], schema[spec.columns[0]])
        assert not isinstance(converted, str)
        return converted

    def _column(self, spec: CheckSpec, schema: pl.Schema) -> pl.Expr:
        col = pl.col(spec.columns[0])
        # Enum/Categorical compare by category text
        return col.cast(pl.String) if isinstance(schema[spec.columns[0]], pl.Categorical | pl.Enum) else col

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        col = self._column(spec, schema)
        return {f"{key}new": (~col.is_in(self._values(spec, schema))).sum(), f"{key}count": pl.col(spec.columns[0]).count()}

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        new, total = int(v["new"] or 0), int(v["count"])
        share, tolerated = _share(new, total), float(spec.params.get("max_new_share", 0.0))
        ok = share <= tolerated if tolerated else new == 0
        allowed = spec.params["allowed"]
        shown = ", ".join(str(a) for a in allowed[:10]) + (f", ... ({len(allowed)} values)" if len(allowed) > 10 else "")
        expected = f"values in {{{shown}}}" + (f", up to {_pct(tolerated)} new" if tolerated else "")
        counts = {"element_count": total, "unexpected_count": new, "unexpected_share": share}
        msg = f"{new:,} of {total:,} values ({_pct(share)}) outside the allowed set"
        return Verdict(ok, share, expected, msg, counts)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        schema = lf.collect_schema()
        col = self._column(spec, schema)
        examples = _value_counts(lf, col, ~col.is_in(self._values(spec, schema)), n)
        return replace(verdict, examples=examples)


class LabelValues(Allowed):
    kind = "label_values"


class Unique(Check):
    kind = "unique"

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        col = pl.col(spec.columns[0])
        return {f"{key}distinct": col.drop_nulls().n_unique(), f"{key}count": col.count()}

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        distinct, total = int(v["distinct"]), int(v["count"])
        dup = total - distinct
        counts = {"element_count": total, "unexpected_count": dup, "unexpected_share": _share(dup, total), "distinct_count": distinct}
        return Verdict(dup == 0, distinct, "every value unique", f"{distinct:,} distinct of {total:,} values; {dup:,} repeats", counts)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        col = pl.col(spec.columns[0])
        return replace(verdict, examples=_value_counts(lf, col, col.is_duplicated() & col.is_not_null(), n))


class Key(Check):
    kind = "key"

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        return {f"{key}distinct": pl.struct(spec.columns).n_unique()}

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        distinct = int(v["distinct"])
        dup = rows - distinct
        counts = {"element_count": rows, "unexpected_count": dup, "unexpected_share": _share(dup, rows), "distinct_count": distinct}
        cols = ", ".join(spec.columns)
        return Verdict(dup == 0, distinct, f"({cols}) identifies each row", f"{distinct:,} distinct keys in {rows:,} rows; {dup:,} repeats", counts)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        key = pl.struct(spec.columns)
        rows = _value_counts(lf, key, key.is_duplicated(), n)
        return replace(verdict, examples=rows)


class DuplicateRows(Check):
    kind = "duplicate_rows"

    def _columns(self, spec: CheckSpec, schema: pl.Schema) -> list[str]:
        return list(spec.columns) or list(schema.names())

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        return {f"{key}distinct": pl.struct(self._columns(spec, schema)).n_unique()}

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        distinct = int(v["distinct"]) if rows else 0
        dup = rows - distinct
        share, limit = _share(dup, rows), float(spec.params.get("max_share", 0.0))
        ok = share <= limit if limit else dup == 0
        counts = {"element_count": rows, "unexpected_count": dup, "unexpected_share": share}
        expected = "no duplicate rows" if not limit else f"at most {_pct(limit)} duplicate rows"
        return Verdict(ok, share, expected, f"{dup:,} rows ({_pct(share)}) repeat an earlier row", counts)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        row = pl.struct(self._columns(spec, lf.collect_schema()))
        return replace(verdict, examples=_value_counts(lf, row, row.is_duplicated(), n))


class ClassBalance(Check):
    kind = "class_balance"

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        return {f"{key}classes": pl.col(spec.columns[0]).drop_nulls().value_counts(sort=True, name="count").implode()}

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        name = spec.columns[0]
        counts_list = v["classes"] or []
        total = sum(int(c["count"]) for c in counts_list)
        shares = {str(c[name]): _share(int(c["count"]), total) for c in counts_list}
        lo, hi = float(spec.params["min_share"]), float(spec.params["max_share"])
        off = {k: s for k, s in shares.items() if s < lo or s > hi}
        ok = not off and total > 0
        expected = f"each class between {_pct(lo)} and {_pct(hi)}"
        msg = ", ".join(f"{k}: {_pct(s)}" for k, s in list(shares.items())[:10]) or "no labels"
        examples = [{"value": k, "share": s} for k, s in off.items()]
        counts = {"element_count": total, "class_count": len(shares), "unexpected_count": len(off)}
        return Verdict(ok, shares, expected, msg, counts, examples)


def _features(spec: CheckSpec, schema: pl.Schema, exclude: Sequence[str]) -> list[str]:
    features = list(spec.params.get("features") or ())
    return features or [c for c in schema.names() if c not in exclude]


class LabelConflicts(Check):
    kind = "label_conflicts"

    def problem(self, spec: CheckSpec, schema: pl.Schema) -> str | None:
        base = super().problem(spec, schema)
        missing = [f for f in spec.params.get("features") or () if f not in schema]
        if not base and missing:
            return f"not evaluated: feature {', '.join(repr(m) for m in missing)} is missing"
        return base

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        feats = _features(spec, schema, spec.columns)
        return {
            f"{key}groups": pl.struct(feats).n_unique(),
            f"{key}pairs": pl.struct([*feats, spec.columns[0]]).n_unique(),
        }

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        groups, pairs = int(v["groups"]), int(v["pairs"])
        extra = pairs - groups  # each conflicting feature row adds at least one extra (features, label) pair
        share, limit = _share(extra, groups), float(spec.params.get("max_share", 0.0))
        ok = share <= limit if limit else extra == 0
        counts = {"feature_rows": groups, "unexpected_count": extra, "unexpected_share": share}
        return Verdict(ok, extra, "identical feature rows carry one label", f"{extra:,} extra labels on identical feature rows ({_pct(share)})", counts)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        label = spec.columns[0]
        feats = _features(spec, lf.collect_schema(), spec.columns)
        conflicts = (
            lf.group_by(feats)
            .agg(pl.col(label).unique().sort().alias("labels"), pl.len().alias("count"))
            .filter(pl.col("labels").list.len() > 1)
            .sort("count", descending=True)
        )
        total_rows = int(conflicts.select(pl.col("count").sum()).collect().item() or 0)
        examples = conflicts.head(n).collect().to_dicts()
        return replace(verdict, counts={**verdict.counts, "rows_in_conflict": total_rows}, examples=examples)


def _entropy(expr: pl.Expr) -> pl.Expr:
    return expr.unique_counts().entropy()


class Leakage(Check):
    kind = "leakage"

    def _pairs(self, spec: CheckSpec, schema: pl.Schema) -> list[tuple[str, str]]:
        target = spec.columns[0]
        feats = _features(spec, schema, spec.columns)
        numeric_target = schema[target].is_numeric()
        out = []
        for f in feats:
            if f not in schema or schema[f].is_temporal() or schema[f] == pl.Null:
                continue
            out.append((f, "corr" if numeric_target and schema[f].is_numeric() else "nmi"))
        return out

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        target = spec.columns[0]
        out: dict[str, pl.Expr] = {}
        if any(kind == "nmi" for _, kind in self._pairs(spec, schema)):
            out[f"{key}h_t"] = _entropy(pl.col(target))
        for i, (f, kind) in enumerate(self._pairs(spec, schema)):
            if kind == "corr":
                out[f"{key}corr{i}"] = pl.corr(pl.col(f).cast(pl.Float64), pl.col(target).cast(pl.Float64))
            else:
                out[f"{key}h_f{i}"] = _entropy(pl.col(f))
                out[f"{key}h_ft{i}"] = _entropy(pl.struct(f, target))
        return out

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        max_corr, max_nmi = float(spec.params["max_correlation"]), float(spec.params["max_mutual_information"])
        scores: dict[str, dict[str, float]] = {}
        suspects: list[dict[str, Any]] = []
        for i, (f, kind) in enumerate(self._pairs(spec, schema)):
            if kind == "corr":
                value = v[f"corr{i}"]
                score = 0.0 if value is None or math.isnan(value) else abs(float(value))
                scores[f] = {"abs_correlation": score}
                if score >= max_corr:
                    suspects.append({"feature": f, "abs_correlation": score})
            else:
                h_f, h_t, h_ft = float(v[f"h_f{i}"] or 0), float(v["h_t"] or 0), float(v[f"h_ft{i}"] or 0)
                mi = max(h_f + h_t - h_ft, 0.0)
                nmi = min(2 * mi / (h_f + h_t), 1.0) if h_f + h_t > 0 else 0.0
                scores[f] = {"normalized_mutual_information": nmi}
                if nmi >= max_nmi:
                    suspects.append({"feature": f, "normalized_mutual_information": nmi})
        expected = f"|correlation| < {max_corr} and normalised mutual information < {max_nmi} with {spec.columns[0]!r}"
        names = ", ".join(s["feature"] for s in suspects)
        msg = f"{len(suspects)} feature(s) predict the target almost perfectly: {names}" if suspects else f"{len(scores)} features checked"
        counts = {"features_checked": len(scores), "unexpected_count": len(suspects)}
        return Verdict(not suspects, scores, expected, msg, counts, suspects)


class SplitOverlap(Check):
    kind = "split_overlap"

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        split = pl.col(spec.columns[0])
        row = pl.struct(_features(spec, schema, spec.columns))
        train, test = spec.params["train"], spec.params["test"]
        return {
            f"{key}train": row.filter(split == train).n_unique(),
            f"{key}test": row.filter(split == test).n_unique(),
            f"{key}both": row.filter(split.is_in([train, test])).n_unique(),
        }

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        train, test, both = int(v["train"]), int(v["test"]), int(v["both"])
        shared = train + test - both
        share, limit = _share(shared, test), float(spec.params["max_share"])
        ok = share <= limit if limit else shared == 0
        counts = {"train_distinct_rows": train, "test_distinct_rows": test, "unexpected_count": shared, "unexpected_share": share}
        expected = "no test row also in train" if not limit else f"at most {_pct(limit)} of test rows also in train"
        msg = f"{shared:,} of {test:,} distinct test rows ({_pct(share)}) also appear in train"
        if not test or not train:
            msg += f"; split values {spec.params['train']!r}/{spec.params['test']!r} found {train:,}/{test:,} rows"
        return Verdict(ok, share, expected, msg, counts)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        split = pl.col(spec.columns[0])
        feats = _features(spec, lf.collect_schema(), spec.columns)
        train = lf.filter(split == spec.params["train"]).select(feats).unique()
        shared = lf.filter(split == spec.params["test"]).select(feats).unique().join(train, on=feats, how="semi", nulls_equal=True)
        return replace(verdict, examples=shared.head(n).collect().to_dicts())


class TimeSplit(Check):
    kind = "time_split"

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        split, time = pl.col(spec.columns[0]), pl.col(spec.columns[1])
        return {
            f"{key}train_max": time.filter(split == spec.params["train"]).max(),
            f"{key}test_min": time.filter(split == spec.params["test"]).min(),
        }

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        train_max, test_min = v["train_max"], v["test_min"]
        ok = train_max is None or test_min is None or test_min >= train_max
        observed = {"train_max": train_max, "test_min": test_min}
        msg = f"latest train {train_max}, earliest test {test_min}"
        return Verdict(ok, observed, "every test row at or after the latest training row", msg)

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        split, time = pl.col(spec.columns[0]), pl.col(spec.columns[1])
        bad = (split == spec.params["test"]) & (time < verdict.observed["train_max"])
        count, tests = lf.select(bad.sum().alias("bad"), (split == spec.params["test"]).sum().alias("tests")).collect().row(0)
        counts = {"element_count": tests, "unexpected_count": count, "unexpected_share": _share(count, tests)}
        examples = _value_counts(lf, time, bad, n)
        return replace(verdict, counts=counts, examples=examples, message=f"{count:,} test rows precede the latest training row; {verdict.message}")


class Pii(Check):
    kind = "pii"

    def _targets(self, spec: CheckSpec, schema: pl.Schema) -> list[str]:
        cols = list(spec.columns) or [c for c in schema.names() if schema[c] == pl.String]
        return [c for c in cols if c in schema and schema[c] == pl.String]

    def problem(self, spec: CheckSpec, schema: pl.Schema) -> str | None:
        return super().problem(spec, schema)

    def exprs(self, spec: CheckSpec, schema: pl.Schema, key: str) -> dict[str, pl.Expr]:
        out = {}
        for i, c in enumerate(self._targets(spec, schema)):
            for kind in spec.params["kinds"]:
                out[f"{key}{i}_{kind}"] = pl.col(c).str.contains(PATTERNS[kind]).sum()
            out[f"{key}{i}_count"] = pl.col(c).count()
        return out

    def judge(self, spec: CheckSpec, schema: pl.Schema, v: Values, rows: int) -> Verdict:
        found: dict[str, dict[str, int]] = {}
        for i, c in enumerate(self._targets(spec, schema)):
            for kind in spec.params["kinds"]:
                hits = int(v[f"{i}_{kind}"] or 0)
                if hits:
                    found.setdefault(c, {})[kind] = hits
        # candidates only; explain() confirms checksums before anything is reported
        return Verdict(not found, found, "no personal data patterns", "no personal data patterns" if not found else "candidates found")

    def explain(self, spec: CheckSpec, lf: pl.LazyFrame, verdict: Verdict, n: int) -> Verdict:
        confirmed: dict[str, dict[str, int]] = {}
        examples: list[dict[str, Any]] = []
        limit = float(spec.params.get("max_share", 0.0))
        totals = lf.select([pl.col(c).count() for c in verdict.observed]).collect().row(0, named=True)
        worst = 0.0
        for column, kinds in verdict.observed.items():
            for kind, hits in kinds.items():
                count = hits
                candidates = lf.filter(pl.col(column).str.contains(PATTERNS[kind])).select(column).head(PII_SAMPLE).collect().to_series().to_list()
                if kind in VERIFIERS:
                    good = [x for x in candidates if VERIFIERS[kind](x)]
                    # scale the confirmed rate of the sample back to all candidates
                    count = round(hits * len(good) / len(candidates)) if candidates else 0
                    candidates = good
                if count:
                    confirmed.setdefault(column, {})[kind] = count
                    worst = max(worst, _share(count, int(totals[column])))
                    examples.extend({"column": column, "kind": kind, "value": _mask(x)} for x in candidates[: max(1, n // 4)])
        ok = not confirmed or (limit > 0 and worst <= limit)
        parts = [f"{c}: " + ", ".join(f"{k} {cnt:,}" for k, cnt in ks.items()) for c, ks in confirmed.items()]
        msg = "values look like personal data: " + "; ".join(parts) if confirmed else "candidates did not pass checksums"
        counts = {"columns_flagged": len(confirmed), "unexpected_share": worst}
        return replace(verdict, passed=ok, observed=confirmed, message=msg, counts=counts, examples=examples[:n])


def _mask(value: str) -> str:
    """Show enough of a personal value to recognise it, not to reuse it."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


CHECKS: dict[str, Check] = {
    c.kind: c
    for c in (
        RowCount(),
        Present(),
        TypeCheck(),
        NotNull(),
        MaxMissing(),
        Range(),
        Allowed(),
        Unique(),
        Key(),
        DuplicateRows(),
        LabelValues(),
        ClassBalance(),
        LabelConflicts(),
        Leakage(),
        SplitOverlap(),
        TimeSplit(),
        Pii(),
    )
}
