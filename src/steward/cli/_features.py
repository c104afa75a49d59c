"""``steward features apply|list|show|materialize``: the feature store.

Each command works on the embedded store or, with ``STEWARD_TRACKING_URI=http://...``,
against the server's ``/api/v1/features`` routes (a definition file is read here and sent
one view at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import typer

from steward.features import FeatureService, load_definitions
from steward.sdk import HttpBackend

from ._output import echo, note, print_json, print_table
from ._session import load_settings, run_local_or_remote
from ._time import format_time, parse_since

app = typer.Typer(name="features", help="Feature store: definitions, materialisation, online values.", no_args_is_help=True)

T = TypeVar("T")
JSON = dict[str, Any]  # Any: JSON values


def _run(local: Callable[[FeatureService], T], remote: Callable[[HttpBackend], T]) -> T:
    return run_local_or_remote(lambda services: services.features, local, remote)


def _api(backend: HttpBackend, method: str, path: str, **kwargs: Any) -> Any:  # Any: JSON
    # the SDK's one request path: the same error mapping as every other command
    return backend._call(method, "/features" + path, **kwargs)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


@app.command("apply")
def apply(
    path: str = typer.Argument(..., help="YAML (entities:, feature_views:) or Python file defining FeatureView objects."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would change."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Register feature views with versions and show what changed. Exit 5 when a change would
    break a registered model's signature (the model is named)."""
    views = load_definitions(path)
    project = load_settings().project

    def remote(backend: HttpBackend) -> JSON:
        merged: JSON = {"changes": [], "applied": [], "unchanged": [], "dry_run": dry_run}
        for view in views:
            body = {**view.to_dict(), "dry_run": dry_run}
            if project:
                body["project"] = project
            answer = _api(backend, "POST", "/views", body=body)
            for key in ("changes", "applied", "unchanged"):
                merged[key] += answer[key]
        return merged

    result: JSON = _run(lambda s: s.apply(views, project=project, dry_run=dry_run).to_dict(), remote)
    if as_json:
        print_json(result)
        return
    for change in result["changes"]:
        if change["change"] == "changed":
            echo(f"~ {change['view']}.{change['path']}: {change['old']} -> {change['new']}")
        else:
            sign = "+" if change["change"] == "added" else "-"
            echo(f"{sign} {change['view']}.{change['path']}")
    for applied in result["applied"]:
        note(f"feature view {applied['name']} version {applied['version']} (project {applied['project']})")
    for name in result["unchanged"]:
        note(f"feature view {name} unchanged")
    if dry_run:
        note("dry run: nothing was registered")


@app.command("list")
def list_views(as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """List feature views: version, project, features, TTL and freshness (age of the newest online value)."""

    def local(svc: FeatureService) -> list[JSON]:
        fresh = {f["view"]: f["age_s"] for f in svc.freshness()}
        return [{**s.to_dict(), "freshness_s": fresh.get(s.view.name)} for s in svc.list_views()]

    views: list[JSON] = _run(local, lambda b: list(_api(b, "GET", "/views")["views"]))
    if as_json:
        print_json({"views": views})
        return
    if not views:
        note("No feature views.")
        return
    rows = [
        [v["name"], str(v["version"]), v["project"], str(len(v["features"])), v["ttl"] or "-", _age(v["freshness_s"])]
        for v in views
    ]
    print_table(["NAME", "VERSION", "PROJECT", "FEATURES", "TTL", "FRESHNESS"], rows)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Feature view name."),
    version: int | None = typer.Option(None, "--version", min=1, help="A version (default: the latest)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show a feature view's definition and materialisation state."""
    view: JSON = _run(
        lambda s: s.get_view(name, version).to_dict(),
        lambda b: dict(_api(b, "GET", f"/views/{quote(name, safe='')}", params={"version": version} if version else None)),
    )
    if as_json:
        print_json(view)
        return
    source = view["source"]
    echo(f"{view['name']} version {view['version']} (project {view['project']})")
    echo(f"  entities: {', '.join(e['name'] + '(' + ', '.join(e['join_keys']) + ')' for e in view['entities'])}")
    echo(f"  source: {source['kind']} {source['location']} (event time {source['event_time']})")
    echo(f"  ttl: {view['ttl'] or '-'}  owner: {view['owner'] or '-'}")
    echo(f"  materialised until: {format_time(view['materialized_until'])}  newest value: {format_time(view['newest_value_at'])}")
    print_table(["FEATURE", "TYPE", "DESCRIPTION"], [[f["name"], f["dtype"], f["description"]] for f in view["features"]])


@app.command("materialize")
def materialize(
    views: list[str] | None = typer.Argument(None, help="Feature views (default: every view)."),  # noqa: B008 - typer reads it
    start: str | None = typer.Option(None, "--start", help="ISO-8601 time or a duration ago (7d); default: the beginning."),
    end: str | None = typer.Option(None, "--end", help="ISO-8601 time or a duration ago; default: now."),
    incremental: bool = typer.Option(False, "--incremental", help="Start where the last materialisation of each view ended."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Write the latest values with start <= event time < end to the online store."""
    start_ms = None if start is None else parse_since(start, field="start")
    end_ms = None if end is None else parse_since(end, field="end")

    def remote(backend: HttpBackend) -> list[JSON]:
        names = views or [v["name"] for v in _api(backend, "GET", "/views")["views"]]
        body = {"start_ms": start_ms, "end_ms": end_ms, "incremental": incremental}
        return [r for n in names for r in _api(backend, "POST", f"/views/{quote(n, safe='')}/materialize", body=body)["results"]]

    done: list[JSON] = _run(
        lambda s: [r.to_dict() for r in s.materialize(views or None, start_ms=start_ms, end_ms=end_ms, incremental=incremental)],
        remote,
    )
    if as_json:
        print_json({"results": done})
        return
    rows = [
        [r["view"], format_time(r["start"]), format_time(r["end"]), str(r["entities"]), str(r["written"]), format_time(r["newest_value_at"])]
        for r in done
    ]
    print_table(["VIEW", "START", "END", "ENTITIES", "WRITTEN", "NEWEST"], rows)
