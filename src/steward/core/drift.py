"""Distribution distances: the one implementation in Steward (data skew, monitoring drift).

Pure numpy/scipy, no I/O. Every function takes two 1-D samples, ``reference`` and
``current``; missing values (``None``, NaN) are dropped before comparing, because a change
in the missing share is a validation concern, not a distribution distance.

Numeric samples: :func:`psi`, :func:`ks`, :func:`jensen_shannon`, :func:`wasserstein`.
Categorical samples (strings, booleans, any labels): :func:`psi`, :func:`chi_square`,
:func:`jensen_shannon`. :func:`distance` dispatches on the kind and on the sample type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInputError

__all__ = [
    "DISTANCE_KINDS",
    "DistanceKind",
    "DriftResult",
    "chi_square",
    "distance",
    "is_numeric",
    "jensen_shannon",
    "ks",
    "psi",
    "wasserstein",
]

DistanceKind = Literal["psi", "ks", "chi2", "js", "wasserstein"]
DISTANCE_KINDS: tuple[DistanceKind, ...] = ("psi", "ks", "chi2", "js", "wasserstein")
_NUMERIC_ONLY = frozenset({"ks", "wasserstein"})

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
    keep = np.array([v is not None and not (isinstance(v, float) and v != v) for v in arr], dtype=bool)
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


def _binned_shares(
    reference: npt.NDArray[np.float64], current: npt.NDArray[np.float64], bins: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    edges = _quantile_edges(reference, bins)
    # side="right": a value equal to an edge goes to the bin above, as np.histogram does
    ref = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1)
    cur = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1)
    return ref / ref.sum(), cur / cur.sum()


def _psi_from_shares(ref: npt.NDArray[np.float64], cur: npt.NDArray[np.float64], eps: float) -> float:
    ref = np.maximum(ref, eps)
    cur = np.maximum(cur, eps)
    return float(max(np.sum((cur - ref) * np.log(cur / ref)), 0.0))


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
        ref_s, cur_s = ref_c / ref_c.sum(), cur_c / cur_c.sum()
        n_ref, n_cur = int(ref_c.sum()), int(cur_c.sum())
    else:
        ref_n, cur_n = _numeric(reference, "reference"), _numeric(current, "current")
        ref_s, cur_s = _binned_shares(ref_n, cur_n, bins)
        n_ref, n_cur = ref_n.size, cur_n.size
    return DriftResult("psi", _psi_from_shares(ref_s, cur_s, epsilon), None, n_ref, n_cur)


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
    ref = np.sort(_numeric(reference, "reference"))
    cur = np.sort(_numeric(current, "current"))
    points = np.concatenate([ref, cur])
    cdf_ref = np.searchsorted(ref, points, side="right") / ref.size
    cdf_cur = np.searchsorted(cur, points, side="right") / cur.size
    d = float(np.max(np.abs(cdf_ref - cdf_cur)))
    from scipy import stats  # scipy.stats costs ~1 s to import; only the tests need it

    n, m = ref.size, cur.size
    en = n * m / (n + m)
    p = float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))
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
    table = np.vstack([ref_c, cur_c])
    total = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
    dof = table.shape[1] - 1
    if dof == 0:
        return DriftResult("chi2", 0.0, 1.0, int(ref_c.sum()), int(cur_c.sum()))
    from scipy import stats  # scipy.stats costs ~1 s to import; only the tests need it

    statistic = float(np.sum((table - expected) ** 2 / expected))
    p = float(stats.chi2.sf(statistic, dof))
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
    ref = np.sort(_numeric(reference, "reference"))
    cur = np.sort(_numeric(current, "current"))
    points = np.sort(np.concatenate([ref, cur]))
    widths = np.diff(points)
    cdf_ref = np.searchsorted(ref, points[:-1], side="right") / ref.size
    cdf_cur = np.searchsorted(cur, points[:-1], side="right") / cur.size
    return DriftResult("wasserstein", float(np.sum(np.abs(cdf_ref - cdf_cur) * widths)), None, ref.size, cur.size)


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
