"""``steward webhooks create|list|delete|deliveries|redeliver|test|deliver``.

A secret is read from stdin (when it is not a terminal), an environment variable named by
``--secret-env``, or a hidden prompt; never from an argument (shell history, process lists).
Against a server (``STEWARD_TRACKING_URI``) every command calls its REST API.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

import typer

from steward.errors import InvalidInputError

from ._output import echo, note, print_json, print_table
from ._session import open_client
from ._time import format_time

if TYPE_CHECKING:
    from steward.webhooks import Delivery

app = typer.Typer(name="webhooks", help="Webhooks: registry and deployment events POSTed, signed and retried.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")


def _read_secret(env: str | None) -> str:
    if env is not None:
        value = os.environ.get(env, "")
        if not value:
            raise InvalidInputError(f"environment variable {env[:100]} is empty or unset", field="--secret-env")
        return value
    if not sys.stdin.isatty():
        value = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    else:
        value = str(typer.prompt("Webhook secret", hide_input=True, confirmation_prompt=True))
    if not value:
        raise InvalidInputError("the webhook secret is empty (pipe it on stdin, use --secret-env or type it)", field="secret")
    return value


def _delivery_rows(found: list[Delivery]) -> list[list[str]]:
    return [
        [
            d.delivery_id, d.event, d.status, str(d.attempts),
            "" if d.last_status_code is None else str(d.last_status_code), format_time(d.created_at),
            format_time(d.next_attempt_at) if d.status == "pending" else "", d.last_error or "",
        ]
        for d in found
    ]


_DELIVERY_HEADERS = ["DELIVERY", "EVENT", "STATUS", "ATTEMPTS", "LAST CODE", "CREATED", "NEXT ATTEMPT", "LAST ERROR"]


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Webhook name: lowercase letters, digits, '-'."),
    url: str = typer.Option(..., "--url", help="Where events are POSTed (http or https)."),
    project: str = typer.Option(..., "--project", help="The project whose events it receives."),
    events: list[str] = typer.Option(  # noqa: B008 - typer idiom
        ..., "--event", "-e", help="An event to receive (repeatable; * for all): model_version.created, ... deployment.rolled_back."
    ),
    max_attempts: int = typer.Option(5, "--max-attempts", min=1, max=20, help="Attempts per delivery before it is failed."),
    secret_env: str | None = typer.Option(None, "--secret-env", help="Read the secret from this environment variable."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Subscribe a URL to a project's events; deliveries are signed with the secret (stdin or prompt)."""
    from steward.webhooks import check_events, check_url, check_webhook_name

    check_webhook_name(name)
    check_url(url)
    check_events(events)
    secret = _read_secret(secret_env)
    with open_client() as client:
        hook = client.webhooks.create_webhook(name, url, project=project, events=events, secret=secret, max_attempts=max_attempts)
    if as_json:
        print_json(hook.to_dict())
        return
    note(f"webhook {hook.name} created for project {hook.project}: {', '.join(hook.events)}")


@app.command("list")
def list_webhooks(
    project: str | None = typer.Option(None, "--project", help="Only this project's webhooks."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List webhooks (never their secrets)."""
    with open_client() as client:
        found = client.webhooks.list_webhooks(project=project)
    if as_json:
        print_json({"webhooks": [w.to_dict() for w in found]})
        return
    if not found:
        note("No webhooks.")
        return
    rows = [[w.name, w.project, w.url, ",".join(w.events), str(w.max_attempts), w.created_by, format_time(w.created_at)] for w in found]
    print_table(["NAME", "PROJECT", "URL", "EVENTS", "ATTEMPTS", "CREATED BY", "CREATED"], rows)


@app.command("delete")
def delete(name: str = typer.Argument(..., help="Webhook name.")) -> None:
    """Delete a webhook and its delivery log."""
    with open_client() as client:
        client.webhooks.delete_webhook(name)
    note(f"webhook {name} deleted")


@app.command("deliveries")
def deliveries(
    name: str = typer.Argument(..., help="Webhook name."),
    status: str | None = typer.Option(None, "--status", help="pending, succeeded or failed."),
    max_results: int = typer.Option(100, "--max-results", "-n", min=1, max=10_000, help="At most this many, newest first."),
    as_json: bool = JSON_OPTION,
) -> None:
    """A webhook's delivery log: each delivery, its status and every attempt (with --json)."""
    with open_client() as client:
        found = client.webhooks.list_deliveries(name, status=status, max_results=max_results)
    if as_json:
        print_json({"deliveries": [d.to_dict() for d in found]})
        return
    if not found:
        note(f"No deliveries for {name}.")
        return
    print_table(_DELIVERY_HEADERS, _delivery_rows(found), marked=[d.status == "failed" for d in found])


def _show(found: Delivery, as_json: bool) -> None:
    if as_json:
        print_json(found.to_dict())
    else:
        print_table(_DELIVERY_HEADERS, _delivery_rows([found]), marked=[found.status != "succeeded"])
    if found.status != "succeeded":
        raise typer.Exit(1)  # the receiver did not take it (yet): a check that failed


@app.command("redeliver")
def redeliver(
    name: str = typer.Argument(..., help="Webhook name."),
    delivery_id: str = typer.Argument(..., help="The delivery to send again (same id and body)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a delivery again now; exit 1 when the receiver does not answer 2xx (it is retried later)."""
    with open_client() as client:
        found = client.webhooks.redeliver(name, delivery_id)
    _show(found, as_json)


@app.command("test")
def test(name: str = typer.Argument(..., help="Webhook name."), as_json: bool = JSON_OPTION) -> None:
    """Send a ping event now; exit 1 when the receiver does not answer 2xx."""
    with open_client() as client:
        found = client.webhooks.test_webhook(name)
    _show(found, as_json)


@app.command("deliver")
def deliver(
    wait: float = typer.Option(0.0, "--wait", min=0.0, max=3600.0, help="Keep delivering for up to this many seconds while retries are pending."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the delivery worker once (embedded stores have no server to run it): new events are
    read from the audit trail and due deliveries sent; with --wait, retries are waited for."""
    deadline = time.monotonic() + wait
    totals = {"enqueued": 0, "attempted": 0, "succeeded": 0, "failed": 0, "pending": 0}
    with open_client() as client:
        while True:
            done = client.webhooks.deliver()
            for key in ("enqueued", "attempted", "succeeded", "failed"):
                totals[key] += int(getattr(done, key))
            totals["pending"] = done.pending
            if not done.leased:
                note("another process holds the delivery lease (a server delivers); nothing done")
            if done.pending == 0 or time.monotonic() >= deadline:
                break
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    if as_json:
        print_json(totals)
        return
    echo(
        f"{totals['enqueued']} new deliveries, {totals['attempted']} attempts: {totals['succeeded']} succeeded, "
        f"{totals['failed']} failed, {totals['pending']} waiting for a retry"
    )
