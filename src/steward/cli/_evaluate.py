"""``steward evaluate`` and ``steward gate``; filled in by the evaluation work."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level evaluation commands to the root app."""
