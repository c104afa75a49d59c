"""The file-pair drift report: reference vs current, column by column, from streamed summaries.

Each column is summarised (:mod:`._summaries`), compared with the method its type and
sample size call for (:func:`steward.core.drift.choose_method`, overridable per column),
and flagged only when the change is significant after a Holm (or Bonferroni) correction for
the number of columns AND at least the effect-size threshold of the chosen sensitivity.
The missing share is compared for every column the same way. Embedding columns (lists of
floats) are compared by MMD with the distances between their means
(:mod:`steward.core.drift_embeddings`); the rows as a whole by a domain classifier
(:mod:`steward.core.drift_multivariate`) trained on a bounded, seeded sample of both sides.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl
import pyarrow as pa

from steward.core import drift, drift_embeddings, drift_multivariate
from steward.errors import InvalidInputError, NotFoundError

from ._summaries import (
    DEFAULT_TOP_K,
    SAMPLE_ROWS,
    ArrowSource,
    CategorySummary,
    ColumnSummary,
    EmbeddingSummary,
    NumericSummary,
    ParquetSource,
    TableSource,
    TableSummary,
    column_kind,
    is_list_of_numbers,
    numeric_edges,
    sample_rows,
    summarise,
)

__all__ = [
    "ColumnDrift",
    "DatasetScanner",
    "DriftReport",
    "Summariser",
    "compare_summaries",
    "drift_report",
    "open_source",
    "report",
]

ALPHA = 0.05
# Bins shown per numeric feature in the HTML overlay (the 100 fine bins merged).
_DISPLAY_BINS = 25
_DISPLAY_CATEGORIES = 20


class DatasetScanner(Protocol):
    """Where dataset version refs (``name:3``) are read from (the data stage's service)."""

    def scan(self, ref: str) -> pl.LazyFrame:
        """A lazy frame over the version's data."""
        ...


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """One column's verdict.

    Attributes:
        column: the column.
        kind: ``numeric``, ``categorical`` or ``embedding`` (from the reference's type, or declared).
        status: ``ok`` (compared), ``insufficient_data`` (fewer than
            :data:`~steward.core.drift.MIN_ROWS` values on a side), ``all_null``,
            ``missing_in_reference``, ``missing_in_current``, ``type_mismatch`` or
            ``invalid`` (an embedding of vectors of different lengths).
        method: the distribution method, when compared.
        statistic: its statistic.
        p_value: the significance test's p-value, adjusted for the number of columns.
        raw_p_value: before the adjustment.
        effect_size: the size of the change compared with ``threshold``.
        threshold: the effect-size threshold at the report's sensitivity.
        drifted: the distribution or the missing share changed significantly and enough.
        unseen_share: share of current values in categories the reference lacks.
        missing_reference: missing share in the reference.
        missing_current: missing share in the current data.
        missing_p_value: adjusted p-value of the missing-share change.
        missing_drifted: the missing share changed significantly and by at least its threshold.
        reference_size: non-missing reference values.
        current_size: non-missing current values.
        message: why a column was not compared, or what changed.
        overlay: (labels, reference shares, current shares) for the HTML overlay.
        histogram: the counts behind the overlay, kept with a monitor's window result:
            numeric ``{"kind", "edges", "reference", "current"}`` (``len(edges) + 1`` bins,
            the outer two open-ended), categorical ``{"kind", "categories", "reference",
            "current"}`` (the most frequent categories of both sides).
        embedding: for an embedding column, the distances between the means (``euclidean``
            over the reference's spread, ``cosine``), the MMD kernel's ``bandwidth``, the
            vectors' ``dimensions`` and the ``sample_rows`` per side of the MMD.
    """

    column: str
    kind: str
    status: str
    method: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    raw_p_value: float | None = None
    effect_size: float | None = None
    threshold: float | None = None
    drifted: bool = False
    unseen_share: float | None = None
    missing_reference: float | None = None
    missing_current: float | None = None
    missing_p_value: float | None = None
    missing_drifted: bool = False
    reference_size: int = 0
    current_size: int = 0
    message: str | None = None
    overlay: tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]] | None = field(default=None, repr=False)
    embedding: dict[str, float] | None = None
    histogram: dict[str, object] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (without the overlay and the histogram)."""
        out: dict[str, object] = {
            "column": self.column,
            "kind": self.kind,
            "status": self.status,
            "method": self.method,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "raw_p_value": self.raw_p_value,
            "effect_size": self.effect_size,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "unseen_share": self.unseen_share,
            "missing": {
                "reference_share": self.missing_reference,
                "current_share": self.missing_current,
                "p_value": self.missing_p_value,
                "drifted": self.missing_drifted,
            },
            "reference_size": self.reference_size,
            "current_size": self.current_size,
            "message": self.message,
        }
        if self.embedding is not None:
            out["embedding"] = self.embedding
        return out


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Drift between a reference and a current table.

    Attributes:
        reference: how the reference is named.
        current: how the current data is named.
        reference_rows: rows in the reference.
        current_rows: rows in the current data.
        sensitivity: ``low``, ``medium`` or ``high``.
        correction: ``holm`` or ``bonferroni``.
        alpha: family-wise significance level.
        columns: one verdict per column (reference columns first, then current-only ones).
        multivariate: the domain classifier's verdict on the rows as a whole (None: not computed).
    """

    reference: str
    current: str
    reference_rows: int
    current_rows: int
    sensitivity: str
    correction: str
    alpha: float
    columns: tuple[ColumnDrift, ...]
    multivariate: drift_multivariate.MultivariateDrift | None = None

    @property
    def any_drift(self) -> bool:
        """A column drifted, or the domain classifier told the sides apart."""
        return bool(self.drifted) or (self.multivariate is not None and self.multivariate.drifted)

    @property
    def drifted(self) -> list[str]:
        """Columns flagged as drifted."""
        return [c.column for c in self.columns if c.drifted]

    @property
    def compared(self) -> int:
        """Columns with enough data on both sides to be compared."""
        return sum(1 for c in self.columns if c.status == "ok")

    @property
    def drift_share(self) -> float:
        """Share of the compared columns that drifted (0 when none could be compared)."""
        return len(self.drifted) / self.compared if self.compared else 0.0

    def to_dict(self) -> dict[str, Any]:  # Any: JSON document
        """Strict-JSON form."""
        return {
            "reference": self.reference,
            "current": self.current,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "sensitivity": self.sensitivity,
            "correction": self.correction,
            "alpha": self.alpha,
            "drifted": self.drifted,
            "drift_share": self.drift_share,
            "columns_compared": self.compared,
            "multivariate": None if self.multivariate is None else self.multivariate.to_dict(),
            "columns": [c.to_dict() for c in self.columns],
        }


def _numeric_overlay(ref: NumericSummary, cur: NumericSummary) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]:
    # merge the fine bins into about _DISPLAY_BINS groups of equal reference mass
    group = max(1, int(np.ceil(ref.counts.size / _DISPLAY_BINS)))
    labels: list[str] = []
    rs: list[float] = []
    cs: list[float] = []
    lower = np.concatenate([[-np.inf], ref.edges])
    for start in range(0, ref.counts.size, group):
        stop = min(start + group, ref.counts.size)
        labels.append(f">= {lower[start]:.4g}" if np.isfinite(lower[start]) else f"< {ref.edges[0]:.4g}" if ref.edges.size else "all")
        rs.append(float(ref.counts[start:stop].sum() / max(ref.count, 1)))
        cs.append(float(cur.counts[start:stop].sum() / max(cur.count, 1)))
    return tuple(labels), tuple(rs), tuple(cs)


def _numeric_histogram(ref: NumericSummary, cur: NumericSummary) -> dict[str, object]:
    """The fine bins merged as the overlay merges them, as counts on the merged bins' edges."""
    group = max(1, int(np.ceil(ref.counts.size / _DISPLAY_BINS)))
    starts = list(range(0, ref.counts.size, group))
    return {
        "kind": "numeric",
        "edges": [float(ref.edges[start - 1]) for start in starts[1:]],
        "reference": [round(float(ref.counts[a : a + group].sum())) for a in starts],
        "current": [round(float(cur.counts[a : a + group].sum())) for a in starts],
    }


def _category_histogram(keys: list[str], ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any]) -> dict[str, object]:
    total_r, total_c = max(float(ref.sum()), 1.0), max(float(cur.sum()), 1.0)
    top = np.argsort(-(ref / total_r + cur / total_c), kind="stable")[:_DISPLAY_CATEGORIES]
    return {
        "kind": "categorical",
        "categories": [keys[i] for i in top],
        "reference": [round(float(ref[i])) for i in top],
        "current": [round(float(cur[i])) for i in top],
    }


def _aligned(ref: CategorySummary, cur: CategorySummary) -> tuple[list[str], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Counts over the categories of both sides; current categories the reference folded
    into "other" (it had more than top_k) count in the shared "other" cell, not as unseen."""
    keys = list(ref.counts)
    ref_counts = [float(v) for v in ref.counts.values()]
    cur_counts = [float(cur.counts.get(k, 0)) for k in keys]
    other_ref, other_cur = float(ref.other), float(cur.other)
    for key, number in cur.counts.items():
        if key in ref.counts:
            continue
        if ref.other > 0:
            other_cur += number
        else:
            keys.append(key)
            ref_counts.append(0.0)
            cur_counts.append(float(number))
    if other_ref or other_cur:
        keys.append("(other)")
        ref_counts.append(other_ref)
        cur_counts.append(other_cur)
    return keys, np.asarray(ref_counts), np.asarray(cur_counts)


def _category_overlay(
    keys: list[str], ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any]
) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]:
    rs, cs = ref / max(ref.sum(), 1), cur / max(cur.sum(), 1)
    top = np.argsort(-(rs + cs), kind="stable")[:_DISPLAY_CATEGORIES]
    return tuple(keys[i] for i in top), tuple(float(rs[i]) for i in top), tuple(float(cs[i]) for i in top)


@dataclass(slots=True)
class _Pending:
    column: str
    kind: str
    status: str
    test: drift.ColumnTest | None = None
    missing: tuple[float, float] | None = None
    missing_shares: tuple[float, float] | None = None
    sizes: tuple[int, int] = (0, 0)
    message: str | None = None
    overlay: tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]] | None = None
    embedding: dict[str, float] | None = None
    histogram: dict[str, object] | None = None


def _kind(summary: ColumnSummary) -> str:
    if isinstance(summary, NumericSummary):
        return "numeric"
    return "embedding" if isinstance(summary, EmbeddingSummary) else "categorical"


def _compare_embedding(pending: _Pending, ref: EmbeddingSummary, cur: EmbeddingSummary, samples: tuple[Any, Any]) -> None:
    if ref.dim != cur.dim:
        pending.status = "type_mismatch"
        pending.message = f"embedding vectors of {ref.dim} dimensions in the reference but {cur.dim} in the current data"
        return
    ref_sample, cur_sample = (np.asarray(x, dtype=np.float64) for x in samples)
    ref_sample = ref_sample[np.all(np.isfinite(ref_sample), axis=1)] if ref_sample.ndim == 2 else ref_sample
    cur_sample = cur_sample[np.all(np.isfinite(cur_sample), axis=1)] if cur_sample.ndim == 2 else cur_sample
    if ref_sample.ndim != 2 or cur_sample.ndim != 2 or min(ref_sample.shape[0], cur_sample.shape[0]) < drift.MIN_ROWS:
        pending.status = "insufficient_data"
        pending.message = f"fewer than {drift.MIN_ROWS} sampled vectors on one side; the MMD needs more"
        return
    result = drift_embeddings.embedding_test(
        ref_sample, cur_sample, reference_mean=ref.mean, current_mean=cur.mean, reference_variance=ref.variance
    )
    pending.test = drift.ColumnTest(
        "mmd", result.statistic, result.p_value, result.effect_size, ref.count, cur.count
    )
    pending.embedding = {
        "euclidean": result.euclidean, "cosine": result.cosine, "bandwidth": result.bandwidth,
        "dimensions": float(ref.dim), "sample_rows": float(min(result.reference_size, result.current_size)),
    }


def _compare_column(
    name: str, ref: ColumnSummary, cur: ColumnSummary, override: str | None, samples: tuple[Any, Any] | None = None
) -> _Pending:
    kind = _kind(ref)
    sizes = (ref.count, cur.count)
    pending = _Pending(name, kind, "ok", sizes=sizes)
    if ref.rows and cur.rows:
        pending.missing = drift.missing_test(ref.missing, ref.rows, cur.missing, cur.rows)
        pending.missing_shares = (ref.missing / ref.rows, cur.missing / cur.rows)
    if ref.count == 0 or cur.count == 0:
        side = "reference" if ref.count == 0 else "current data"
        pending.status, pending.message = "all_null", f"every value of {name!r} in the {side} is missing"
        return pending
    if min(sizes) < drift.MIN_ROWS:
        pending.status = "insufficient_data"
        pending.message = (
            f"{min(sizes)} non-missing values on one side; at least {drift.MIN_ROWS} are needed to judge drift"
        )
        return pending
    if isinstance(ref, EmbeddingSummary) and isinstance(cur, EmbeddingSummary):
        if override is not None and override != "mmd":
            raise InvalidInputError(f"method {override!r} does not suit an embedding column; expected mmd", field="method")
        _compare_embedding(pending, ref, cur, samples if samples is not None else (np.zeros((0, 0)), np.zeros((0, 0))))
        return pending
    method = drift.choose_method(kind, *sizes, override=override)
    if isinstance(ref, NumericSummary) and isinstance(cur, NumericSummary):
        pending.test = drift.numeric_test(
            ref.counts, ref.bin_means(), cur.counts, cur.bin_means(), scale=ref.sd, method=method
        )
        pending.overlay = _numeric_overlay(ref, cur)
        pending.histogram = _numeric_histogram(ref, cur)
    elif isinstance(ref, CategorySummary) and isinstance(cur, CategorySummary):
        keys, ref_counts, cur_counts = _aligned(ref, cur)
        pending.test = drift.categorical_test(ref_counts, cur_counts, method=method)
        pending.overlay = _category_overlay(keys, ref_counts, cur_counts)
        pending.histogram = _category_histogram(keys, ref_counts, cur_counts)
    return pending


def compare_summaries(
    reference: TableSummary,
    current: TableSummary,
    *,
    reference_name: str = "<reference>",
    current_name: str = "<current>",
    sensitivity: str = "medium",
    methods: Mapping[str, str] | None = None,
    correction: str = "holm",
    alpha: float = ALPHA,
    skipped: Mapping[str, tuple[str, str, str]] | None = None,
    temporal: Collection[str] = (),
    multivariate: bool = True,
) -> DriftReport:
    """Judge drift column by column from two table summaries, and the rows as a whole.

    Args:
        reference: the baseline's summary.
        current: the current data's summary (same columns).
        reference_name: how the report names the reference.
        current_name: how the report names the current data.
        sensitivity: ``low``, ``medium`` (default) or ``high``: lower effect-size thresholds.
        methods: column -> method, overriding the choice by type and size.
        correction: ``holm`` or ``bonferroni``.
        alpha: family-wise significance level.
        skipped: columns that could not be compared: name -> (kind, status, message).
        temporal: time columns, left out of the domain classifier (they tell the sides apart alone).
        multivariate: train the domain classifier on the summaries' samples (when they have them).

    Returns:
        A :class:`DriftReport`.

    Raises:
        InvalidInputError: an unknown sensitivity, correction or method, a method that does
            not suit its column, or a method override for an unknown column.
    """
    drift.threshold("ks", sensitivity)  # validates the sensitivity
    if not 0.0 < alpha < 1.0:
        raise InvalidInputError("alpha must be between 0 and 1", field="alpha")
    overrides = dict(methods or {})
    unknown = sorted(set(overrides) - set(reference.columns) - set(skipped or {}))
    if unknown:
        raise InvalidInputError(f"method given for unknown column(s): {', '.join(unknown)}", field="methods")
    pending: list[_Pending] = []
    for name, ref in reference.columns.items():
        why = reference.invalid.get(name) or current.invalid.get(name)
        if why is not None:
            side = "reference" if name in reference.invalid else "current data"
            pending.append(_Pending(name, _kind(ref), "invalid", message=f"{why} in the {side}; not compared"))
            continue
        samples = (reference.sample.get(name), current.sample.get(name))
        pending.append(
            _compare_column(
                name, ref, current.columns[name], overrides.get(name),
                None if samples[0] is None or samples[1] is None else samples,
            )
        )
    tested = [p for p in pending if p.test is not None]
    adjusted = drift.adjust_p_values([p.test.p_value for p in tested if p.test is not None], correction)
    adjusted_by_name = {p.column: a for p, a in zip(tested, adjusted, strict=True)}
    with_missing = [p for p in pending if p.missing is not None]
    missing_adjusted = drift.adjust_p_values([p.missing[1] for p in with_missing if p.missing is not None], correction)
    missing_by_name = {p.column: a for p, a in zip(with_missing, missing_adjusted, strict=True)}
    missing_threshold = drift.threshold("missing", sensitivity)
    unseen_threshold = drift.threshold("unseen", sensitivity)
    verdicts: list[ColumnDrift] = []
    for p in pending:
        missing_p = missing_by_name.get(p.column)
        missing_drifted = (
            p.missing is not None
            and missing_p is not None
            and missing_p <= alpha
            and abs(p.missing[0]) >= missing_threshold
        )
        test, adjusted_p = p.test, adjusted_by_name.get(p.column)
        limit = None if test is None else drift.threshold(test.method, sensitivity)
        changed = (
            test is not None
            and adjusted_p is not None
            and limit is not None
            and adjusted_p <= alpha
            and (test.effect_size >= limit or (test.unseen_share or 0.0) >= unseen_threshold)
        )
        message = p.message
        if changed and test is not None and (test.unseen_share or 0.0) >= unseen_threshold:
            message = f"{test.unseen_share:.1%} of current values are categories the reference never had"
        if missing_drifted and p.missing_shares is not None:
            text = f"missing share {p.missing_shares[0]:.1%} -> {p.missing_shares[1]:.1%}"
            message = text if message is None else f"{message}; {text}"
        verdicts.append(
            ColumnDrift(
                column=p.column,
                kind=p.kind,
                status=p.status,
                method=None if test is None else test.method,
                statistic=None if test is None else test.statistic,
                p_value=adjusted_p,
                raw_p_value=None if test is None else test.p_value,
                effect_size=None if test is None else test.effect_size,
                threshold=limit,
                drifted=bool(changed or missing_drifted),
                unseen_share=None if test is None else test.unseen_share,
                missing_reference=None if p.missing_shares is None else p.missing_shares[0],
                missing_current=None if p.missing_shares is None else p.missing_shares[1],
                missing_p_value=missing_p,
                missing_drifted=bool(missing_drifted),
                reference_size=p.sizes[0],
                current_size=p.sizes[1],
                message=message,
                overlay=p.overlay,
                embedding=p.embedding,
                histogram=p.histogram,
            )
        )
    for name, (kind, status, message) in (skipped or {}).items():
        verdicts.append(ColumnDrift(column=name, kind=kind, status=status, message=message))
    verdict = None
    if multivariate and reference.sample and current.sample:
        verdict = _domain_classifier(reference, current, pending, set(temporal), sensitivity, alpha)
    return DriftReport(
        reference_name, current_name, reference.rows, current.rows, sensitivity, correction, alpha, tuple(verdicts), verdict
    )


def _domain_classifier(
    reference: TableSummary, current: TableSummary, pending: list[_Pending], temporal: set[str], sensitivity: str, alpha: float
) -> drift_multivariate.MultivariateDrift:
    """The domain classifier on the sampled rows of the columns compared one by one."""
    kinds = {
        p.column: "temporal" if p.column in temporal else p.kind
        for p in pending
        if p.status == "ok" and p.kind in ("numeric", "categorical") and p.column in reference.sample and p.column in current.sample
    }
    try:
        return drift_multivariate.domain_classifier(
            {n: reference.sample[n] for n in kinds}, {n: current.sample[n] for n in kinds}, kinds,
            sensitivity=sensitivity, alpha=alpha,
        )
    except ImportError:
        return drift_multivariate.MultivariateDrift(
            "unavailable", drift_multivariate.auc_threshold(sensitivity),
            message="the domain classifier needs scikit-learn: pip install 'steward[ml]'",
        )


def _looks_like_ref(text: str) -> bool:
    return text.startswith("datasets:/") or (":" in text and "/" not in text and "\\" not in text)


def open_source(spec: str | Path, data: DatasetScanner | None = None, *, role: str = "data") -> TableSource:
    """A Parquet file (read by row group) or a dataset version ref (``name:3``, ``datasets:/name/3``).

    Raises:
        NotFoundError: no such file (or, without ``data``, a ref that cannot be resolved).
        InvalidInputError: a file that is not Parquet.
    """
    text = str(spec)
    path = Path(text)
    if path.is_file():
        return ParquetSource(path)
    if path.exists():
        raise InvalidInputError(f"the {role} {text[:300]!r} is not a file", field=role)
    if _looks_like_ref(text) and data is not None:
        return ArrowSource(data.scan(text).collect().to_arrow(), text)
    raise NotFoundError(f"no such file or dataset version: {text[:300]!r} (--{role})", field=role)


def drift_report(
    reference: TableSource,
    current: TableSource,
    *,
    sensitivity: str = "medium",
    methods: Mapping[str, str] | None = None,
    correction: str = "holm",
    alpha: float = ALPHA,
    top_k: int = DEFAULT_TOP_K,
    embeddings: Sequence[str] = (),
    multivariate: bool = True,
    summarise_with: Summariser | None = None,
) -> DriftReport:
    """Stream both sources into summaries and judge drift column by column.

    The reference is read twice (once for its quantile edges, once for its histograms) and
    the current data once, in batches; memory holds only the summaries and a sample of
    :data:`~steward.monitoring._summaries.SAMPLE_ROWS` rows per side.

    Args:
        reference: the baseline (training data).
        current: the data to compare.
        sensitivity: ``low``, ``medium`` or ``high``.
        methods: column -> method override.
        correction: ``holm`` or ``bonferroni``.
        alpha: family-wise significance level.
        top_k: categories kept per categorical column.
        embeddings: list columns to compare as embeddings (lists of floats are found by type).
        multivariate: also train the domain classifier.
        summarise_with: computes a side's summary instead of :func:`summarise` (a Dask cluster).

    Returns:
        A :class:`DriftReport`.

    Raises:
        InvalidInputError: a side with no rows or no columns, a bad setting, or a declared
            embedding that is not a list of numbers.
    """
    for role, source in (("reference", reference), ("current", current)):
        if not source.schema().names:
            raise InvalidInputError(f"the {role} data {source.name[:300]!r} has no columns", field=role)
        if source.num_rows() == 0:
            raise InvalidInputError(f"the {role} data {source.name[:300]!r} has no rows", field=role)
    ref_schema, cur_schema = reference.schema(), current.schema()
    declared = set(embeddings)
    for name in sorted(declared):
        if name not in ref_schema.names and name not in cur_schema.names:
            raise InvalidInputError(f"embedding column {name[:200]!r} is in neither table", field="embeddings")
        schema = ref_schema if name in ref_schema.names else cur_schema
        if not is_list_of_numbers(schema.field(name).type):
            raise InvalidInputError(
                f"column {name[:200]!r} is {schema.field(name).type}, not a list of numbers: it cannot be an embedding",
                field="embeddings",
            )

    def kind_of(schema: pa.Schema, name: str) -> str:
        return "embedding" if name in declared else column_kind(schema.field(name).type)

    kinds: dict[str, str] = {}
    skipped: dict[str, tuple[str, str, str]] = {}
    for name in ref_schema.names:
        kind = kind_of(ref_schema, name)
        if name not in cur_schema.names:
            skipped[name] = (kind, "missing_in_current", f"column {name!r} is in the reference but not in the current data")
        elif kind_of(cur_schema, name) != kind:
            skipped[name] = (
                kind,
                "type_mismatch",
                f"column {name!r} is {kind} in the reference but {kind_of(cur_schema, name)} in the current data",
            )
        else:
            kinds[name] = kind
    for name in cur_schema.names:
        if name not in ref_schema.names:
            skipped[name] = (
                kind_of(cur_schema, name),
                "missing_in_reference",
                f"column {name!r} is in the current data but not in the reference; nothing to compare it with",
            )
    temporal = [n for n in kinds if pa.types.is_temporal(ref_schema.field(n).type)]
    edges = numeric_edges(reference, [n for n, k in kinds.items() if k == "numeric"])
    run = summarise_with or _summarise_locally
    ref_summary = run(reference, kinds, edges, top_k, sample_rows(reference.num_rows(), SAMPLE_ROWS, seed=1))
    cur_summary = run(current, kinds, edges, top_k, sample_rows(current.num_rows(), SAMPLE_ROWS, seed=2))
    return compare_summaries(
        ref_summary,
        cur_summary,
        reference_name=reference.name,
        current_name=current.name,
        sensitivity=sensitivity,
        methods=methods,
        correction=correction,
        alpha=alpha,
        skipped=skipped,
        temporal=temporal,
        multivariate=multivariate,
    )


class Summariser(Protocol):
    """Computes one side's summary: locally (:func:`summarise`) or on a cluster."""

    def __call__(
        self, source: TableSource, kinds: dict[str, str], edges: dict[str, Any], top_k: int, sample: Any
    ) -> TableSummary:  # Any: numpy arrays (edges per column, sampled row numbers)
        ...


def _summarise_locally(
    source: TableSource, kinds: dict[str, str], edges: dict[str, Any], top_k: int, sample: Any
) -> TableSummary:  # Any: numpy arrays
    return summarise(source, kinds, edges, top_k=top_k, sample=sample)


def report(
    reference: str | Path,
    current: str | Path,
    *,
    data: DatasetScanner | None = None,
    sensitivity: str = "medium",
    methods: Mapping[str, str] | None = None,
    correction: str = "holm",
    alpha: float = ALPHA,
    embeddings: Sequence[str] = (),
    multivariate: bool = True,
    summarise_with: Summariser | None = None,
) -> DriftReport:
    """Drift between two Parquet files or dataset versions (what ``steward monitor report`` runs).

    Args:
        reference: a Parquet file or a dataset version ref (``name:3``) of the baseline.
        current: the same for the data to compare.
        data: resolves dataset version refs (``services.data()``); files need none.
        sensitivity: ``low``, ``medium`` or ``high``.
        methods: column -> method override.
        correction: ``holm`` or ``bonferroni``.
        alpha: family-wise significance level.
        embeddings: list columns to compare as embeddings (lists of floats are found by type).
        multivariate: also train the domain classifier on a sample of the rows.
        summarise_with: computes the summaries elsewhere (:class:`DaskSummariser`).

    Returns:
        A :class:`DriftReport`.

    Raises:
        NotFoundError: a missing file or dataset version.
        InvalidInputError: an unreadable or empty file, or a bad setting.

    Example:
        >>> result = report("train.parquet", "today.parquet")  # doctest: +SKIP
        >>> result.drifted, result.drift_share  # doctest: +SKIP
        (['amount'], 0.04)
    """
    ref = open_source(reference, data, role="reference")
    cur = open_source(current, data, role="current")
    return drift_report(
        ref, cur, sensitivity=sensitivity, methods=methods, correction=correction, alpha=alpha,
        embeddings=embeddings, multivariate=multivariate, summarise_with=summarise_with,
    )
