"""Save the benchmark's model as an MLflow model folder (run in bench/.venv-mlflow)."""

from __future__ import annotations

import sys

import mlflow.sklearn
import pandas as pd
from _serving_model import COLUMNS, fitted, training_data
from mlflow.models import infer_signature

if __name__ == "__main__":
    model = fitted(frame=True)
    x, _ = training_data()
    example = pd.DataFrame(x[:5], columns=COLUMNS)
    mlflow.sklearn.save_model(model, sys.argv[1], signature=infer_signature(example, model.predict(example)))
