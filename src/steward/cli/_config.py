"""``steward config show``: the effective settings, secrets masked."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import SecretStr

from steward.settings import Settings

from ._output import blank_line, print_json, print_table
from ._session import load_settings, mask_url

app = typer.Typer(name="config", help="Inspect the effective configuration.", no_args_is_help=True)

MASK = "********"


def shown_value(value: object) -> str | int | float | bool | None:
    """A setting as it may be displayed: secrets masked, passwords in URLs hidden."""
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return mask_url(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def _effective(settings: Settings) -> dict[str, str]:
    mode = f"server at {mask_url(str(settings.tracking_uri))}" if settings.is_remote() else "embedded"
    return {
        "mode": mode,
        "home": str(settings.resolved_home().resolve()),
        "database_url": mask_url(settings.resolved_database_url()),
        "artifact_root": mask_url(settings.resolved_artifact_root()),
    }


@app.command("show")
def show_config(as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Show every setting, its environment variable, value and source (env or default)."""
    settings = load_settings()
    rows: list[dict[str, object]] = []
    for name in Settings.model_fields:
        rows.append(
            {
                "name": name,
                "env": f"STEWARD_{name.upper()}",
                "value": shown_value(getattr(settings, name)),
                "source": "env" if name in settings.model_fields_set else "default",
            }
        )
    effective = _effective(settings)
    if as_json:
        print_json({"settings": rows, "effective": effective})
        return
    print_table(
        ["SETTING", "VALUE", "SOURCE"],
        [[str(r["env"]), "" if r["value"] is None else str(r["value"]), str(r["source"])] for r in rows],
        title="Settings",
    )
    blank_line()
    print_table(["FIELD", "VALUE"], [[k, v] for k, v in effective.items()], title="Effective", show_header=False)
