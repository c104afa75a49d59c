"""Data stage: dataset versions, profiles, lineage, validation suites and skew."""

from __future__ import annotations

__all__: list[str] = []
