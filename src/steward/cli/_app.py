"""Root typer app: global options, error handling, and one lazily loaded sub-app per noun.

A new noun lives in a module of its own (``_data.py``, ``_models.py`` ...) that defines
``app = typer.Typer(name="<noun>")`` with its verbs as commands, and is registered below
with one line in :data:`COMMANDS`: its name, ``"module:attribute"`` and its one-line help.
The module is imported only when the command runs (or its own ``--help`` is asked for), so
``steward --help`` and ``steward runs list`` do not pay for scikit-learn, polars or the
server (measured by ``bench/cli_start.py``). Commands raise :mod:`steward.errors`; the root
group (:class:`~steward.cli._errors.StewardGroup`) prints them as one line and exits with
the class's exit code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from steward import __version__

from ._errors import StewardGroup

# What a lazy entry points at: "module:attribute" naming a typer.Typer (a noun) or a command
# function (a top-level verb), or a function of this module that glues several modules together.
Target = str | Callable[[], Any]  # Any: a typer.Typer or a command function


def _models() -> Any:  # Any: typer.Typer
    from . import _model_card, _models, _timeline

    # idempotent: the sub-app is converted again on every invocation of the root app
    if not any(c.name == "card" for c in _models.models_app.registered_commands):
        _model_card.register(_models.models_app)  # steward models card
    if not any(c.name == "timeline" for c in _models.models_app.registered_commands):
        _timeline.register(_models.models_app)  # steward models timeline
    if not any(c.name == "retire" for c in _models.models_app.registered_commands):
        from . import _stewardship

        _stewardship.register_models(_models.models_app)  # steward models set-owner|owner|retire
    return _models.app


def _deploy() -> Any:  # Any: typer.Typer
    from . import _deploy, _stewardship

    if not any(c.name == "drill" for c in _deploy.app.registered_commands):
        _stewardship.register_deploy(_deploy.app)  # steward deploy drill
    return _deploy.app


def _evaluation(name: str) -> Callable[[], Any]:
    def load() -> Any:  # Any: the command function
        from . import _evaluate

        holder = typer.Typer()
        _evaluate.register(holder)  # steward evaluate, steward gate
        return next(c.callback for c in holder.registered_commands if c.name == name)

    return load


def _monitor() -> Any:  # Any: typer.Typer
    from . import _monitor, _monitors  # noqa: F401 - _monitors adds create|list|show|run|delete to the noun

    return _monitor.app


# name -> (target, help shown by `steward --help`), in the order the help lists them. The help
# is written here so that the root help imports no command module; tests/cli/test_cli_lazy.py
# checks it is the command's own.
COMMANDS: dict[str, tuple[Target, str]] = {
    "server": ("steward.cli._server:server", "Run the Steward server (REST API, MLflow-compatible API)."),
    "serve": (
        "steward.cli._serve:serve",
        (
            "Serve a model version or a deployment over HTTP: /predict, the Open Inference\nProtocol v2 (/v2/...), "
            "/metrics. Ctrl-C or SIGTERM stops after in-flight requests."
        ),
    ),
    "score": (
        "steward.cli._serve:score",
        "Score a Parquet file in chunks (bounded memory) and write the predictions next to the inputs.",
    ),
    "check": (
        "steward.cli._data_checks:check_file",
        "Check a suite file against its JSON Schema; every fault names its line. Exit 1 on faults.",
    ),
    "evaluate": (
        _evaluation("evaluate"),
        "Evaluate a model version on a dataset version; the report is stored with the version.",
    ),
    "gate": (
        _evaluation("gate"),
        (
            "Evaluate the candidate and the champion on the same data, apply the policy, store\nthe outcome. "
            "Exit 1 when any gate fails. With --override, waive a failed gate instead."
        ),
    ),
    "login": (
        "steward.cli._governance:login",
        "Check a token against the server (STEWARD_TRACKING_URI) and save it for later commands.",
    ),
    "db": ("steward.cli._db:app", "Migrate and inspect the metadata store."),
    "config": ("steward.cli._config:app", "Inspect the effective configuration."),
    "experiments": ("steward.cli._experiments:app", "Create, list and delete experiments."),
    "runs": ("steward.cli._runs:app", "Search, inspect, compare and delete runs."),
    "audit": ("steward.cli._audit:app", "Read the audit trail."),
    "models": (_models, "Registered models, versions, aliases, approvals and packaging."),
    "import": ("steward.cli._import:app", "Bring runs and models in from other tools."),
    "data": ("steward.cli._data:data_app", "Dataset versions, profiles, lineage and validation."),
    "admin": ("steward.cli._governance:admin_app", "Set up a team server."),
    "users": ("steward.cli._governance:users_app", "Create, list and disable users."),
    "roles": ("steward.cli._governance:roles_app", "Grant, revoke and list roles per project."),
    "tokens": ("steward.cli._governance:tokens_app", "Create, list and revoke API tokens."),
    "secrets": ("steward.cli._secrets:app", "Encrypted secrets (values never shown)."),
    "deploy": (
        _deploy,
        "Deployments: traffic plans, canaries, A/B tests, shadows, blue-green, rollouts.",
    ),
    "labels": ("steward.cli._labels:app", "Delayed ground truth of logged predictions."),
    "predictions": ("steward.cli._predictions:app", "The prediction log of served deployments."),
    "monitor": (_monitor, "Monitoring: drift reports."),
    "alerts": ("steward.cli._alerts:app", "Alert rules: their state, history, and a dry run of a rule file."),
    "features": ("steward.cli._features:app", "Feature store: definitions, materialisation, online values."),
    "pipeline": ("steward.cli._pipeline:app", "Pipelines of cached steps, each recorded as a run."),
    "reproduce": (
        "steward.cli._reproduce:reproduce",
        "Re-run a run at its recorded commit, data, params and seed; say whether its metrics match. Exit 1 when not.",
    ),
    "triggers": ("steward.cli._triggers:app", "Triggers that start pipelines: cron, dataset versions, alerts, registry events."),
    "webhooks": ("steward.cli._webhooks:app", "Webhooks: registry and deployment events POSTed, signed and retried."),
    "ci": ("steward.cli._ci:app", "CI/CD steps with exit codes and a Markdown summary: validate data, gate, package, deploy."),
    "retrain": (
        "steward.cli._stewardship:retrain",
        "Retrain a model through the standard lifecycle: validate, train, gate, register, approval, canary, rollout, promote or roll back.",
    ),
}


def load_command(name: str, target: Target) -> Any:  # Any: typer's (vendored click) Command
    """Import ``target`` and convert it to the click command typer would have built for it."""
    if isinstance(target, str):
        module, _, attribute = target.partition(":")
        obj = getattr(importlib.import_module(module), attribute)
    else:
        obj = target()
    # Built inside a holder app as the root would build it (and without the completion
    # options typer adds to a root app).
    holder = typer.Typer(add_completion=False)
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
        return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]
    holder.command(name)(obj)  # a command function: alone in the holder, typer returns it as is
    return typer.main.get_command(holder)


class LazyGroup(StewardGroup):
    """The root group: knows its commands by name and imports one only when it is used.

    While the root's own help is drawn, unloaded commands are stand-ins that carry only their
    name and help from :data:`COMMANDS`.
    """

    # Any: typer's vendored click types are not public
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, Any] = {}
        self._drawing_help = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        if cmd_name in self._loaded:
            return self._loaded[cmd_name]
        target, help_text = COMMANDS[cmd_name]
        if self._drawing_help:
            return TyperGroup(name=cmd_name, help=help_text)
        command = self._loaded[cmd_name] = load_command(cmd_name, target)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._drawing_help = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._drawing_help = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # typer suggests close names from ``self.commands``, which holds none of the lazy ones
        try:
            return self._click_resolve_command(ctx, args)
        except typer.TyperException as exc:  # click's UsageError (typer vendors click privately)
            message = getattr(exc, "message", None)
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if isinstance(message, str) and message.startswith("No such command") and matches:
                suggestion = ", ".join(repr(m) for m in matches)
                setattr(exc, "message", f"{message.rstrip('.')}. Did you mean {suggestion}?")  # noqa: B010 - not typed
            raise


app = typer.Typer(
    name="steward",
    help="Steward: carry a model through its whole life.",
    cls=LazyGroup,
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


def main() -> None:
    """Console-script entry point (``steward``)."""
    app()
