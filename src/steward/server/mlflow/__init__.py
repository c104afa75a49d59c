"""MLflow's REST API (``/api/2.0/mlflow``, ``/ajax-api``, ``/api/2.0/mlflow-artifacts``) served
from Steward's own services, so that unmodified MLflow clients work against a Steward server."""

from ._routes import router

__all__ = ["router"]
