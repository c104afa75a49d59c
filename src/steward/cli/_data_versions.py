"""CLI commands of the data stage (versions); filled in by the data work."""

from __future__ import annotations

import typer


def register(data_app: typer.Typer) -> None:
    """Add this module's commands to steward data."""
