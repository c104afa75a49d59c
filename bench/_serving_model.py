"""The benchmark's model, built the same way in every venv: a scikit-learn logistic regression
on 20 numeric features (fixed seed), so every server answers with the same coefficients.

Standard library, numpy and scikit-learn only: imported by the peers' servers too.
"""

from __future__ import annotations

import numpy as np

N_FEATURES = 20
COLUMNS = [f"f{i}" for i in range(N_FEATURES)]


def training_data(rows: int = 2_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    x = rng.normal(size=(rows, N_FEATURES))
    weights = rng.normal(size=N_FEATURES)
    y = (x @ weights + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    return x, y


def fitted(frame: bool = True):  # -> a fitted LogisticRegression (untyped: runs in peers' venvs)
    """The model, fitted on a DataFrame with named columns (``frame``) or on a bare array."""
    from sklearn.linear_model import LogisticRegression

    x, y = training_data()
    if frame:
        import pandas as pd

        return LogisticRegression(max_iter=1_000).fit(pd.DataFrame(x, columns=COLUMNS), y)
    return LogisticRegression(max_iter=1_000).fit(x, y)


def request_rows(n: int) -> list[list[float]]:
    """``n`` request rows (the load generator sends the same body again and again)."""
    rng = np.random.default_rng(7)
    return [[round(float(v), 6) for v in row] for row in rng.normal(size=(n, N_FEATURES))]
