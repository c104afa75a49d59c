"""Turn errors into one readable stderr line and the exit code of the error tree.

Every command runs inside :class:`StewardGroup.invoke`, so a command module only raises
:class:`~steward.errors.StewardError` subclasses; the exit code comes from the class's
``exit_code`` attribute (never chosen here). ``steward --debug ...`` adds the traceback.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from steward.errors import StewardError

# Exit code for an error we did not raise on purpose: a bug, but still one line.
INTERNAL_EXIT_CODE = 1


def one_line(text: str) -> str:
    """Collapse whitespace so an error message stays on one line; escape control characters
    (a message may quote a name stored before names were checked, or come from a server)."""
    # imported when an error is shown: importing steward.core (every entity) would cost
    # `steward --help` about 15 ms of its start
    from steward.core.names import escape_unsafe

    return escape_unsafe(" ".join(text.split()))


def report(exc: BaseException, *, debug: bool) -> int:
    """Print ``exc`` to stderr as one line (plus the traceback with ``debug``); return the exit code."""
    if debug:
        typer.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    if isinstance(exc, StewardError):
        typer.echo(f"error: {one_line(exc.message)}", err=True)
        return exc.exit_code
    hint = "" if debug else "; rerun with --debug to see the traceback"
    typer.echo(f"error: unexpected {type(exc).__name__}: {one_line(str(exc))[:500]}{hint}", err=True)
    return INTERNAL_EXIT_CODE


class StewardGroup(TyperGroup):
    """The root command group; maps every error raised by a subcommand to its exit code.

    Typer's own exceptions (usage errors exit 2, ``--help``, ``Exit``, ``Abort``) pass
    through untouched so that typer formats them as usual.
    """

    # Any: typer's (vendored click) Context type is not public; we only read ``params``.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            # `steward runs list | head`: the reader left; that is not an error.
            _silence_stdout()
            raise typer.Exit(0) from None
        except Exception as exc:  # noqa: BLE001 - the one place every command's errors end up
            code = report(exc, debug=bool(ctx.params.get("debug")))
            raise typer.Exit(code) from None


def _silence_stdout() -> None:
    # Python flushes stdout again at exit and would complain about the closed pipe then;
    # pointing it at /dev/null is the remedy the Python docs give for SIGPIPE.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
