"""Root typer app: global options, error handling, and one sub-app per noun.

A new noun lives in a module of its own (``_data.py``, ``_models.py`` ...) that defines
``app = typer.Typer(name="<noun>")`` with its verbs as commands, and is registered below
with one ``app.add_typer(...)`` line. Commands raise :mod:`steward.errors`; the root
group (:class:`~steward.cli._errors.StewardGroup`) prints them as one line and exits with
the class's exit code.
"""

from __future__ import annotations

import typer

from steward import __version__

from . import (
    _audit,
    _config,
    _data_checks,
    _db,
    _evaluate,
    _experiments,
    _governance,
    _import,
    _model_card,
    _models,
    _runs,
    _secrets,
    _serve,
)
from . import _labels, _predictions  # the prediction log and its delayed labels
from . import _deploy  # deployments, traffic changes and rollouts
from . import _monitor  # drift reports
from . import _alerts  # alert rules' state, history and dry runs
from . import _monitors  # noqa: F401 - monitor create|list|show|run|delete, on the same noun
from ._data import data_app
from ._errors import StewardGroup
from ._server import server

app = typer.Typer(
    name="steward",
    help="Steward: carry a model through its whole life.",
    cls=StewardGroup,
    no_args_is_help=True,
    # Our errors are one line (see _errors.py); never rich tracebacks with local variables.
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"steward {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error."),
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Steward: carry a machine-learning model through its whole life.

    Works on the embedded store under STEWARD_HOME, or on a server when
    STEWARD_TRACKING_URI=http://host:port. Exit codes: 0 ok, 1 check failed, 2 usage,
    3 not found, 4 permission denied, 5 conflict, 6 store or server unreachable.
    """


app.command("server")(server)
app.command("serve")(_serve.serve)
app.command("score")(_serve.score)
app.command("check")(_data_checks.check_file)
app.add_typer(_db.app)
app.add_typer(_config.app)
app.add_typer(_experiments.app)
app.add_typer(_runs.app)
app.add_typer(_audit.app)
app.add_typer(_models.app)
_model_card.register(_models.models_app)  # steward models card
_evaluate.register(app)  # steward evaluate, steward gate
app.add_typer(_import.app)
app.add_typer(data_app, name="data")
app.command("login")(_governance.login)
app.add_typer(_governance.admin_app)
app.add_typer(_governance.users_app)
app.add_typer(_governance.roles_app)
app.add_typer(_governance.tokens_app)
app.add_typer(_secrets.app)
app.add_typer(_deploy.app)
app.add_typer(_labels.app)
app.add_typer(_predictions.app)
app.add_typer(_monitor.app)
app.add_typer(_alerts.app)


def main() -> None:
    """Console-script entry point (``steward``)."""
    app()
