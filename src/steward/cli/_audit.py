"""``steward audit list``: the append-only audit trail."""

from __future__ import annotations

import json

import typer

from steward.core import AuditEntry
from steward.sdk import HttpBackend
from steward.wiring import build_services

from ._output import note, print_json, print_table
from ._session import load_settings, open_client
from ._time import format_time, parse_since

app = typer.Typer(name="audit", help="Read the audit trail.", no_args_is_help=True)


def _entries(target: str | None, since: int | None, max_results: int) -> list[AuditEntry]:
    settings = load_settings()
    if settings.is_remote():
        with open_client(settings) as client:
            backend = client.backend
            assert isinstance(backend, HttpBackend)  # is_remote() always builds one
            return backend.list_audit(target=target, since=since, max_results=max_results)
    # Embedded: read the table directly; tracking services have no audit reader to go through.
    services = build_services(settings)
    try:
        return services.store.list_audit(target=target, since=since, limit=max_results)
    finally:
        services.close()


@app.command("list")
def list_audit(
    target: str | None = typer.Option(None, "--target", "-t", help="Target prefix, e.g. runs:/<run_id>."),
    since: str | None = typer.Option(None, "--since", help="7d, 12h, 30m ... or an ISO-8601 time."),
    max_results: int = typer.Option(1000, "--max-results", "-n", min=1, max=10_000, help="At most this many entries."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """List audit entries (oldest first): who did what to which target, and when."""
    since_ms = parse_since(since, field="--since") if since is not None else None
    entries = _entries(target, since_ms, max_results)
    if as_json:
        print_json(
            {
                "entries": [
                    {
                        "entry_id": e.entry_id,
                        "timestamp": e.timestamp,
                        "actor": e.actor,
                        "action": e.action,
                        "target": e.target,
                        "details": e.details,
                    }
                    for e in entries
                ]
            }
        )
        return
    if not entries:
        note("No audit entries match.")
        return
    rows = [
        [format_time(e.timestamp), e.actor, e.action, e.target, json.dumps(e.details, sort_keys=True) if e.details else ""]
        for e in entries
    ]
    print_table(["TIME", "ACTOR", "ACTION", "TARGET", "DETAILS"], rows)
