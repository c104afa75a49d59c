"""``steward models timeline NAME``: a registered model's audited history, oldest first."""

from __future__ import annotations

import json

import typer

from ._output import note, print_json, print_table
from ._session import open_client
from ._time import format_time

_EVIDENCE_WIDTH = 160


def _evidence(details: dict[str, object]) -> str:
    """The details a reader scans for: traffic split, outcome, reason; the rest as JSON."""
    rest = dict(details)
    parts: list[str] = []
    variants = rest.pop("variants", None)
    if isinstance(variants, list):
        parts.append(" ".join(f"{v.get('model')}={v.get('weight'):g}%" for v in variants if isinstance(v, dict)))
    for key in ("passed", "inputs", "reason", "comment", "version", "from", "to"):
        if key in rest and rest[key] not in ("", None, []):
            parts.append(f"{key}={rest.pop(key)}")
    if rest:
        parts.append(json.dumps(rest, sort_keys=True, default=str))
    text = " ".join(parts)
    return text if len(text) <= _EVIDENCE_WIDTH else text[: _EVIDENCE_WIDTH - 3] + "..."


def register(models_app: typer.Typer) -> None:
    """Add ``timeline`` to ``steward models``."""

    @models_app.command("timeline")
    def timeline(
        name: str = typer.Argument(..., help="The registered model, e.g. fraud."),
        max_results: int = typer.Option(1000, "--max-results", "-n", min=1, max=10_000, help="At most this many events."),
        after: int = typer.Option(0, "--after", min=0, help="Start past this audit entry id (a previous page's next_after)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
    ) -> None:
        """Show a model's history: runs and their data, gates, approvals, states, aliases,
        deployments and traffic, rollouts and rollbacks, alerts, retirement."""
        with open_client() as client:
            found = client.timeline.get_timeline(name, after=after, max_results=max_results)
        if as_json:
            print_json(found.to_dict())
            return
        if not found.events:
            note(f"No events for {name}.")
            return
        rows = [
            [str(e.entry_id), format_time(e.timestamp), e.actor, e.kind, ",".join(map(str, e.versions)), e.target, _evidence(e.details)]
            for e in found.events
        ]
        print_table(["ENTRY", "TIME", "ACTOR", "EVENT", "VERSIONS", "TARGET", "EVIDENCE"], rows)
        if found.next_after is not None:
            note(f"More events: --after {found.next_after}")
