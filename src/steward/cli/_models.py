"""``steward models ...``: the model registry; filled in by the registry work."""

from __future__ import annotations

import typer

models_app = typer.Typer(help="Registered models, versions, aliases, approvals and packaging.", no_args_is_help=True)
