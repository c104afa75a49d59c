"""Training steps the lifecycle tests name as ``--train fraud_training:<function>``."""

from __future__ import annotations

from typing import Any

import pandas as pd


def train(frame: pd.DataFrame, target: str) -> Any:  # Any: a fitted estimator
    """A logistic regression on every column but the target."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500).fit(frame.drop(columns=[target]), frame[target])


def train_constant(frame: pd.DataFrame, target: str) -> Any:  # Any: a fitted estimator
    """A model that always answers the rarer class: it fails any sensible gate."""
    from sklearn.dummy import DummyClassifier

    rare = int(frame[target].value_counts().idxmin())
    return DummyClassifier(strategy="constant", constant=rare).fit(frame.drop(columns=[target]), frame[target])


def train_crash(frame: pd.DataFrame, target: str) -> Any:  # Any: never returns
    """A training step that dies half-way, as a real one does on bad memory or a bug."""
    raise MemoryError("simulated: the training step ran out of memory")
