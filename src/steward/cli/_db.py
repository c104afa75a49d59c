"""``steward db upgrade|current``: the metadata store's Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from steward.adapters.sql import create_store_engine, current_revision, head_revision, upgrade
from steward.errors import InvalidInputError, StorageError
from steward.settings import Settings

from ._output import print_json, print_table
from ._session import load_settings, mask_url

app = typer.Typer(name="db", help="Migrate and inspect the metadata store.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")


def _database_url(settings: Settings) -> str:
    # Against a server the CLI cannot know where the server's database lives; the user has
    # to name it, rather than us quietly migrating a local store nobody uses.
    if settings.is_remote() and not settings.database_url:
        raise InvalidInputError(
            "STEWARD_TRACKING_URI points at a server, whose store migrates itself on start; "
            "set STEWARD_DATABASE_URL to act on a database directly",
            field="STEWARD_DATABASE_URL",
        )
    return settings.resolved_database_url()


@contextmanager
def _engine(settings: Settings) -> Iterator[tuple[Engine, str]]:
    url = _database_url(settings)
    engine = create_store_engine(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    shown = mask_url(url)
    try:
        yield engine, shown
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise StorageError(f"the metadata store {shown} is unreachable or locked") from exc
    finally:
        engine.dispose()


@app.command("upgrade")
def upgrade_db(as_json: bool = JSON_OPTION) -> None:
    """Apply pending migrations (to the newest); print the revision before and after."""
    settings = load_settings()
    with _engine(settings) as (engine, shown):
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    if as_json:
        print_json({"database": shown, "from": before, "to": after, "changed": before != after})
    elif before == after:
        typer.echo(f"{shown} is already at the newest revision {after}.")
    else:
        typer.echo(f"Upgraded {shown} from {before or '(empty)'} to {after}.")


@app.command("current")
def current_db(as_json: bool = JSON_OPTION) -> None:
    """Show the store's migration revision and the newest this Steward knows."""
    settings = load_settings()
    with _engine(settings) as (engine, shown):
        current = current_revision(engine)
    head = head_revision()
    if as_json:
        print_json({"database": shown, "current": current, "head": head, "up_to_date": current == head})
        return
    state = "up to date" if current == head else "behind: run `steward db upgrade`"
    print_table(
        ["FIELD", "VALUE"],
        [["database", shown], ["current", current or "(empty)"], ["head", head or "-"], ["state", state]],
        show_header=False,
    )
