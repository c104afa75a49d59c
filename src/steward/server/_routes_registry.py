"""REST routes of the registry stage; filled in by that stage's work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["registry"])
