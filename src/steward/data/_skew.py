"""Training/serving skew: a suite applied to current data plus per-feature distances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from steward.core import drift

from ._report import ValidationResult
from ._suite import Suite
from ._validate import as_lazy, validate

__all__ = ["FeatureSkew", "SkewResult", "skew"]

# Distances are estimated on a uniform sample of at most this many values per side:
# PSI/JS/KS on 100,000 values are within sampling noise of the full-data value, and
# comparing 10 M string labels in numpy would dominate the run.
MAX_SAMPLE = 100_000
PSI_THRESHOLD = 0.2  # the usual "major shift" bound


@dataclass(frozen=True, slots=True)
class FeatureSkew:
    """One feature's distance between reference and current data.

    Attributes:
        column: the feature.
        kind: ``numeric`` or ``categorical``.
        psi: population stability index.
        js: Jensen-Shannon distance (0..1).
        test: ``ks`` (numeric) or ``chi2`` (categorical).
        statistic: the test statistic.
        p_value: the test's p-value.
        drifted: PSI above the threshold (0.2 by default).
        note: why a feature could not be compared, when it could not.
    """

    column: str
    kind: str
    psi: float | None
    js: float | None
    test: str | None
    statistic: float | None
    p_value: float | None
    drifted: bool
    note: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "column": self.column,
            "kind": self.kind,
            "psi": self.psi,
            "js": self.js,
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "drifted": self.drifted,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class SkewResult:
    """Skew between a reference (training) and current (serving) dataset."""

    reference: str
    current: str
    features: tuple[FeatureSkew, ...]
    validation: ValidationResult | None
    threshold: float

    @property
    def drifted(self) -> list[str]:
        """Features whose PSI exceeds the threshold."""
        return [f.column for f in self.features if f.drifted]

    @property
    def passed(self) -> bool:
        """No drifted feature and (with a suite) no error-severity failure."""
        return not self.drifted and (self.validation is None or self.validation.passed)

    def to_dict(self) -> dict[str, Any]:  # Any: JSON document
        """Strict-JSON form."""
        return {
            "reference": self.reference,
            "current": self.current,
            "passed": self.passed,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "features": [f.to_dict() for f in self.features],
            "validation": None if self.validation is None else self.validation.to_dict(),
        }


def _sample(series: pl.Series) -> pl.Series:
    values = series.drop_nulls()
    if values.dtype.is_float():
        values = values.filter(values.is_finite())
    return values.sample(MAX_SAMPLE, seed=0) if values.len() > MAX_SAMPLE else values


def _compare(column: str, ref: pl.Series, cur: pl.Series, threshold: float) -> FeatureSkew:
    numeric = ref.dtype.is_numeric() and cur.dtype.is_numeric() and ref.dtype != pl.Boolean
    kind = "numeric" if numeric else "categorical"
    r, c = _sample(ref), _sample(cur)
    if r.len() == 0 or c.len() == 0:
        return FeatureSkew(column, kind, None, None, None, None, None, False, "no non-missing values on one side")
    if numeric:
        rv, cv = r.cast(pl.Float64).to_numpy(), c.cast(pl.Float64).to_numpy()
        test = drift.ks(rv, cv)
    else:
        rv, cv = r.cast(pl.String).to_numpy(), c.cast(pl.String).to_numpy()
        test = drift.chi_square(rv, cv)
    p = drift.psi(rv, cv, categorical=not numeric).statistic
    js = drift.jensen_shannon(rv, cv, categorical=not numeric).statistic
    return FeatureSkew(column, kind, p, js, test.kind, test.statistic, test.p_value, p > threshold)


def skew(
    reference: Any,  # Any: frames
    current: Any,
    suite: Suite | None = None,
    *,
    columns: Sequence[str] | None = None,
    threshold: float = PSI_THRESHOLD,
    reference_name: str = "<reference>",
    current_name: str = "<current>",
) -> SkewResult:
    """Compare current data with reference data, feature by feature.

    Applies ``suite`` (when given) to ``current`` and computes, for every column both
    share (or ``columns``), PSI, Jensen-Shannon and a test (KS for numbers, chi-square
    for categories) with :mod:`steward.core.drift`.

    Args:
        reference: the training data (frame).
        current: the data to compare (serving inputs, a new batch).
        suite: a suite to validate ``current`` with.
        columns: the features to compare (default: every shared column).
        threshold: PSI above which a feature counts as drifted.
        reference_name: how the report names the reference.
        current_name: how the report names the current data.

    Returns:
        A :class:`SkewResult`.
    """
    ref_lf, cur_lf = as_lazy(reference), as_lazy(current)
    ref_schema, cur_schema = ref_lf.collect_schema(), cur_lf.collect_schema()
    wanted = list(columns) if columns else [c for c in ref_schema.names() if c in cur_schema]
    shared = [c for c in wanted if c in ref_schema and c in cur_schema]
    ref_frame = ref_lf.select(shared).collect()
    cur_frame = cur_lf.select(shared).collect()
    features = [
        FeatureSkew(c, "missing", None, None, None, None, None, False, "not in both datasets") for c in wanted if c not in shared
    ]
    for c in shared:
        if ref_frame[c].dtype.is_temporal() or ref_frame[c].dtype.is_nested():
            features.append(FeatureSkew(c, "other", None, None, None, None, None, False, f"{ref_frame[c].dtype} is not compared"))
            continue
        features.append(_compare(c, ref_frame[c], cur_frame[c], threshold))
    validation = validate(cur_frame if not columns else cur_lf, suite, dataset=current_name) if suite is not None else None
    return SkewResult(reference_name, current_name, tuple(features), validation, threshold)
