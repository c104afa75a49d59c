"""Moving in from other tools: import an MLflow store (experiments, runs, registry)."""

from __future__ import annotations

from ._mlflow_import import ImportSummary, export_mlflow, import_dump, steward_model_name

__all__ = ["ImportSummary", "export_mlflow", "import_dump", "steward_model_name"]
