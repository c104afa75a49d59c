"""``steward data ...``: dataset versions (``_data_versions``) and validation (``_data_checks``)."""

from __future__ import annotations

import typer

from . import _data_checks, _data_versions

data_app = typer.Typer(help="Dataset versions, profiles, lineage and validation.", no_args_is_help=True)
_data_versions.register(data_app)
_data_checks.register(data_app)
