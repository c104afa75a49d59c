"""MLflow REST tracking API compatibility (filled in by the MLflow-compatibility work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/2.0/mlflow", tags=["mlflow"])
