"""MLflow's sklearn_logistic_regression example, its calls as they are: no ``start_run`` (the
first ``log_metric`` opens a run, which MLflow ends when the process exits), a score metric
and ``log_model`` with a signature and an input example. Prints the run id as JSON on the
last line, after MLflow's exit hook ended the run; the test reads the run back.

Usage: python examples_logistic_regression.py TRACKING_URL
"""

from __future__ import annotations

import atexit
import json
import sys

out: dict[str, object] = {}
# registered before mlflow (importing it installs its exit hook), so it runs after that hook
# has ended the run: atexit calls the last registered first
atexit.register(lambda: print(json.dumps(out)))

import mlflow
import mlflow.sklearn
import numpy as np
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

if __name__ == "__main__":
    mlflow.set_tracking_uri(sys.argv[1])
    X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 1, 0])
    lr = LogisticRegression()
    lr.fit(X, y)
    score = lr.score(X, y)
    mlflow.log_metric("score", score)
    predictions = lr.predict(X)
    signature = infer_signature(X, predictions)
    info = mlflow.sklearn.log_model(lr, "model", signature=signature, input_example=X)
    active = mlflow.active_run()
    assert active is not None
    out.update({"run_id": active.info.run_id, "score": score, "model_id": info.model_id})
