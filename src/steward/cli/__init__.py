"""The ``steward`` command line (typer + rich). Each noun lives in a module of its own."""

from __future__ import annotations

from ._app import app, main

__all__ = ["app", "main"]
