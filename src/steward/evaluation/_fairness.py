"""Group fairness of a binary classifier across a sensitive attribute.

Formulas (as in Hardt et al. 2016 and fairlearn's definitions), for groups ``g``:

* selection rate ``SR_g = P(pred = positive | group = g)``;
  demographic parity difference ``DPD = max_g SR_g - min_g SR_g``;
* true positive rate ``TPR_g = P(pred = pos | y = pos, g)``, false positive rate
  ``FPR_g = P(pred = pos | y = neg, g)``; equalised odds difference
  ``EOD = max(max_g TPR_g - min_g TPR_g, max_g FPR_g - min_g FPR_g)``.

A group without positives (or negatives) has no TPR (FPR) and is left out of that term.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._slices import slice_masks

__all__ = ["fairness"]


def _rate(hits: np.ndarray, mask: np.ndarray) -> float | None:
    n = int(mask.sum())
    return float(hits[mask].sum() / n) if n else None


def _spread(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(max(present) - min(present)) if len(present) >= 2 else (0.0 if present else None)


def fairness(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, positive: Any  # Any: the positive label
) -> dict[str, Any]:  # Any: JSON
    """Per-group rates and the two differences.

    Returns:
        ``{"positive_label", "groups": [{"group", "count", "selection_rate", "tpr", "fpr"}],
        "demographic_parity_difference", "equalized_odds_difference"}``.
    """
    pred_pos = y_pred == positive
    true_pos = y_true == positive
    rows: list[dict[str, Any]] = []  # Any: JSON
    for label, mask in slice_masks(groups):
        rows.append(
            {
                "group": label,
                "count": int(mask.sum()),
                "selection_rate": _rate(pred_pos, mask),
                "tpr": _rate(pred_pos, mask & true_pos),
                "fpr": _rate(pred_pos, mask & ~true_pos),
            }
        )
    tpr = _spread([r["tpr"] for r in rows])
    fpr = _spread([r["fpr"] for r in rows])
    eod = None if tpr is None and fpr is None else max(v for v in (tpr, fpr) if v is not None)
    return {
        "positive_label": positive.item() if isinstance(positive, np.generic) else positive,
        "groups": rows,
        "demographic_parity_difference": _spread([r["selection_rate"] for r in rows]),
        "equalized_odds_difference": eod,
    }
