"""Data-stage REST routes (validation); filled in by the data work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["data"])
