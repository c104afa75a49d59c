"""How commands print: rich tables in a terminal, plain aligned text otherwise, or JSON.

``--json`` prints exactly one JSON document on stdout. Notes meant for people (empty
results, "more pages") go to stderr so that piped stdout stays parseable.

Terminal detection is rich's: a tty, or ``TTY_COMPATIBLE=1`` / ``FORCE_COLOR`` in the
environment (which is how the tests ask for tables).

Text from the store is never trusted to be harmless: everything printed for people passes
:func:`~steward.core.names.escape_unsafe`, so a name holding ``\x1b]0;pwned\x07`` (stored
before names were checked, or a column read from a file) prints as that text and cannot
set the terminal's title; and rich never reads it as markup (``[red]x[/red]`` prints as
typed). ``--json`` is escaped by ``json.dumps`` itself.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # rich is imported for a terminal only: piped output (scripts, `| grep`) never pays for it
    from rich.console import Console

from steward.core.codec import float_out
from steward.core.names import escape_unsafe

# Rows that differ are drawn in this style in a terminal and marked "*" in plain text.
MARK_STYLE = "bold yellow"
_EMPTY = "-"


def _console() -> Console:
    from rich.console import Console

    # Built per call: the CLI test runner swaps sys.stdout between invocations.
    return Console(highlight=False)


def is_terminal() -> bool:
    """True when stdout is a terminal (tables), False when piped (plain text)."""
    if not any(name in os.environ for name in ("TTY_COMPATIBLE", "FORCE_COLOR")):
        # rich decides from these variables first, then from isatty(): without them, a
        # stdout that is not a tty is not a terminal, and rich need not be imported to say so
        isatty = getattr(sys.stdout, "isatty", None)
        try:
            if isatty is None or not isatty():
                return False
        except ValueError:  # a closed stream
            return False
    return _console().is_terminal


def print_json(document: object) -> None:
    """Print one JSON document on stdout (strict JSON: non-finite floats become strings)."""
    typer.echo(json.dumps(_strict(document), indent=2, sort_keys=False, allow_nan=False))


def _strict(value: object) -> object:
    if isinstance(value, float):
        return float_out(value)
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def note(message: str) -> None:
    """A line for people, on stderr (never mixed into tables or JSON)."""
    echo(message, err=True)


def echo(message: str, *, err: bool = False) -> None:
    """Print text for people: control, bidirectional and zero-width characters escaped
    (newlines and tabs kept, so multi-line text stays multi-line)."""
    typer.echo(escape_unsafe(message, keep="\n\t"), err=err)


def format_value(value: float) -> str:
    """A metric value, compact: ``0.9123``, ``1.2e-05``, ``NaN``, ``inf``."""
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}"


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    marked: Sequence[bool] | None = None,
    show_header: bool = True,
) -> None:
    """Print rows as a rich table (terminal) or as aligned plain-text columns.

    Args:
        headers: column titles.
        rows: cell texts; user data is never interpreted as rich markup.
        title: shown above the table.
        marked: rows to highlight (bold in a terminal, ``*`` in the first column otherwise).
        show_header: False for key/value sections.
    """
    flags = list(marked) if marked is not None else [False] * len(rows)
    if is_terminal():
        from rich.table import Table
        from rich.text import Text

        table = Table(
            title=Text(escape_unsafe(title)) if title else None,
            show_header=show_header,
            title_justify="left",
            header_style="bold",
        )
        for header in headers:
            table.add_column(Text(escape_unsafe(header)), overflow="fold")
        for row, flag in zip(rows, flags, strict=True):
            table.add_row(*(Text(escape_unsafe(cell or _EMPTY)) for cell in row), style=MARK_STYLE if flag else None)
        _console().print(table)
        return
    head = [escape_unsafe(h) for h in headers]
    body = [[_plain(cell) for cell in row] for row in rows]
    if marked is not None:
        head = ["", *head]
        body = [["*" if flag else "", *row] for row, flag in zip(body, flags, strict=True)]
    lines = ([head] if show_header else []) + body
    widths = [max((len(line[c]) for line in lines), default=0) for c in range(len(lines[0]) if lines else 0)]
    if title:
        echo(escape_unsafe(title))
    for line in lines:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _plain(cell: str) -> str:
    # One row per line in plain text, so tools like grep and awk see whole rows.
    return escape_unsafe(" ".join(cell.split())) if cell else _EMPTY


def print_block(title: str, body: str) -> None:
    """A titled block of verbatim text (e.g. a failed run's traceback)."""
    if is_terminal():
        from rich.text import Text

        console = _console()
        console.print(Text(escape_unsafe(title), style="bold"))
        console.print(Text(escape_unsafe(body.rstrip(), keep="\n\t")))
        return
    echo(title)
    echo(body.rstrip())


def blank_line() -> None:
    """Separate sections of a ``show`` output."""
    typer.echo("")
