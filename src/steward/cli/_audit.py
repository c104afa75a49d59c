"""``steward audit list|verify|export``: the append-only, hash-chained audit trail."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from steward.errors import CheckFailedError, InvalidInputError
from steward.sdk import AuditBackend, Client

if TYPE_CHECKING:
    from steward.core import AuditEntry
    from steward.governance import AuditPage

from ._output import note, print_json, print_table
from ._session import load_settings, open_client
from ._time import format_time, parse_since

app = typer.Typer(name="audit", help="Read the audit trail.", no_args_is_help=True)


@contextmanager
def _read_only_audit() -> Iterator[AuditBackend]:
    """The audit trail of the embedded store or the server; closing writes no checkpoint
    (verification must not sign the head it has just checked)."""
    client = Client(load_settings())
    try:
        yield client.audit
    finally:
        client.close(checkpoint=False)


_MAX_CURSOR = 2**63  # entry ids are 64-bit: a larger token was never printed by `audit list`


def _parse_page_token(text: str) -> int:
    token = text.strip()
    if not token.isascii() or not token.isdigit() or not 0 < int(token) < _MAX_CURSOR:
        raise InvalidInputError("--page-token is not one `steward audit list` printed", field="--page-token")
    return int(token)


def _parse_time(text: str, flag: str) -> int:
    ms = parse_since(text, field=flag)
    if not 0 <= ms < _MAX_CURSOR:
        raise InvalidInputError(f"{flag} must be at or after 1970-01-01T00:00:00Z", field=flag)
    return ms


def _entry_dict(e: AuditEntry) -> dict[str, Any]:  # Any: JSON values
    return {"entry_id": e.entry_id, "timestamp": e.timestamp, "actor": e.actor, "action": e.action, "target": e.target, "details": e.details}


def _rows(entries: list[AuditEntry]) -> list[list[str]]:
    return [
        [format_time(e.timestamp), e.actor, e.action, e.target, json.dumps(e.details, sort_keys=True) if e.details else ""]
        for e in entries
    ]


_HEADERS = ["TIME", "ACTOR", "ACTION", "TARGET", "DETAILS"]


@app.command("list")
def list_audit(
    target: str | None = typer.Option(None, "--target", "-t", help="Target prefix, e.g. runs:/<run_id> or models:/fraud."),
    actor: str | None = typer.Option(None, "--actor", help="Exactly this actor (user name)."),
    action: str | None = typer.Option(None, "--action", help="Action prefix, e.g. models. or auth.denied."),
    since: str | None = typer.Option(None, "--since", help="At or after: 7d, 12h, 30m ... (that long ago) or an ISO-8601 time."),
    until: str | None = typer.Option(None, "--until", help="Before: 7d, 12h ... (that long ago) or an ISO-8601 time."),
    order: str = typer.Option("asc", "--order", help="asc: oldest first (the chain's order); desc: newest first."),
    max_results: int = typer.Option(1000, "--max-results", "-n", min=1, max=10_000, help="At most this many entries (a page)."),
    page_token: str | None = typer.Option(None, "--page-token", help="Continue a previous listing (the token it printed)."),
    all_pages: bool = typer.Option(False, "--all", help="Follow every page to the end; --max-results is then the page size."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """List audit entries (oldest first unless --order desc): who did what to which target, and when.

    A page ends with a hint (stderr) or ``next_page_token`` (--json) when more entries match.
    """
    if order not in ("asc", "desc"):
        raise InvalidInputError("--order is asc or desc", field="--order")
    query: dict[str, Any] = {  # Any: the filters' str, int and bool values
        "target": target,
        "actor": actor,
        "action": action,
        "since": _parse_time(since, "--since") if since is not None else None,
        "until": _parse_time(until, "--until") if until is not None else None,
        "newest_first": order == "desc",
        "max_results": max_results,
    }
    cursor = _parse_page_token(page_token) if page_token is not None else None
    with open_client() as client:
        page = client.audit.list_entries(cursor=cursor, **query)
        if all_pages:
            _print_every_page(client.audit, page, query, as_json=as_json)
            return
    token = None if page.next_cursor is None else str(page.next_cursor)
    if as_json:
        print_json({"entries": [_entry_dict(e) for e in page.entries], "next_page_token": token})
        return
    if not page.entries:
        note("No audit entries match.")
        return
    print_table(_HEADERS, _rows(page.entries))
    if token is not None:
        note(f"More entries: add --page-token {token}")


def _print_every_page(audit: AuditBackend, page: AuditPage, query: dict[str, Any], *, as_json: bool) -> None:  # Any: as above
    """Print ``page`` and every page after it as each arrives: memory stays one page,
    however long the trail (``--json`` is still one document)."""
    first = True
    if as_json:
        typer.echo('{\n  "entries": [', nl=False)
    while True:
        if as_json:
            for e in page.entries:
                text = json.dumps(_entry_dict(e), indent=2).replace("\n", "\n    ")
                typer.echo(("\n    " if first else ",\n    ") + text, nl=False)
                first = False
        elif page.entries:
            print_table(_HEADERS, _rows(page.entries), show_header=first)
            first = False
        if page.next_cursor is None:
            break
        page = audit.list_entries(cursor=page.next_cursor, **query)
    if as_json:
        typer.echo(("\n  ]" if not first else "]") + ',\n  "next_page_token": null\n}')
    elif first:
        note("No audit entries match.")


def _embedded_services() -> Any:  # Any: steward.wiring.Services (imported when a command runs)
    settings = load_settings()
    if settings.is_remote():
        # signing needs the master key, which stays on the server: it checkpoints on its own
        raise InvalidInputError(
            "audit checkpoint signs with the server's master key: the server writes checkpoints on a "
            "schedule and at shutdown; run this on the store's machine (unset STEWARD_TRACKING_URI)",
            field="STEWARD_TRACKING_URI",
        )
    from steward.wiring import build_services

    return build_services(settings)


def _parse_head(text: str) -> tuple[int, str]:
    entry, sep, digest = text.partition(":")
    if not sep or not entry.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInputError("--expect-head is ENTRY_ID:HASH (64 lowercase hex), as `audit verify` prints", field="--expect-head")
    return int(entry), digest


@app.command("verify")
def verify_audit(
    expect_head: str | None = typer.Option(
        None, "--expect-head", help="ENTRY_ID:HASH recorded from an earlier verify: also checks that entry is still there."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Check the audit trail's hash chain and its signed head checkpoints.

    Exit 0 when intact; 1 naming the first bad entry, the entries missing at the end, or
    a forged checkpoint.
    """
    head = _parse_head(expect_head) if expect_head is not None else None
    with _read_only_audit() as audit:
        report = audit.verify(expect_head=head)
    bad = report.first_break
    if as_json:
        cp = report.checkpoint
        print_json(
            {
                "intact": report.intact,
                "checked": report.checked,
                "head": None if report.head_id is None else {"entry_id": report.head_id, "hash": report.head_hash},
                "first_bad": None if bad is None else {"entry_id": bad.entry_id, "reason": bad.reason},
                "missing": None if report.missing is None else {"first": report.missing[0], "last": report.missing[1]},
                "checkpoint": None if cp is None else {"entry_id": cp.entry_id, "hash": cp.hash, "created_at": cp.created_at},
                "checkpoint_problems": list(report.checkpoint_problems),
                "checkpoints": report.checkpoints_note,
            }
        )
        if not report.intact:
            raise typer.Exit(CheckFailedError.exit_code)
        return
    problems = list(report.checkpoint_problems)
    if bad is not None:
        problems.insert(0, f"audit chain broken at entry {bad.entry_id}: {bad.reason}")
    if problems:
        for extra in problems[1:]:
            typer.echo(extra, err=True)
        raise CheckFailedError(problems[0])
    head_text = "empty chain" if report.head_id is None else f"head {report.head_id}:{report.head_hash}"
    typer.echo(f"audit chain intact: {report.checked} entries; {head_text}")
    if report.checkpoints_note:
        typer.echo(report.checkpoints_note)


@app.command("checkpoint")
def checkpoint_audit(as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of text.")) -> None:
    """Sign the audit trail's head (HMAC under the master key) into the artifact store now.

    The server does this on a schedule and on shutdown, and every embedded command that
    changed something on exit; `audit verify` then notices entries cut off the end.
    """
    services = _embedded_services()
    try:
        audit = services.audit(create_key=True)
        written = audit.checkpoint()
        head = audit.store.head()
    finally:
        services.store.close()
    if as_json:
        print_json(
            {
                "written": written is not None,
                "head": None if head is None else {"entry_id": head[0], "hash": head[1]},
            }
        )
        return
    if head is None:
        note("The audit trail is empty: nothing to checkpoint.")
    elif written is None:
        typer.echo(f"audit head {head[0]} already checkpointed")
    else:
        typer.echo(f"audit checkpoint written: head {written.entry_id}:{written.hash}")


@app.command("export")
def export_audit(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Export every audit entry with its chain hashes as JSON lines, oldest first."""
    with _read_only_audit() as audit:
        lines = (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n" for entry in audit.export())
        if output is None:
            for line in lines:
                sys.stdout.write(line)
            sys.stdout.flush()
            return
        with output.open("w", encoding="utf-8") as handle:
            count = sum(1 for line in lines if handle.write(line))
    note(f"{count} entries written to {output}")
