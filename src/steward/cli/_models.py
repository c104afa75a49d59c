"""``steward models list|show|register|alias|approve|transition|retire|tag|files|download|package``.

Every verb calls the client's registry (:class:`~steward.sdk.RegistryBackend`): the embedded
store, or a server with ``STEWARD_TRACKING_URI=http://...``; the command never knows which.
Commands raise :mod:`steward.errors`; the root group prints one line and exits with the
class's code (3 not found, 4 permission denied, 5 an invalid transition or a conflict,
6 the server is unreachable).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from steward.errors import InvalidInputError

from ._output import echo, print_json, print_table
from ._session import open_client

if TYPE_CHECKING:  # annotations only: the registry stage pulls in pandas
    from steward.registry import ModelVersion
    from steward.sdk import Client, RegistryBackend

app = typer.Typer(name="models", help="Registered models, versions, aliases, approvals and packaging.", no_args_is_help=True)
models_app = app  # the name the scaffolding used
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of tables.")


@contextmanager
def _registry() -> Iterator[tuple[RegistryBackend, Client]]:
    with open_client() as client:
        yield client.registry, client


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
    from steward.registry import model_to_dict

    with _registry() as (reg, _):
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
    from steward.registry import model_to_dict, parse_ref, version_to_dict

    parsed = parse_ref(ref)
    with _registry() as (reg, _):
        if parsed.version is None and parsed.alias is None and parsed.state is None:
            model = reg.get_model(parsed.name)
            versions = reg.list_versions(parsed.name, max_results=10_000).versions
            if as_json:
                print_json({**model_to_dict(model), "versions": [version_to_dict(v) for v in versions]})
                return
            print_table(_HEADERS, _rows(versions), title=f"{model.name} (owner {model.owner})")
            return
        found = reg.resolve(ref)
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
    owner: str | None = typer.Option(None, "--owner", help="The model's owner (a user; default: you)."),
    on_call: str | None = typer.Option(None, "--on-call", help="Whom the model's alerts page."),
) -> None:
    """Register a run's logged model as the next version of NAME."""
    with _registry() as (reg, client):
        v = reg.create_version(name, run_id, artifact_path=artifact_path, project=project or client.settings.project)
    echo(f"registered {v.name}:{v.version}")
    from ._stewardship import set_owner_at_registration

    set_owner_at_registration(v.name, owner, on_call)


@app.command("alias")
def alias(
    ref: str = typer.Argument(..., help="The version: fraud:3."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="champion, challenger, ..."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias instead."),
) -> None:
    """Point ALIAS at a version (moving it from any other in one step), or remove it."""
    from steward.registry import parse_ref

    with _registry() as (reg, _):
        if delete:
            name = parse_ref(ref).name
            reg.delete_alias(name, alias_name)
            echo(f"removed {name}@{alias_name}")
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
    with _registry() as (reg, _):
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
    with _registry() as (reg, _):
        target = reg.resolve(ref)
        v = reg.transition(target.name, target.version, state, comment=comment)
    echo(f"{v.name}:{v.version} is {v.state.value}")


# ``steward models retire`` (refused while serving, --drain, retention) lives in _stewardship.py


@app.command("tag")
def tag(
    ref: str = typer.Argument(..., help="fraud (the model) or fraud:3, fraud@champion (a version)."),
    key: str = typer.Argument(..., help="Tag key."),
    value: str | None = typer.Argument(None, help="Tag value (omit with --delete)."),
    delete: bool = typer.Option(False, "--delete", help="Remove the tag instead."),
) -> None:
    """Set (or with --delete remove) a tag of a model, or of one version."""
    from steward.registry import parse_ref

    if delete == (value is not None):
        raise InvalidInputError("give a VALUE to set the tag, or --delete to remove it (not both)", field="value")
    parsed = parse_ref(ref)
    with _registry() as (reg, _):
        if parsed.version is None and parsed.alias is None and parsed.state is None:
            if value is None:
                reg.delete_model_tag(parsed.name, key)
            else:
                reg.set_model_tag(parsed.name, key, value)
            where = parsed.name
        else:
            v = reg.resolve(ref)
            if value is None:
                reg.delete_version_tag(v.name, v.version, key)
            else:
                reg.set_version_tag(v.name, v.version, key, value)
            where = f"{v.name}:{v.version}"
    echo(f"removed tag {key} of {where}" if value is None else f"tagged {where} {key}={value}")


@app.command("files")
def files(
    ref: str = typer.Argument(..., help="fraud:3, fraud@champion or fraud/production."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the files pinned when a version was registered: path, sha256 and size."""
    with _registry() as (reg, _):
        v = reg.resolve(ref)
        pinned = reg.list_version_files(v.name, v.version)
    if as_json:
        print_json({"model": f"{v.name}:{v.version}", "files": [{"path": f.path, "digest": f.digest, "size": f.size} for f in pinned]})
        return
    print_table(["path", "sha256", "bytes"], [[f.path, f.digest[:12], str(f.size)] for f in pinned], title=f"{v.name}:{v.version}")


@app.command("download")
def download(
    ref: str = typer.Argument(..., help="fraud:3, fraud@champion or fraud/production."),
    out: Path = typer.Option(..., "--out", help="Folder to write the model files into (new or empty)."),  # noqa: B008 - typer idiom
    allow_retired: bool = typer.Option(False, "--allow-retired", help="Download a retired version (audited)."),
) -> None:
    """Write a version's model files into a folder, each checked against its recorded sha256."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInputError(f"{str(out)[:300]!r} exists and is not an empty folder", field="--out")
    import shutil
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    # written next to OUT and moved into place whole: a failed check leaves nothing half-written
    staging = Path(tempfile.mkdtemp(prefix=".steward-download-", dir=out.parent))
    try:
        with _registry() as (reg, _):
            found = reg.resolve_for_use(ref, allow_retired=allow_retired)
            reg.download(found, staging)
        if out.exists():
            out.rmdir()
        staging.replace(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    echo(f"wrote {found.name}:{found.version} to {out}")


@app.command("package")
def package(
    ref: str = typer.Argument(..., help="fraud:3, fraud@champion or fraud/production."),
    out: Path = typer.Option(..., "--out", help="Folder to write (new or empty)."),  # noqa: B008 - typer idiom
    allow_retired: bool = typer.Option(False, "--allow-retired", help="Package a retired version (audited)."),
) -> None:
    """Write a bundle: model files, signature, requirements.txt, MANIFEST.json and a Dockerfile."""
    with _registry() as (reg, _):
        path = reg.package(ref, out, allow_retired=allow_retired)
    echo(f"wrote {path}")
