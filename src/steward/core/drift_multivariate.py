"""Multivariate drift: a domain classifier that tries to tell the reference from the current rows.

If no model can tell which side a row came from better than chance, the joint distribution did
not change in a way the model can see; per-column tests miss changes in the relation between
columns (a correlation flip) that the classifier catches. Pure numpy and scikit-learn, no I/O:
the caller hands in bounded samples of both sides as column arrays.

The classifier is scikit-learn's ``HistGradientBoostingClassifier`` (native missing values and
categories, so no imputation or one-hot encoding) trained on a seeded, balanced sample of at most
:data:`MAX_ROWS` rows per side, scored by out-of-fold ROC-AUC over :data:`FOLDS` stratified folds.
The change is flagged only when the AUC is at least the threshold of the sensitivity (0.55 at
``medium``) AND significantly above 0.5 (the Mann-Whitney normal approximation of the AUC under
"no difference", its sd doubled for the variation between folds: :data:`CV_SD_FACTOR`), so a
small sample does not flag a lucky split. Each feature's contribution is
the drop of the out-of-fold AUC when its values are shuffled in the held-out fold (permutation
importance), computed only when the verdict is drift.

Columns that identify rows rather than describe them (temporal columns, categorical columns with
almost every value distinct) are left out: a classifier would separate the sides by them alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInputError

__all__ = [
    "AUC_THRESHOLDS",
    "CV_SD_FACTOR",
    "FOLDS",
    "MAX_ROWS",
    "MIN_ROWS",
    "MultivariateDrift",
    "auc_p_value",
    "auc_threshold",
    "domain_classifier",
]

# Rows per side the classifier trains on (a seeded sample beyond that): 5,000 + 5,000 rows and
# 5 folds take about a second on one core and bound the AUC's noise to about 0.006 (sd).
MAX_ROWS = 5_000
FOLDS = 5
# Fewer rows than this on a side: "insufficient data", never drift (a fold then holds 10 rows
# per side, and the AUC of so few is noise).
MIN_ROWS = 50
# ROC-AUC at or above which the sides count as told apart, per sensitivity (0.5 = chance).
AUC_THRESHOLDS: dict[str, float] = {"low": 0.6, "medium": 0.55, "high": 0.52}
# Categories kept per column by the classifier (HistGradientBoosting's categorical limit is 255
# bins, one of which is missing); rarer ones share one code.
_MAX_CODES = 250
# A categorical column with more distinct values than this share of its sampled rows is an
# identifier, not a feature.
_ID_SHARE = 0.5
_TOP_FEATURES = 5
# The pooled out-of-fold AUC varies more than one Mann-Whitney AUC (each fold's model scores on
# its own scale): with no difference, 16 seeded runs gave an sd 1.3x the Mann-Whitney one at 500
# rows per side and 1.6x at 3,000; the test doubles it, so a lucky split does not flag.
CV_SD_FACTOR = 2.0
# Boosting rounds per fold (learning rate 0.2): 50 rounds of 15 leaves separate the seeded test
# cases as well as 100 at 0.1, in half the time.
_TREES = 50
# Held-out rows per fold the permutation importance predicts on (it runs only on drift).
_EXPLAIN_ROWS = 1_000


@dataclass(frozen=True, slots=True)
class MultivariateDrift:
    """The domain classifier's verdict.

    Attributes:
        status: ``ok`` (computed), ``insufficient_data`` or ``no_features``.
        roc_auc: out-of-fold ROC-AUC of telling current from reference rows (0.5 = chance).
        threshold: the AUC at which the sides count as told apart (by sensitivity).
        p_value: one-sided p-value of the AUC being above 0.5.
        drifted: AUC at least the threshold and p-value at most alpha.
        reference_rows: reference rows the classifier used.
        current_rows: current rows it used.
        folds: cross-validation folds.
        features: the columns used.
        excluded: columns left out, with why.
        top_features: (column, AUC drop when the column is shuffled), largest first, positive only;
            computed only when drifted (empty otherwise).
        message: why it was not computed, or what it found.
    """

    status: str
    threshold: float
    roc_auc: float | None = None
    p_value: float | None = None
    drifted: bool = False
    reference_rows: int = 0
    current_rows: int = 0
    folds: int = 0
    features: tuple[str, ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()
    top_features: tuple[tuple[str, float], ...] = ()
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:  # Any: JSON document
        """JSON-ready form."""
        return {
            "method": "domain_classifier",
            "status": self.status,
            "roc_auc": self.roc_auc,
            "threshold": self.threshold,
            "p_value": self.p_value,
            "drifted": self.drifted,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "folds": self.folds,
            "features": list(self.features),
            "excluded": [{"column": c, "reason": r} for c, r in self.excluded],
            "top_features": [{"column": c, "importance": v} for c, v in self.top_features],
            "message": self.message,
        }


def auc_threshold(sensitivity: str = "medium") -> float:
    """The ROC-AUC threshold at a sensitivity.

    Raises:
        InvalidInputError: an unknown sensitivity.
    """
    if sensitivity not in AUC_THRESHOLDS:
        raise InvalidInputError(
            f"unknown sensitivity {sensitivity!r}; expected one of {', '.join(AUC_THRESHOLDS)}", field="sensitivity"
        )
    return AUC_THRESHOLDS[sensitivity]


def auc_p_value(auc: float, positives: int, negatives: int, *, sd_factor: float = 1.0) -> float:
    """One-sided p-value of an ROC-AUC above 0.5 when the scores do not depend on the class.

    The AUC is the Mann-Whitney U over ``positives * negatives``; under the null its variance
    is ``(n1 + n2 + 1) / (12 n1 n2)`` (no ties), so ``z = (auc - 0.5) / (sd_factor * sd)``.
    ``sd_factor`` widens the null for AUCs that vary more than one Mann-Whitney statistic
    (the out-of-fold AUC of models trained on different folds: :data:`CV_SD_FACTOR`).

    Raises:
        InvalidInputError: a class with no rows.
    """
    if positives <= 0 or negatives <= 0:
        raise InvalidInputError("each class needs at least one row", field="rows")
    from scipy import special  # ndtr is the normal CDF, without scipy.stats' import cost

    sd = sd_factor * float(np.sqrt((positives + negatives + 1) / (12.0 * positives * negatives)))
    return float(special.ndtr(-(auc - 0.5) / sd))


def _encode(
    name: str, kind: str, ref: npt.NDArray[Any], cur: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.float64] | None, bool, str | None]:
    """One column as classifier input: (values of both sides stacked, categorical?, why excluded)."""
    if kind == "temporal":
        return None, False, "a time column tells the sides apart by itself"
    if kind == "numeric":
        both = np.concatenate([np.asarray(ref, dtype=np.float64), np.asarray(cur, dtype=np.float64)])
        both[~np.isfinite(both)] = np.nan
        if np.all(np.isnan(both)):
            return None, False, "every sampled value is missing"
        return both, False, None
    if kind != "categorical":
        return None, False, f"{kind} columns are compared on their own"
    values = np.concatenate([np.asarray(ref, dtype=object), np.asarray(cur, dtype=object)])
    present = np.array([v is not None for v in values], dtype=bool)
    if not present.any():
        return None, False, "every sampled value is missing"
    text = np.asarray([str(v) for v in values[present]], dtype=object)
    cats, counts = np.unique(text, return_counts=True)
    if cats.size > _ID_SHARE * text.size and text.size >= 20:
        return None, False, f"nearly every value of {name!r} is distinct (an identifier)"
    # codes by the most frequent categories of both sides together, the rest sharing one: chosen
    # by one side's counts, that side's rare values would land in the shared code less often, a
    # difference the classifier would learn though the distributions are the same
    kept = cats[np.argsort(-counts, kind="stable")[:_MAX_CODES]]
    lookup = {c: i for i, c in enumerate(kept.tolist())}
    other = float(len(kept))
    codes = np.full(values.size, np.nan)
    codes[present] = [lookup.get(t, other) for t in text]
    return codes, True, None


def _sample(size: int, limit: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    if size <= limit:
        return np.arange(size)
    return np.sort(rng.choice(size, limit, replace=False))


def domain_classifier(
    reference: Mapping[str, npt.ArrayLike],
    current: Mapping[str, npt.ArrayLike],
    kinds: Mapping[str, str],
    *,
    sensitivity: str = "medium",
    alpha: float = 0.05,
    max_rows: int = MAX_ROWS,
    folds: int = FOLDS,
    seed: int = 0,
) -> MultivariateDrift:
    """Train a classifier to tell current rows from reference rows; report its cross-validated ROC-AUC.

    Args:
        reference: column -> the reference sample's values (numbers with NaN for missing,
            or labels with None for missing); every column the same length.
        current: the same for the current sample.
        kinds: column -> ``numeric``, ``categorical`` or ``temporal`` (left out); columns
            of other kinds (``embedding``) are left out too.
        sensitivity: ``low``, ``medium`` or ``high`` (AUC thresholds 0.6, 0.55, 0.52).
        alpha: significance level of the AUC's test against 0.5.
        max_rows: most rows per side (a seeded sample beyond it; both sides get the same number).
        folds: cross-validation folds (2-10).
        seed: the sample's, the folds' and the model's seed (a result is reproducible).

    Returns:
        A :class:`MultivariateDrift`; ``insufficient_data`` (never drift) when a side has
        fewer than :data:`MIN_ROWS` rows.

    Raises:
        InvalidInputError: a bad sensitivity, alpha or folds, or columns of unequal length.
        ImportError: scikit-learn is not installed.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> same = domain_classifier({"x": rng.normal(size=500)}, {"x": rng.normal(size=500)}, {"x": "numeric"})
        >>> same.drifted
        False
    """
    limit = auc_threshold(sensitivity)
    if not 0.0 < alpha < 1.0:
        raise InvalidInputError("alpha must be between 0 and 1", field="alpha")
    if isinstance(folds, bool) or not 2 <= folds <= 10:
        raise InvalidInputError("folds must be between 2 and 10", field="folds")
    names = [n for n in kinds if n in reference and n in current]
    ref_cols = {n: np.asarray(reference[n], dtype=object if kinds[n] == "categorical" else None) for n in names}
    cur_cols = {n: np.asarray(current[n], dtype=object if kinds[n] == "categorical" else None) for n in names}
    sizes = {len(v) for v in ref_cols.values()}, {len(v) for v in cur_cols.values()}
    if len(sizes[0]) > 1 or len(sizes[1]) > 1:
        raise InvalidInputError("every sampled column must have the same number of rows", field="sample")
    n_ref = next(iter(sizes[0]), 0)
    n_cur = next(iter(sizes[1]), 0)
    if min(n_ref, n_cur) < MIN_ROWS:
        return MultivariateDrift(
            "insufficient_data", limit, reference_rows=n_ref, current_rows=n_cur,
            message=f"{min(n_ref, n_cur)} rows on one side; the domain classifier needs at least {MIN_ROWS} per side",
        )
    rng = np.random.default_rng(seed)
    per_side = min(n_ref, n_cur, max_rows)
    ref_idx, cur_idx = _sample(n_ref, per_side, rng), _sample(n_cur, per_side, rng)
    features: list[str] = []
    excluded: list[tuple[str, str]] = []
    matrix: list[npt.NDArray[np.float64]] = []
    categorical: list[bool] = []
    for name in names:
        encoded, is_cat, why = _encode(name, kinds[name], ref_cols[name][ref_idx], cur_cols[name][cur_idx])
        if encoded is None:
            excluded.append((name, why or "left out"))
            continue
        features.append(name)
        matrix.append(encoded)
        categorical.append(is_cat)
    if not features:
        return MultivariateDrift(
            "no_features", limit, reference_rows=per_side, current_rows=per_side, excluded=tuple(excluded),
            message="no column the domain classifier can use",
        )
    x = np.column_stack(matrix)
    y = np.concatenate([np.zeros(per_side, dtype=np.int64), np.ones(per_side, dtype=np.int64)])
    def flagged(auc: float) -> bool:
        return auc >= limit and auc_p_value(auc, per_side, per_side, sd_factor=CV_SD_FACTOR) <= alpha

    auc, importance = _cross_validated(x, y, np.asarray(categorical), folds, seed, flagged)
    p_value = auc_p_value(auc, per_side, per_side, sd_factor=CV_SD_FACTOR)
    drifted = flagged(auc)
    ranked = sorted(((f, float(v)) for f, v in zip(features, importance, strict=True) if v > 0), key=lambda t: -t[1])
    message = (
        f"a classifier tells current from reference rows with ROC-AUC {auc:.3f} (threshold {limit})"
        if drifted
        else None
    )
    return MultivariateDrift(
        "ok", limit, auc, p_value, bool(drifted), per_side, per_side, folds, tuple(features), tuple(excluded),
        tuple(ranked[:_TOP_FEATURES]), message,
    )


def _cross_validated(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], categorical: npt.NDArray[np.bool_], folds: int, seed: int,
    explain: Callable[[float], bool],
) -> tuple[float, npt.NDArray[np.float64]]:
    """Out-of-fold ROC-AUC and, when ``explain(auc)``, each feature's mean AUC drop when shuffled
    in the held-out folds (zeros otherwise: a verdict of no drift needs no explanation)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # one OpenMP thread: on a busy machine HistGradientBoosting's threads spin against each
    # other and the other processes (measured: 2.4 s on one thread, 43 s on two, load 4)
    with threadpool_limits(limits=1, user_api="openmp"):
        return _folds(x, y, categorical, folds, seed, explain)


def _folds(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.int64], categorical: npt.NDArray[np.bool_], folds: int, seed: int,
    explain: Callable[[float], bool],
) -> tuple[float, npt.NDArray[np.float64]]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(y.size)
    fitted = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        model = HistGradientBoostingClassifier(
            max_iter=_TREES, learning_rate=0.2, max_leaf_nodes=15, early_stopping=False,
            categorical_features=categorical if categorical.any() else None, random_state=seed,
        )
        model.fit(x[train], y[train])
        scores[test] = model.predict_proba(x[test])[:, 1]
        fitted.append((model, test))
    auc = float(roc_auc_score(y, scores))
    drops = np.zeros((folds, x.shape[1]))
    if not explain(auc):
        return auc, drops.mean(axis=0)
    rng = np.random.default_rng(seed + 1)
    for fold, (model, test) in enumerate(fitted):
        # at most _EXPLAIN_ROWS held-out rows per fold: the ranking, not the last digit, is wanted
        held_idx = test if test.size <= _EXPLAIN_ROWS else np.sort(rng.choice(test, _EXPLAIN_ROWS, replace=False))
        held, truth = x[held_idx], y[held_idx]
        if np.unique(truth).size < 2:
            continue
        base = float(roc_auc_score(truth, model.predict_proba(held)[:, 1]))
        for j in range(x.shape[1]):
            shuffled = held.copy()
            shuffled[:, j] = rng.permutation(shuffled[:, j])
            drops[fold, j] = base - float(roc_auc_score(truth, model.predict_proba(shuffled)[:, 1]))
    return auc, drops.mean(axis=0)
