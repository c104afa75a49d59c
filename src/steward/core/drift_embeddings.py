"""Drift of embedding columns (each value a fixed-length vector of floats).

Pure numpy, no I/O. Two views of a change:

* the distance between the two sides' mean vectors, euclidean (divided by the reference's
  spread, the square root of the summed per-dimension variances, so it reads in "standard
  deviations" as the normalised Wasserstein does) and cosine (1 - cos of the angle);
  the means come from streamed sums, so they cover every row;
* the maximum mean discrepancy (MMD) with a Gaussian (RBF) kernel whose bandwidth is the
  median pairwise distance of the pooled sample (the median heuristic), estimated without
  bias (:func:`mmd_squared`) on bounded, seeded samples, with a permutation p-value
  (:func:`mmd_test`). MMD sees any change of the distribution, not only of the mean.

A column is flagged when the MMD's p-value (corrected with the other columns) is at most
alpha and the MMD² is at least the effect-size threshold of the sensitivity
(:data:`MMD_THRESHOLDS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInputError

__all__ = [
    "MMD_SAMPLE",
    "MMD_THRESHOLDS",
    "PERMUTATIONS",
    "EmbeddingTest",
    "embedding_test",
    "mean_distances",
    "median_bandwidth",
    "mmd_squared",
    "mmd_test",
    "rbf_kernel",
]

# Vectors per side in the MMD (a seeded sample beyond that): the kernel matrix of 2,000 rows is
# 32 MB and 200 permutations of it take a fraction of a second.
MMD_SAMPLE = 1_000
PERMUTATIONS = 200
# MMD² (RBF kernel, median bandwidth) at which a change counts, per sensitivity. Measured on
# 16-dimensional Gaussians of 1,000 rows per side: no shift gives 0 +- 0.0003, a shift of every
# dimension's mean by 0.1 sd about 0.003, by 0.2 sd about 0.01, by 0.5 sd about 0.065.
MMD_THRESHOLDS: dict[str, float] = {"low": 0.02, "medium": 0.005, "high": 0.002}

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EmbeddingTest:
    """One embedding column's comparison.

    Attributes:
        method: ``mmd``.
        statistic: the unbiased MMD² (may be slightly negative by chance; the effect is clipped at 0).
        p_value: permutation p-value of the MMD².
        effect_size: max(MMD², 0), compared with the threshold.
        euclidean: distance between the means over the reference's spread.
        cosine: cosine distance between the means (1 - cos).
        bandwidth: the RBF kernel's bandwidth (median pairwise distance).
        reference_size: vectors in the reference sample.
        current_size: vectors in the current sample.
    """

    method: str
    statistic: float
    p_value: float
    effect_size: float
    euclidean: float
    cosine: float
    bandwidth: float
    reference_size: int
    current_size: int


def _matrix(values: npt.ArrayLike, role: str) -> Matrix:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise InvalidInputError(f"{role} embeddings must be a 2-D array (rows x dimensions)", field=role)
    return arr


def mean_distances(
    reference_mean: npt.ArrayLike, current_mean: npt.ArrayLike, reference_variance: npt.ArrayLike
) -> tuple[float, float]:
    """(euclidean distance between the means / reference spread, cosine distance between the means).

    The spread is ``sqrt(sum of per-dimension variances)``; a constant reference leaves the
    euclidean distance unscaled. The cosine distance is 0 when either mean is the zero vector.

    Raises:
        InvalidInputError: vectors of different lengths.
    """
    ref = np.asarray(reference_mean, dtype=np.float64).ravel()
    cur = np.asarray(current_mean, dtype=np.float64).ravel()
    var = np.asarray(reference_variance, dtype=np.float64).ravel()
    if ref.shape != cur.shape or ref.shape != var.shape:
        raise InvalidInputError("mean vectors must have the same length", field="embedding")
    spread = float(np.sqrt(max(var.sum(), 0.0)))
    euclid = float(np.linalg.norm(cur - ref))
    norms = float(np.linalg.norm(ref) * np.linalg.norm(cur))
    cosine = 0.0 if norms == 0.0 else float(1.0 - np.clip(ref @ cur / norms, -1.0, 1.0))
    return (euclid / spread if spread > 0 else euclid), cosine


def _sq_distances(a: Matrix, b: Matrix) -> Matrix:
    sq = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.asarray(np.maximum(sq, 0.0), dtype=np.float64)


def median_bandwidth(pooled: npt.ArrayLike) -> float:
    """The median of the pairwise euclidean distances between distinct rows (1.0 when all coincide)."""
    x = _matrix(pooled, "embedding")
    d = np.sqrt(_sq_distances(x, x)[np.triu_indices(x.shape[0], k=1)])
    d = d[d > 0]
    return float(np.median(d)) if d.size else 1.0


def rbf_kernel(a: npt.ArrayLike, b: npt.ArrayLike, bandwidth: float) -> Matrix:
    """``exp(-|a_i - b_j|² / (2 bandwidth²))`` for every pair of rows."""
    sq = _sq_distances(_matrix(a, "reference"), _matrix(b, "current"))
    return np.asarray(np.exp(-sq / (2.0 * bandwidth * bandwidth)), dtype=np.float64)


def mmd_squared(reference: npt.ArrayLike, current: npt.ArrayLike, bandwidth: float | None = None) -> float:
    """Unbiased MMD² between two samples of vectors with an RBF kernel.

    ``mean_{i!=j} k(x_i, x_j) + mean_{i!=j} k(y_i, y_j) - 2 mean_{i,j} k(x_i, y_j)``; the
    bandwidth defaults to the median heuristic on the pooled sample.

    Raises:
        InvalidInputError: fewer than two rows on a side, or different dimensions.
    """
    x, y = _matrix(reference, "reference"), _matrix(current, "current")
    _check(x, y)
    pooled = np.vstack([x, y])
    h = median_bandwidth(pooled) if bandwidth is None else bandwidth
    k = rbf_kernel(pooled, pooled, h)
    labels = np.concatenate([np.ones(x.shape[0]), np.zeros(y.shape[0])])
    return float(_statistics(k, labels[:, None])[0])


def _check(x: Matrix, y: Matrix) -> None:
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise InvalidInputError("MMD needs at least two vectors on each side", field="embedding")
    if x.shape[1] != y.shape[1]:
        raise InvalidInputError(
            f"embeddings of {x.shape[1]} and {y.shape[1]} dimensions cannot be compared", field="embedding"
        )


def _statistics(k: Matrix, labels: Matrix) -> npt.NDArray[np.float64]:
    """Unbiased MMD² for each column of ``labels`` (1 = first sample), from one kernel matrix.

    With indicator vectors a (first sample) and b (second), the within and between sums are
    aᵀKa, bᵀKb and aᵀKb; the diagonal (k(x, x) = 1) is taken out of the within sums.
    """
    a = labels
    b = 1.0 - labels
    m, n = a.sum(axis=0), b.sum(axis=0)
    ka, kb = k @ a, k @ b
    diag = np.diag(k)
    xx = ((a * ka).sum(axis=0) - diag @ a) / (m * (m - 1))
    yy = ((b * kb).sum(axis=0) - diag @ b) / (n * (n - 1))
    xy = (a * kb).sum(axis=0) / (m * n)
    return np.asarray(xx + yy - 2.0 * xy, dtype=np.float64)


def mmd_test(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, permutations: int = PERMUTATIONS, seed: int = 0
) -> tuple[float, float, float]:
    """MMD² and its permutation p-value: (statistic, p-value, bandwidth).

    The labels of the pooled sample are shuffled ``permutations`` times (seeded) and the
    p-value is ``(1 + #{permuted >= observed}) / (1 + permutations)``, so it is never 0 and
    is uniform when both samples come from one distribution. When no shuffle reaches the
    observed value, the p-value is the tail of a normal fitted to the shuffled statistics
    beyond it (capped at ``1 / (1 + permutations)``), so a clear change survives the
    correction for many columns.

    Raises:
        InvalidInputError: fewer than two rows on a side, different dimensions, or fewer
            than 10 permutations.
    """
    x, y = _matrix(reference, "reference"), _matrix(current, "current")
    _check(x, y)
    if isinstance(permutations, bool) or permutations < 10:
        raise InvalidInputError("permutations must be at least 10", field="permutations")
    pooled = np.vstack([x, y])
    h = median_bandwidth(pooled)
    k = rbf_kernel(pooled, pooled, h)
    observed = np.concatenate([np.ones(x.shape[0]), np.zeros(y.shape[0])])
    statistic = float(_statistics(k, observed[:, None])[0])
    rng = np.random.default_rng(seed)
    null: list[npt.NDArray[np.float64]] = []
    for start in range(0, permutations, 50):  # 50 label vectors per matrix product bounds memory
        count = min(50, permutations - start)
        shuffled = np.column_stack([rng.permutation(observed) for _ in range(count)])
        null.append(_statistics(k, shuffled))
    permuted = np.concatenate(null)
    exceed = int(np.sum(permuted >= statistic - 1e-12))
    p_value = (1 + exceed) / (1 + permutations)
    if exceed == 0:
        # beyond every shuffle: the permutation p-value's floor 1/(1+P) would survive no correction
        # for many columns, so the tail is read from a normal fitted to the shuffles (never above the floor)
        from scipy import special

        sd = float(permuted.std(ddof=1))
        if sd > 0:
            p_value = min(p_value, float(special.ndtr(-(statistic - float(permuted.mean())) / sd)))
    return statistic, p_value, h


def embedding_test(
    reference_sample: npt.ArrayLike,
    current_sample: npt.ArrayLike,
    *,
    reference_mean: npt.ArrayLike,
    current_mean: npt.ArrayLike,
    reference_variance: npt.ArrayLike,
    max_rows: int = MMD_SAMPLE,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> EmbeddingTest:
    """Compare two embedding columns: MMD on bounded samples, distances between the full means.

    Args:
        reference_sample: reference vectors (rows x dimensions), any number (sampled to ``max_rows``).
        current_sample: current vectors.
        reference_mean: the reference's mean vector over every row.
        current_mean: the current data's mean vector.
        reference_variance: the reference's per-dimension variance.
        max_rows: most vectors per side in the MMD.
        permutations: label shuffles for the p-value.
        seed: the sample's and the permutations' seed.

    Returns:
        An :class:`EmbeddingTest`.

    Raises:
        InvalidInputError: fewer than two vectors on a side, or different dimensions.
    """
    x, y = _matrix(reference_sample, "reference"), _matrix(current_sample, "current")
    _check(x, y)
    rng = np.random.default_rng(seed)
    if x.shape[0] > max_rows:
        x = x[np.sort(rng.choice(x.shape[0], max_rows, replace=False))]
    if y.shape[0] > max_rows:
        y = y[np.sort(rng.choice(y.shape[0], max_rows, replace=False))]
    statistic, p_value, h = mmd_test(x, y, permutations=permutations, seed=seed)
    euclid, cosine = mean_distances(reference_mean, current_mean, reference_variance)
    return EmbeddingTest("mmd", statistic, p_value, max(statistic, 0.0), euclid, cosine, h, x.shape[0], y.shape[0])
