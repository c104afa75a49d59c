"""Run with the mlflow venv's python: an MLflow sqlite store holding ElasticnetWineModel v1
(``log_model(..., registered_model_name=...)``), and the model's predictions in
FOLDER/expected.json. Prints JSON with the store's URI.

Usage: python make_wine_store.py FOLDER
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import mlflow
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet

warnings.filterwarnings("ignore")

if __name__ == "__main__":
    folder = sys.argv[1]
    uri = f"sqlite:///{os.path.join(folder, 'mlflow.db')}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("wine", artifact_location=os.path.join(folder, "mlruns"))
    x, y = load_wine(return_X_y=True, as_frame=True)
    model = ElasticNet(alpha=0.5, l1_ratio=0.5, random_state=42).fit(x, y)
    with mlflow.start_run(experiment_id=experiment):
        mlflow.log_params({"alpha": 0.5, "l1_ratio": 0.5})
        mlflow.sklearn.log_model(model, name="model", registered_model_name="ElasticnetWineModel", input_example=x.head(3))
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump({"columns": list(x.columns), "rows": x.values.tolist(), "predictions": model.predict(x).tolist()}, f)
    print(json.dumps({"uri": uri}))
