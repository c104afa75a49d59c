"""``steward models list|show|register|alias|approve|transition|retire|package``.

Commands raise :mod:`steward.errors`; the root group prints one line and exits with the
class's code (3 not found, 5 an invalid transition or a conflict).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from steward.errors import InvalidInputError
from steward.registry import (
    ModelVersion,
    RegistryService,
    model_to_dict,
    parse_ref,
    version_to_dict,
)
from steward.wiring import build_services

from ._output import echo, print_json, print_table
from ._session import load_settings

app = typer.Typer(name="models", help="Registered models, versions, aliases, approvals and packaging.", no_args_is_help=True)
models_app = app  # the name the scaffolding used
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of tables.")


@contextmanager
def _registry() -> Iterator[RegistryService]:
    settings = load_settings()
    if settings.is_remote():
        raise InvalidInputError(
            "steward models works on the embedded store for now; use the REST API /api/v1/models against a server",
            field="tracking_uri",
        )
    services = build_services(settings)
    try:
        yield services.registry()
    finally:
        services.close()


def _rows(versions: list[ModelVersion]) -> list[list[str]]:
    return [
        [f"{v.name}:{v.version}", v.state.value, v.flavor, ",".join(v.aliases), v.run_id, str(len(v.approvals))]
        for v in versions
    ]


_HEADERS = ["version", "state", "flavor", "aliases", "run", "approvals"]


@app.command("list")
def list_models(
    prefix: str | None = typer.Option(None, "--prefix", help="Only names starting with this."),
    max_results: int = typer.Option(100, "--max-results", "-n", min=1, max=10_000, help="At most this many models."),
    page_token: str | None = typer.Option(None, "--page-token", help="Continue a previous listing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List registered models."""
    with _registry() as reg:
        page = reg.list_models(name_prefix=prefix, max_results=max_results, page_token=page_token)
    if as_json:
        print_json({"models": [model_to_dict(m) for m in page.models], "next_page_token": page.next_page_token})
        return
    print_table(
        ["name", "latest", "owner", "aliases"],
        [[m.name, str(m.latest_version), m.owner, ", ".join(f"{a}->{v}" for a, v in sorted(m.aliases.items()))] for m in page.models],
    )


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="fraud (all versions), fraud:3, fraud@champion or fraud/production."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a model with its versions, or one version."""
    parsed = parse_ref(ref)
    with _registry() as reg:
        if parsed.version is None and parsed.alias is None and parsed.state is None:
            model = reg.get_model(parsed.name)
            versions = reg.list_versions(parsed.name, max_results=10_000).versions
            if as_json:
                print_json({**model_to_dict(model), "versions": [version_to_dict(v) for v in versions]})
                return
            print_table(_HEADERS, _rows(versions), title=f"{model.name} (owner {model.owner})")
            return
        found = reg.resolve(parsed)
    if as_json:
        print_json(version_to_dict(found))
        return
    print_table(_HEADERS, _rows([found]))


@app.command("register")
def register(
    name: str = typer.Argument(..., help="Model name."),
    run_id: str = typer.Option(..., "--run", help="Run that logged the model."),
    artifact_path: str | None = typer.Option(None, "--path", help="Where in the run (default models/<name>)."),
    project: str | None = typer.Option(
        None, "--project", help="Project of a new model (default: STEWARD_PROJECT, else its name)."
    ),
) -> None:
    """Register a run's logged model as the next version of NAME."""
    with _registry() as reg:
        v = reg.create_version(name, run_id, artifact_path=artifact_path, project=project or load_settings().project)
    echo(f"registered {v.name}:{v.version}")


@app.command("alias")
def alias(
    ref: str = typer.Argument(..., help="The version: fraud:3."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="champion, challenger, ..."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias instead."),
) -> None:
    """Point ALIAS at a version (moving it from any other in one step), or remove it."""
    with _registry() as reg:
        if delete:
            reg.delete_alias(parse_ref(ref).name, alias_name)
            echo(f"removed {parse_ref(ref).name}@{alias_name}")
            return
        v = reg.resolve(ref)
        reg.set_alias(v.name, alias_name, v.version)
    echo(f"{v.name}@{alias_name} -> {v.version}")


@app.command("approve")
def approve(
    ref: str = typer.Argument(..., help="The version: fraud:3."),
    comment: str = typer.Option(..., "--comment", "-m", help="Why it is approved."),
) -> None:
    """Record your approval of a version (a candidate becomes approved)."""
    with _registry() as reg:
        target = reg.resolve(ref)
        v = reg.approve(target.name, target.version, comment=comment)
    echo(f"{v.name}:{v.version} is {v.state.value} ({len(v.approvals)} approvals)")


@app.command("transition")
def transition(
    ref: str = typer.Argument(..., help="The version: fraud:3."),
    state: str = typer.Argument(..., help="candidate, approved, production, deprecated or retired."),
    comment: str = typer.Option("", "--comment", "-m", help="Why."),
) -> None:
    """Move a version to another lifecycle state (exit 5 when the lifecycle forbids it)."""
    with _registry() as reg:
        target = reg.resolve(ref)
        v = reg.transition(target.name, target.version, state, comment=comment)
    echo(f"{v.name}:{v.version} is {v.state.value}")


@app.command("retire")
def retire(
    ref: str = typer.Argument(..., help="The version: fraud:3."),
    comment: str = typer.Option("", "--comment", "-m", help="Why."),
) -> None:
    """Retire a version: it can no longer be deployed."""
    with _registry() as reg:
        target = reg.resolve(ref)
        v = reg.retire(target.name, target.version, comment=comment)
    echo(f"{v.name}:{v.version} is {v.state.value}")


@app.command("package")
def package(
    ref: str = typer.Argument(..., help="fraud:3, fraud@champion or fraud/production."),
    out: Path = typer.Option(..., "--out", help="Folder to write (new or empty)."),  # noqa: B008 - typer idiom
    allow_retired: bool = typer.Option(False, "--allow-retired", help="Package a retired version (audited)."),
) -> None:
    """Write a bundle: model files, signature, requirements.txt, MANIFEST.json and a Dockerfile."""
    with _registry() as reg:
        path = reg.package(ref, out, allow_retired=allow_retired)
    echo(f"wrote {path}")
