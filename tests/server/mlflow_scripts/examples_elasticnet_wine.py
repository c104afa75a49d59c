"""MLflow's sklearn_elasticnet_wine example, its calls as they are: an ElasticNet trained in a
run that logs its two params and three metrics and logs the model with
``registered_model_name="ElasticnetWineModel"``. The wine-quality CSV it downloads is swapped
for scikit-learn's bundled wine data. Then reads back what the server kept, prints JSON.

Usage: python examples_elasticnet_wine.py TRACKING_URL WORKDIR
"""

from __future__ import annotations

import json
import os
import sys
import warnings

os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"  # for loading the model back below

import mlflow
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split


def example() -> tuple[str, object, object]:
    """The example's training and logging calls (data from scikit-learn instead of a download)."""
    warnings.filterwarnings("ignore")
    np.random.seed(40)
    data = load_wine(as_frame=True).frame.rename(columns={"target": "quality"})
    train, test = train_test_split(data)
    train_x, test_x = train.drop(["quality"], axis=1), test.drop(["quality"], axis=1)
    train_y, test_y = train[["quality"]], test[["quality"]]
    alpha, l1_ratio = 0.5, 0.5
    with mlflow.start_run() as run:
        lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
        lr.fit(train_x, train_y)
        predicted = lr.predict(test_x)
        rmse = np.sqrt(mean_squared_error(test_y, predicted))
        mae = mean_absolute_error(test_y, predicted)
        r2 = r2_score(test_y, predicted)
        mlflow.log_param("alpha", alpha)
        mlflow.log_param("l1_ratio", l1_ratio)
        mlflow.log_metric("rmse", rmse)
        mlflow.log_metric("r2", r2)
        mlflow.log_metric("mae", mae)
        mlflow.sklearn.log_model(lr, "model", registered_model_name="ElasticnetWineModel")
    return run.info.run_id, lr, test_x


def main(url: str, workdir: str) -> dict[str, object]:
    mlflow.set_tracking_uri(url)
    run_id, lr, test_x = example()
    client = MlflowClient()
    run = client.get_run(run_id)
    version = client.get_model_version("ElasticnetWineModel", "1")
    loaded = mlflow.pyfunc.load_model("models:/ElasticnetWineModel/1")
    expected = lr.predict(test_x)  # type: ignore[attr-defined]
    with open(os.path.join(workdir, "expected.json"), "w") as f:
        json.dump({"columns": list(test_x.columns), "rows": test_x.values.tolist(), "predictions": expected.tolist()}, f)  # type: ignore[attr-defined]
    return {
        "run_id": run_id,
        "status": run.info.status,
        "params": run.data.params,
        "metrics": sorted(run.data.metrics),
        "version": {"name": version.name, "version": version.version, "run_id": version.run_id, "source": version.source},
        "max_error": float(np.max(np.abs(loaded.predict(test_x) - expected))),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
