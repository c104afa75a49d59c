"""Distribution distances: the one implementation in Steward (data skew, monitoring drift).

Pure numpy/scipy, no I/O. Every function takes two 1-D samples, ``reference`` and
``current``; missing values (``None``, NaN) are dropped before comparing, because a change
in the missing share is a validation concern, not a distribution distance.

Numeric samples: :func:`psi`, :func:`ks`, :func:`jensen_shannon`, :func:`wasserstein`.
Categorical samples (strings, booleans, any labels): :func:`psi`, :func:`chi_square`,
:func:`jensen_shannon`. :func:`distance` dispatches on the kind and on the sample type.

Each statistic has one implementation, on counts (``*_counts``, :func:`ks_counts`,
:func:`wasserstein_weighted`): the sample functions count and call it, and the streaming
monitoring report calls it on its mergeable summaries (histograms on fixed edges, category
counts). Drift decisions (:func:`choose_method`, :func:`numeric_test`,
:func:`categorical_test`, :func:`missing_test`, :func:`adjust_p_values`, :func:`threshold`)
flag a column only when a change is both significant after a correction for the number of
columns and larger than an effect-size threshold set by a sensitivity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInputError

from .drift_embeddings import MMD_THRESHOLDS

__all__ = [
    "CORRECTIONS",
    "DISTANCE_KINDS",
    "KS_LIMIT_N",
    "LARGE_SAMPLE",
    "METHODS",
    "MIN_ROWS",
    "SENSITIVITIES",
    "ColumnTest",
    "DistanceKind",
    "DriftResult",
    "adjust_p_values",
    "categorical_test",
    "chi_square",
    "chi_square_counts",
    "choose_method",
    "distance",
    "is_numeric",
    "jensen_shannon",
    "jensen_shannon_counts",
    "ks",
    "ks_counts",
    "missing_test",
    "numeric_test",
    "psi",
    "psi_counts",
    "threshold",
    "wasserstein",
    "wasserstein_weighted",
]

DistanceKind = Literal["psi", "ks", "chi2", "js", "wasserstein"]
DISTANCE_KINDS: tuple[DistanceKind, ...] = ("psi", "ks", "chi2", "js", "wasserstein")
_NUMERIC_ONLY = frozenset({"ks", "wasserstein"})

# Effective sample size above which the KS p-value uses the limiting distribution.
KS_LIMIT_N = 10_000

# Floor for the share of an empty bin: without it PSI is infinite as soon as one bin is
# empty on one side. 1e-4 is the value most PSI write-ups (and Evidently) use.
PSI_EPSILON = 1e-4

# Any: samples arrive as numpy arrays, lists, pandas/polars series; np.asarray takes them all.
Sample = npt.ArrayLike | Sequence[Any]


@dataclass(frozen=True, slots=True)
class DriftResult:
    """One distance between a reference and a current sample.

    Attributes:
        kind: which distance (``psi``, ``ks``, ``chi2``, ``js``, ``wasserstein``).
        statistic: the distance or test statistic (0 for identical distributions).
        p_value: for the tests (``ks``, ``chi2``); ``None`` for pure distances.
        reference_size: non-missing values in the reference sample.
        current_size: non-missing values in the current sample.
    """

    kind: str
    statistic: float
    p_value: float | None
    reference_size: int
    current_size: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "reference_size": self.reference_size,
            "current_size": self.current_size,
        }


def is_numeric(sample: Sample) -> bool:
    """True when the sample holds numbers (booleans count as categories)."""
    arr = np.asarray(sample)
    return arr.dtype.kind in "iuf"


def _numeric(sample: Sample, role: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(sample)
    if arr.dtype.kind not in "iufb" and arr.dtype != object:
        raise InvalidInputError(f"{role} sample is not numeric (dtype {arr.dtype})", field=role)
    try:
        values = arr.astype(np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{role} sample is not numeric", field=role) from exc
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise InvalidInputError(f"{role} sample has no non-missing values", field=role)
    return values


def _categorical(sample: Sample, role: str) -> npt.NDArray[Any]:  # Any: labels of any type
    arr = np.asarray(sample, dtype=object).ravel()
    keep = np.array([v is not None and not (isinstance(v, float) and math.isnan(v)) for v in arr], dtype=bool)
    values = arr[keep] if arr.size else arr
    if values.size == 0:
        raise InvalidInputError(f"{role} sample has no non-missing values", field=role)
    return np.asarray([str(v) for v in values], dtype=object)


def _category_counts(
    reference: npt.NDArray[Any], current: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Counts over the union of categories (categories unseen on one side count 0)."""
    ref_cats, ref_counts = np.unique(reference, return_counts=True)
    cur_cats, cur_counts = np.unique(current, return_counts=True)
    union = np.union1d(ref_cats, cur_cats)
    ref = np.zeros(union.size)
    cur = np.zeros(union.size)
    ref[np.searchsorted(union, ref_cats)] = ref_counts
    cur[np.searchsorted(union, cur_cats)] = cur_counts
    return ref, cur


def _quantile_edges(reference: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.float64]:
    """Inner bin edges at the reference's quantiles; ties collapse (a constant gives none)."""
    qs = np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(qs)


def _binned_counts(
    reference: npt.NDArray[np.float64], current: npt.NDArray[np.float64], bins: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    edges = _quantile_edges(reference, bins)
    # side="right": a value equal to an edge goes to the bin above, as np.histogram does
    ref = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1)
    cur = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1)
    return ref.astype(np.float64), cur.astype(np.float64)


Counts = npt.ArrayLike


def _pair(reference: Counts, current: Counts) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    ref = np.asarray(reference, dtype=np.float64).ravel()
    cur = np.asarray(current, dtype=np.float64).ravel()
    if ref.shape != cur.shape:
        raise InvalidInputError("reference and current counts must cover the same bins", field="counts")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise InvalidInputError("counts must hold at least one value on each side", field="counts")
    return ref, cur


def psi_counts(reference: Counts, current: Counts, *, epsilon: float = PSI_EPSILON) -> DriftResult:
    """PSI from aligned bin (or category) counts; see :func:`psi`.

    Raises:
        InvalidInputError: the counts differ in length or one side is empty.
    """
    ref_c, cur_c = _pair(reference, current)
    ref = np.maximum(ref_c / ref_c.sum(), epsilon)
    cur = np.maximum(cur_c / cur_c.sum(), epsilon)
    value = float(max(np.sum((cur - ref) * np.log(cur / ref)), 0.0))
    return DriftResult("psi", value, None, int(ref_c.sum()), int(cur_c.sum()))


def psi(
    reference: Sample, current: Sample, *, bins: int = 10, epsilon: float = PSI_EPSILON, categorical: bool | None = None
) -> DriftResult:
    """Population Stability Index.

    ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` over bins, where ``r_i``/``c_i`` are the
    reference/current shares. Numeric samples are binned at the reference's deciles (or
    ``bins`` quantiles) with open outer bins, so values outside the reference range count;
    categorical samples use one bin per category of either sample. Shares are floored at
    ``epsilon`` so an empty bin gives a large but finite value. Rule of thumb: < 0.1 stable,
    0.1-0.25 moderate shift, > 0.25 major shift.

    Args:
        reference: the baseline sample (training data).
        current: the sample to compare (serving inputs, a new batch).
        bins: number of quantile bins for numeric samples.
        epsilon: floor of a bin share.
        categorical: force categorical (True) or numeric (False) handling; default by dtype.

    Returns:
        A :class:`DriftResult` with ``p_value`` None.

    Raises:
        InvalidInputError: a sample has no non-missing values, or ``bins`` < 2.
    """
    if bins < 2:
        raise InvalidInputError("bins must be at least 2", field="bins")
    if categorical is None:
        categorical = not is_numeric(reference)
    if categorical:
        ref_c, cur_c = _category_counts(_categorical(reference, "reference"), _categorical(current, "current"))
    else:
        ref_c, cur_c = _binned_counts(_numeric(reference, "reference"), _numeric(current, "current"), bins)
    return psi_counts(ref_c, cur_c, epsilon=epsilon)


def ks(reference: Sample, current: Sample) -> DriftResult:
    """Two-sample Kolmogorov-Smirnov test (two-sided).

    The statistic is the largest gap between the two empirical CDFs (0..1, symmetric).
    The p-value is the asymptotic one (Kolmogorov distribution at ``n*m/(n+m)``), as
    ``scipy.stats.ks_2samp(method="asymp")`` computes it; exact p-values cost O(n*m) and
    the samples here are often large.

    Args:
        reference: numeric baseline sample.
        current: numeric sample to compare.

    Returns:
        A :class:`DriftResult` with the D statistic and its p-value.

    Raises:
        InvalidInputError: a sample is not numeric or has no non-missing values.
    """
    ref = _numeric(reference, "reference")
    cur = _numeric(current, "current")
    # one bin per distinct value: the binned CDFs are then the exact empirical CDFs
    ref_c, cur_c = _category_counts(ref, cur)
    return ks_counts(ref_c, cur_c)


def ks_counts(reference: Counts, current: Counts) -> DriftResult:
    """Kolmogorov-Smirnov test on two histograms over the same ordered bins.

    D is the largest gap between the cumulative shares at the bin boundaries; with one
    bin per distinct value it is the exact two-sample D, with coarser bins a lower bound
    (so the test is conservative). The p-value is the asymptotic one at the effective
    sample size ``n*m/(n+m)`` (``scipy.stats.kstwo``), as ``ks_2samp(method="asymp")``;
    above :data:`KS_LIMIT_N` it is the limiting Kolmogorov distribution at ``D*sqrt(n*m/(n+m))``
    (``scipy.special.kolmogorov``), which differs from ``kstwo`` by O(1/sqrt(n)) there and
    costs microseconds instead of a tenth of a second per column.

    Args:
        reference: counts per bin of the baseline, in the bins' order.
        current: counts per bin of the data to compare.

    Returns:
        A :class:`DriftResult` with the D statistic and its p-value.

    Raises:
        InvalidInputError: the counts differ in length or one side is empty.
    """
    ref_c, cur_c = _pair(reference, current)
    n, m = int(ref_c.sum()), int(cur_c.sum())
    d = float(np.max(np.abs(np.cumsum(ref_c) / ref_c.sum() - np.cumsum(cur_c) / cur_c.sum())))
    en = n * m / (n + m)
    if en > KS_LIMIT_N:
        from scipy import special  # light; scipy.stats costs ~1 s to import

        p = float(np.clip(special.kolmogorov(d * np.sqrt(en)), 0.0, 1.0))
        return DriftResult("ks", d, p, n, m)
    from scipy import stats  # scipy.stats costs ~1 s to import; only small samples need it

    p = float(np.clip(stats.kstwo.sf(d, max(int(np.round(en)), 1)), 0.0, 1.0))
    return DriftResult("ks", d, p, n, m)


def chi_square(reference: Sample, current: Sample) -> DriftResult:
    """Pearson chi-square test of homogeneity between two categorical samples.

    Builds the 2 x k contingency table over the union of categories, so a category seen
    only in ``current`` (or only in the reference) counts with zero on the other side
    instead of breaking the test. Same result as
    ``scipy.stats.chi2_contingency(table, correction=False)``; symmetric in its arguments.

    Args:
        reference: categorical baseline sample.
        current: categorical sample to compare.

    Returns:
        A :class:`DriftResult` with the chi-square statistic and its p-value (1.0 when
        both samples hold a single, identical category).

    Raises:
        InvalidInputError: a sample has no non-missing values.
    """
    ref_c, cur_c = _category_counts(_categorical(reference, "reference"), _categorical(current, "current"))
    return chi_square_counts(ref_c, cur_c)


def chi_square_counts(reference: Counts, current: Counts) -> DriftResult:
    """Chi-square test of homogeneity on aligned category counts; see :func:`chi_square`.

    Categories with zero count on both sides are dropped (they add no degree of freedom).

    Raises:
        InvalidInputError: the counts differ in length or one side is empty.
    """
    ref_c, cur_c = _pair(reference, current)
    keep = (ref_c + cur_c) > 0
    ref_c, cur_c = ref_c[keep], cur_c[keep]
    table = np.vstack([ref_c, cur_c])
    total = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
    dof = table.shape[1] - 1
    if dof == 0:
        return DriftResult("chi2", 0.0, 1.0, int(ref_c.sum()), int(cur_c.sum()))
    # chdtrc is what scipy.stats.chi2.sf computes, without scipy.stats' import cost
    from scipy import special

    statistic = float(np.sum((table - expected) ** 2 / expected))
    p = float(special.chdtrc(dof, statistic))
    return DriftResult("chi2", statistic, p, int(ref_c.sum()), int(cur_c.sum()))


def jensen_shannon(
    reference: Sample, current: Sample, *, bins: int = 20, categorical: bool | None = None
) -> DriftResult:
    """Jensen-Shannon distance (base 2, so between 0 and 1; symmetric; a metric).

    The square root of the Jensen-Shannon divergence between the two distributions, as
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)``. Categorical samples compare
    category shares; numeric samples compare histograms over ``bins`` equal-width bins
    spanning both samples, so the result does not depend on which side is the reference.

    Args:
        reference: baseline sample.
        current: sample to compare.
        bins: histogram bins for numeric samples.
        categorical: force categorical or numeric handling; default by dtype.

    Returns:
        A :class:`DriftResult` with ``p_value`` None.

    Raises:
        InvalidInputError: a sample has no non-missing values.
    """
    if categorical is None:
        categorical = not is_numeric(reference)
    if categorical:
        p_c, q_c = _category_counts(_categorical(reference, "reference"), _categorical(current, "current"))
    else:
        ref, cur = _numeric(reference, "reference"), _numeric(current, "current")
        lo, hi = min(ref.min(), cur.min()), max(ref.max(), cur.max())
        if lo == hi:
            return DriftResult("js", 0.0, None, ref.size, cur.size)
        edges = np.linspace(lo, hi, bins + 1)
        p_c = np.histogram(ref, edges)[0].astype(np.float64)
        q_c = np.histogram(cur, edges)[0].astype(np.float64)
    return jensen_shannon_counts(p_c, q_c)


def jensen_shannon_counts(reference: Counts, current: Counts) -> DriftResult:
    """Jensen-Shannon distance (base 2) between aligned counts; see :func:`jensen_shannon`.

    Raises:
        InvalidInputError: the counts differ in length or one side is empty.
    """
    p_c, q_c = _pair(reference, current)
    p, q = p_c / p_c.sum(), q_c / q_c.sum()
    m = (p + q) / 2
    divergence = (_kl(p, m) + _kl(q, m)) / 2 / np.log(2)
    # rounding can leave a tiny negative divergence for identical inputs
    value = float(np.sqrt(max(divergence, 0.0)))
    return DriftResult("js", min(value, 1.0), None, int(p_c.sum()), int(q_c.sum()))


def _kl(p: npt.NDArray[np.float64], m: npt.NDArray[np.float64]) -> float:
    """Kullback-Leibler divergence in nats; terms with p = 0 contribute 0."""
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / m[mask])))


def wasserstein(reference: Sample, current: Sample) -> DriftResult:
    """Wasserstein-1 (earth mover's) distance between two numeric samples.

    The area between the two empirical CDFs, in the unit of the data (so compare it
    against the feature's spread); symmetric, 0 for identical samples. Same result as
    ``scipy.stats.wasserstein_distance``.

    Args:
        reference: numeric baseline sample.
        current: numeric sample to compare.

    Returns:
        A :class:`DriftResult` with ``p_value`` None.

    Raises:
        InvalidInputError: a sample is not numeric or has no non-missing values.
    """
    ref = _numeric(reference, "reference")
    cur = _numeric(current, "current")
    return wasserstein_weighted(ref, np.ones(ref.size), cur, np.ones(cur.size))


def wasserstein_weighted(
    reference_values: Counts, reference_weights: Counts, current_values: Counts, current_weights: Counts
) -> DriftResult:
    """Wasserstein-1 distance between two weighted samples (values with counts).

    The area between the two weighted CDFs, as
    ``scipy.stats.wasserstein_distance(u_values, v_values, u_weights, v_weights)``. The
    monitoring report passes each histogram bin's mean with its count, which is exact when
    every bin holds one distinct value and close otherwise.

    Args:
        reference_values: baseline values (or bin means).
        reference_weights: their counts (non-negative).
        current_values: values to compare.
        current_weights: their counts.

    Returns:
        A :class:`DriftResult` with ``p_value`` None (sizes are the summed weights).

    Raises:
        InvalidInputError: a side has no positive weight, or values and weights differ in length.
    """
    u = np.asarray(reference_values, dtype=np.float64).ravel()
    uw = np.asarray(reference_weights, dtype=np.float64).ravel()
    v = np.asarray(current_values, dtype=np.float64).ravel()
    vw = np.asarray(current_weights, dtype=np.float64).ravel()
    if u.shape != uw.shape or v.shape != vw.shape:
        raise InvalidInputError("values and weights must have the same length", field="weights")
    keep_u, keep_v = uw > 0, vw > 0
    u, uw, v, vw = u[keep_u], uw[keep_u], v[keep_v], vw[keep_v]
    if u.size == 0 or v.size == 0:
        raise InvalidInputError("each side needs at least one value with a positive weight", field="weights")
    points = np.union1d(u, v)
    widths = np.diff(points)
    order_u, order_v = np.argsort(u), np.argsort(v)
    cum_u = np.concatenate([[0.0], np.cumsum(uw[order_u])]) / uw.sum()
    cum_v = np.concatenate([[0.0], np.cumsum(vw[order_v])]) / vw.sum()
    cdf_u = cum_u[np.searchsorted(u[order_u], points[:-1], side="right")]
    cdf_v = cum_v[np.searchsorted(v[order_v], points[:-1], side="right")]
    value = float(np.sum(np.abs(cdf_u - cdf_v) * widths))
    return DriftResult("wasserstein", value, None, round(uw.sum()), round(vw.sum()))


def distance(reference: Sample, current: Sample, kind: str = "auto") -> DriftResult:
    """Compute one distance, choosing the handling by the samples' type.

    Args:
        reference: baseline sample.
        current: sample to compare.
        kind: ``psi``, ``ks``, ``chi2``, ``js``, ``wasserstein``, or ``auto`` (PSI, which
            suits both numeric and categorical data).

    Returns:
        A :class:`DriftResult`.

    Raises:
        InvalidInputError: an unknown kind, or a kind that does not suit the data (KS and
            Wasserstein need numbers; chi-square treats numbers as categories).

    Example:
        >>> distance([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], "ks").statistic
        0.0
    """
    numeric = is_numeric(reference) and is_numeric(current)
    if kind == "auto":
        kind = "psi"
    if kind not in DISTANCE_KINDS:
        raise InvalidInputError(f"unknown distance {kind!r}; expected one of {', '.join(DISTANCE_KINDS)}", field="kind")
    if kind in _NUMERIC_ONLY and not numeric:
        raise InvalidInputError(f"distance {kind!r} needs numeric samples", field="kind")
    if kind == "psi":
        return psi(reference, current, categorical=not numeric)
    if kind == "ks":
        return ks(reference, current)
    if kind == "chi2":
        return chi_square(reference, current)
    if kind == "js":
        return jensen_shannon(reference, current, categorical=not numeric)
    return wasserstein(reference, current)


# --- drift decisions: method by type and size, significance and effect size -------------

Sensitivity = Literal["low", "medium", "high"]
SENSITIVITIES: tuple[Sensitivity, ...] = ("low", "medium", "high")
METHODS: tuple[str, ...] = ("ks", "wasserstein", "psi", "chi2", "js")
_NUMERIC_METHODS = frozenset({"ks", "wasserstein", "psi"})
_CATEGORICAL_METHODS = frozenset({"chi2", "js", "psi"})
CORRECTIONS: tuple[str, ...] = ("holm", "bonferroni")

# Below this many non-missing values on the smaller side a column is compared with a test
# whose effect size is bounded and well known for small samples (KS, chi-square with
# Cramér's V); from here on with a distance that does not shrink with n (Wasserstein
# normalised by the reference's spread, Jensen-Shannon). 1,000 is where Evidently switches.
LARGE_SAMPLE = 1_000
# Fewer non-missing values than this on a side: "insufficient data", never drift.
MIN_ROWS = 30

# Effect-size thresholds per method and sensitivity. A column is flagged only when its change
# is significant AND at least this large. Medium flags a 0.2-sd mean shift (normalised
# Wasserstein 0.2) and a 10% -> 20% category shift (Jensen-Shannon 0.12) with twice the
# margin; high brings Wasserstein down to 0.025 so a 0.05-sd shift counts on large samples.
_THRESHOLDS: dict[str, dict[str, float]] = {
    "ks": {"low": 0.1, "medium": 0.05, "high": 0.02},  # D
    "wasserstein": {"low": 0.2, "medium": 0.1, "high": 0.025},  # W / reference sd
    "psi": {"low": 0.25, "medium": 0.1, "high": 0.02},
    "chi2": {"low": 0.1, "medium": 0.05, "high": 0.02},  # Cramér's V
    "js": {"low": 0.1, "medium": 0.05, "high": 0.02},  # Jensen-Shannon distance
    "unseen": {"low": 0.03, "medium": 0.01, "high": 0.002},  # share of current values
    "missing": {"low": 0.1, "medium": 0.05, "high": 0.01},  # change of the missing share
    "mmd": MMD_THRESHOLDS,  # MMD² of an embedding column (see drift_embeddings)
}


@dataclass(frozen=True, slots=True)
class ColumnTest:
    """One column's comparison: a test statistic, its p-value and an effect size.

    Attributes:
        method: ``ks``, ``wasserstein``, ``psi``, ``chi2`` or ``js``.
        statistic: the method's statistic (D, normalised W, PSI, chi-square, JS distance).
        p_value: p-value of the significance test behind the method (KS on the binned CDFs
            for numeric columns, chi-square on the counts for categorical ones).
        effect_size: what is compared with the threshold (the statistic, except for
            chi-square whose effect size is Cramér's V).
        reference_size: non-missing reference values.
        current_size: non-missing current values.
        unseen_share: share of current values in categories the reference never had.
    """

    method: str
    statistic: float
    p_value: float
    effect_size: float
    reference_size: int
    current_size: int
    unseen_share: float | None = None


def threshold(method: str, sensitivity: str = "medium") -> float:
    """The effect-size threshold of a method (or ``unseen``, ``missing``) at a sensitivity.

    Raises:
        InvalidInputError: an unknown method or sensitivity.
    """
    if sensitivity not in SENSITIVITIES:
        raise InvalidInputError(
            f"unknown sensitivity {sensitivity!r}; expected one of {', '.join(SENSITIVITIES)}", field="sensitivity"
        )
    if method not in _THRESHOLDS:
        raise InvalidInputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}", field="method")
    return _THRESHOLDS[method][sensitivity]


def choose_method(kind: str, reference_size: int, current_size: int, override: str | None = None) -> str:
    """The method for a column: by kind and sample size, unless overridden.

    Numeric: ``ks`` below :data:`LARGE_SAMPLE` values on the smaller side, else
    ``wasserstein``. Categorical: ``chi2`` below it, else ``js``. ``psi`` suits both kinds
    and is used only when asked for.

    Args:
        kind: ``numeric`` or ``categorical``.
        reference_size: non-missing reference values.
        current_size: non-missing current values.
        override: a method chosen for this column.

    Raises:
        InvalidInputError: an override that does not suit the kind (``ks`` on categories).
    """
    allowed = _NUMERIC_METHODS if kind == "numeric" else _CATEGORICAL_METHODS
    if override is not None:
        if override not in allowed:
            raise InvalidInputError(
                f"method {override!r} does not suit a {kind} column; expected one of {', '.join(sorted(allowed))}",
                field="method",
            )
        return override
    large = min(reference_size, current_size) >= LARGE_SAMPLE
    if kind == "numeric":
        return "wasserstein" if large else "ks"
    return "js" if large else "chi2"


def _coarsen(ref: npt.NDArray[np.float64], cur: npt.NDArray[np.float64], groups: int = 10) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """Fine ordered bins merged into about ``groups`` bins of equal reference mass (PSI's deciles)."""
    before = (np.cumsum(ref) - ref) / ref.sum()
    label = np.minimum((before * groups).astype(np.int64), groups - 1)
    merged_ref = np.bincount(label, weights=ref, minlength=groups).astype(np.float64)
    return merged_ref, np.bincount(label, weights=cur, minlength=groups).astype(np.float64)


def numeric_test(
    reference_counts: Counts,
    reference_means: Counts,
    current_counts: Counts,
    current_means: Counts,
    *,
    scale: float,
    method: str,
) -> ColumnTest:
    """Compare two histograms over the same ordered bins (from the reference's quantiles).

    The p-value is always the KS test on the binned CDFs with the effective sample size.
    ``ks``: effect = D. ``wasserstein``: W between the bins (each at its own mean on each
    side) divided by ``scale`` (the reference's standard deviation). ``psi``: PSI on the
    bins merged into reference deciles.

    Args:
        reference_counts: reference values per bin.
        reference_means: mean of the reference values in each bin (any value where empty).
        current_counts: current values per bin.
        current_means: mean of the current values in each bin.
        scale: the reference's spread; 0 means constant (W is then not normalised).
        method: ``ks``, ``wasserstein`` or ``psi``.

    Returns:
        A :class:`ColumnTest`.

    Raises:
        InvalidInputError: empty counts or a categorical method.
    """
    ref, cur = _pair(reference_counts, current_counts)
    test = ks_counts(ref, cur)
    assert test.p_value is not None
    if method == "ks":
        value = test.statistic
    elif method == "wasserstein":
        w = wasserstein_weighted(reference_means, ref, current_means, cur).statistic
        value = w / scale if scale > 0 else w
    elif method == "psi":
        value = psi_counts(*_coarsen(ref, cur)).statistic
    else:
        raise InvalidInputError(f"method {method!r} does not suit a numeric column", field="method")
    return ColumnTest(method, value, test.p_value, value, test.reference_size, test.current_size)


def categorical_test(reference_counts: Counts, current_counts: Counts, *, method: str) -> ColumnTest:
    """Compare aligned category counts; categories with a zero reference count are unseen.

    The p-value is the chi-square test of homogeneity. ``chi2``: effect = Cramér's V
    (``sqrt(chi2 / N)``, 0..1). ``js``: Jensen-Shannon distance. ``psi``: PSI.

    Args:
        reference_counts: reference values per category.
        current_counts: current values per category (same order).
        method: ``chi2``, ``js`` or ``psi``.

    Returns:
        A :class:`ColumnTest` with the unseen share.

    Raises:
        InvalidInputError: empty counts or a numeric-only method.
    """
    ref, cur = _pair(reference_counts, current_counts)
    chi = chi_square_counts(ref, cur)
    assert chi.p_value is not None
    unseen = float(cur[ref == 0].sum() / cur.sum())
    if method == "chi2":
        statistic, effect = chi.statistic, float(np.sqrt(chi.statistic / (ref.sum() + cur.sum())))
    elif method == "js":
        statistic = effect = jensen_shannon_counts(ref, cur).statistic
    elif method == "psi":
        statistic = effect = psi_counts(ref, cur).statistic
    else:
        raise InvalidInputError(f"method {method!r} does not suit a categorical column", field="method")
    return ColumnTest(method, statistic, chi.p_value, effect, chi.reference_size, chi.current_size, unseen)


def missing_test(reference_missing: int, reference_rows: int, current_missing: int, current_rows: int) -> tuple[float, float]:
    """Change of the missing share: (current share - reference share, two-sided p-value).

    The p-value is the pooled two-proportion z-test (1.0 when both shares are 0 or 1).

    Raises:
        InvalidInputError: a side has no rows.
    """
    if reference_rows <= 0 or current_rows <= 0:
        raise InvalidInputError("each side needs at least one row", field="rows")
    p1, p2 = reference_missing / reference_rows, current_missing / current_rows
    pooled = (reference_missing + current_missing) / (reference_rows + current_rows)
    se = float(np.sqrt(pooled * (1 - pooled) * (1 / reference_rows + 1 / current_rows)))
    if se == 0.0:
        return p2 - p1, 1.0
    from scipy import special  # ndtr is the normal CDF, without scipy.stats' import cost

    return p2 - p1, float(2 * special.ndtr(-abs(p2 - p1) / se))


def adjust_p_values(p_values: Sequence[float], correction: str = "holm") -> list[float]:
    """P-values adjusted for testing many columns at once (family-wise error rate).

    ``holm`` (Holm-Bonferroni, step-down: never less powerful than Bonferroni) or
    ``bonferroni`` (each p-value times the number of tests). Compare the adjusted values
    with the significance level; results are capped at 1.

    Raises:
        InvalidInputError: an unknown correction.
    """
    if correction not in CORRECTIONS:
        raise InvalidInputError(
            f"unknown correction {correction!r}; expected one of {', '.join(CORRECTIONS)}", field="correction"
        )
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    if correction == "bonferroni":
        return [float(v) for v in np.minimum(p * m, 1.0)]
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return [float(v) for v in adjusted]
