"""``steward secrets set|list|delete|keygen``: encrypted secrets.

A value is read from stdin (when it is not a terminal) or a hidden prompt, never from an
argument: arguments end up in shell history and process listings.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from steward.errors import InvalidInputError

from ._output import note, print_json, print_table
from ._session import open_client
from ._time import format_time

app = typer.Typer(name="secrets", help="Encrypted secrets (values never shown).", no_args_is_help=True)

JSON = dict[str, Any]  # Any: JSON values

if TYPE_CHECKING:
    # steward.governance loads the cryptography package: only when a secrets command runs
    from steward.governance import SecretInfo


def _check_name(name: str) -> None:
    from steward.governance import check_secret_name

    check_secret_name(name)


def _info_dict(info: SecretInfo) -> JSON:
    return {
        "name": info.name,
        "version": info.version,
        "created_at": info.created_at,
        "created_by": info.created_by,
        "updated_at": info.updated_at,
        "updated_by": info.updated_by,
    }


def _read_value(name: str) -> str:
    if not sys.stdin.isatty():
        value = sys.stdin.read()
        # one trailing newline is how `echo` and files end; anything else is the value
        value = value.removesuffix("\n")
        value = value.removesuffix("\r")
    else:
        value = str(typer.prompt(f"Value of {name}", hide_input=True, confirmation_prompt=True))
    if not value:
        raise InvalidInputError("the secret value is empty (pipe it on stdin or type it at the prompt)", field="value")
    return value


@app.command("set")
def set_secret(
    name: str = typer.Argument(..., help="Secret name: letters, digits, _ (usable as an environment variable)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Set a secret; the value comes from stdin or a hidden prompt, never an argument."""
    _check_name(name)
    value = _read_value(name)
    with open_client() as client:
        info = _info_dict(client.secrets.set_secret(name, value))
    if as_json:
        print_json(info)
        return
    note(f"secret {info['name']} set (version {info['version']})")


@app.command("list")
def list_secrets(as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """List secret names and who last set them (never values)."""
    with open_client() as client:
        listed = [_info_dict(i) for i in client.secrets.list_secrets()]
    if as_json:
        print_json({"secrets": listed})
        return
    if not listed:
        note("No secrets.")
        return
    rows = [[i["name"], str(i["version"]), format_time(i["updated_at"]), i["updated_by"]] for i in listed]
    print_table(["NAME", "VERSION", "UPDATED", "BY"], rows)


@app.command("delete")
def delete_secret(name: str = typer.Argument(..., help="Secret name.")) -> None:
    """Delete a secret."""
    _check_name(name)
    with open_client() as client:
        client.secrets.delete_secret(name)
    note(f"secret {name} deleted")


@app.command("keygen")
def keygen() -> None:
    """Print a new random master key (for STEWARD_MASTER_KEY or a 0600 key file)."""
    from steward.governance import generate_master_key

    typer.echo(generate_master_key())
