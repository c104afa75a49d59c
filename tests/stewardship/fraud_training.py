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


def train_killed(frame: pd.DataFrame, target: str) -> Any:  # Any: never returns
    """A training step whose process dies at once, as one the kernel's OOM killer ends:
    no exception, no cleanup (exit code 137, what a shell reports for SIGKILL)."""
    import os

    os._exit(137)


def train_sigkill(frame: pd.DataFrame, target: str) -> Any:  # Any: never returns
    """A training step killed by SIGKILL (the kernel's OOM killer, ``kill -9``)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def train_hang(frame: pd.DataFrame, target: str) -> Any:  # Any: never returns
    """A training step that never finishes."""
    import time

    time.sleep(600)
