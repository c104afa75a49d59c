"""``steward data register|list|show|diff|lineage``: dataset versions and their lineage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ._output import blank_line, echo, note, print_json, print_table
from ._session import open_client
from ._time import format_time

if TYPE_CHECKING:
    # steward.data pulls in polars and scipy: loaded when a data command runs, not for
    # every `steward ...` invocation
    from steward.data import DatasetVersion
    from steward.sdk import DataBackend

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


@contextmanager
def open_data() -> Iterator[DataBackend]:
    """Dataset versions on the embedded store or the configured server (the command does
    not know which), closed afterwards."""
    with open_client() as client:
        yield client.data


def _fmt(value: Any) -> str:  # Any: a JSON scalar from a profile
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _version_row(v: DatasetVersion) -> list[str]:
    return [v.ref, v.short_hash, f"{v.num_rows:,}", str(v.num_columns), v.storage, format_time(v.created_at), v.created_by]


def register(data_app: typer.Typer) -> None:
    """Add this module's commands to steward data."""

    @data_app.command("register")
    def register_version(
        name: str = typer.Argument(..., help="Dataset name."),
        source: Path = typer.Argument(..., help="Parquet or CSV file, or a folder of them."),
        reference_only: bool = typer.Option(
            False, "--reference-only", help="Record hash, schema and profile; leave the data where it is."
        ),
        description: str | None = typer.Option(None, "--description", help="Free text."),
        project: str | None = typer.Option(
            None, "--project", help="Project of a new dataset (default: STEWARD_PROJECT, else its name)."
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Register a file or folder as the next version of a dataset (same content: same version)."""
        with open_client() as client:
            started = int(time.time() * 1000)
            version = client.data.register(
                name, source, reference_only=reference_only, description=description,
                project=project or client.settings.project,
            )
        if as_json:
            print_json(version.to_dict())
            return
        seen = "already registered as" if version.created_at < started else "registered"
        echo(f"{seen} {version.ref} ({version.short_hash}): {version.num_rows:,} rows x {version.num_columns} columns")
        for warning in _warnings(version):
            note(f"warning: {warning}")

    @data_app.command("list")
    def list_versions(
        name: str | None = typer.Argument(None, help="Dataset name: list its versions."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """List datasets, or the versions of one dataset."""
        with open_data() as data:
            if name is None:
                summaries = data.list_datasets()
                if as_json:
                    print_json(
                        {
                            "datasets": [
                                {
                                    "name": s.name,
                                    "latest_version": s.latest_version,
                                    "num_versions": s.num_versions,
                                    "description": s.description,
                                    "created_at": s.created_at,
                                    "created_by": s.created_by,
                                }
                                for s in summaries
                            ]
                        }
                    )
                    return
                if not summaries:
                    note("No datasets yet; `steward data register NAME FILE` makes one.")
                    return
                print_table(
                    ["NAME", "LATEST", "VERSIONS", "CREATED"],
                    [[s.name, str(s.latest_version), str(s.num_versions), format_time(s.created_at)] for s in summaries],
                )
                return
            versions = data.list(name)
        if as_json:
            print_json({"versions": [_summary(v) for v in versions]})
            return
        print_table(["REF", "HASH", "ROWS", "COLS", "STORAGE", "CREATED", "BY"], [_version_row(v) for v in versions])

    @data_app.command("show")
    def show_version(
        ref: str = typer.Argument(..., help="datasets:/name/3, name:3, name (latest), name@hash or a hash prefix."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Show a version: schema, row count, storage and the profile of every column."""
        with open_data() as data:
            v = data.get(ref)
        if as_json:
            print_json(v.to_dict())
            return
        print_table(
            ["", ""],
            [
                ["ref", v.ref],
                ["content hash", v.content_hash],
                ["rows", f"{v.num_rows:,}"],
                ["columns", str(v.num_columns)],
                ["storage", v.storage],
                ["location", v.artifact_uri],
                ["source", v.source],
                ["created", f"{format_time(v.created_at)} by {v.created_by}"],
                ["description", v.description or ""],
            ],
            show_header=False,
        )
        blank_line()
        columns: dict[str, Any] = v.profile.get("columns", {})  # type: ignore[assignment]
        rows = []
        for c in v.schema:
            p = columns.get(c.name, {})
            top = ", ".join(f"{t['value']} ({t['share']:.0%})" for t in p.get("top", [])[:3])
            q = p.get("quantiles", {})
            rows.append(
                [
                    c.name,
                    c.type,
                    f"{p.get('missing_share', 0):.1%}",
                    _fmt(p.get("distinct")),
                    _fmt(p.get("min")),
                    _fmt(q.get("p50")) if q else "",
                    _fmt(p.get("max")),
                    _fmt(p.get("mean")),
                    top,
                ]
            )
        print_table(["COLUMN", "TYPE", "MISSING", "DISTINCT", "MIN", "MEDIAN", "MAX", "MEAN", "TOP"], rows)
        for warning in _warnings(v):
            note(f"warning: {warning}")

    @data_app.command("diff")
    def diff_versions(
        a: str = typer.Argument(..., help="The older version."),
        b: str = typer.Argument(..., help="The newer version."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Compare two versions: schema changes, row count, per-column distribution distance."""
        with open_data() as data:
            d = data.diff(a, b)
        if as_json:
            print_json(d.to_dict())
            return
        change = f"{d.row_change:+,}"
        echo(f"{d.a.ref} ({d.a.short_hash}) -> {d.b.ref} ({d.b.short_hash})")
        echo(f"rows: {d.a.num_rows:,} -> {d.b.num_rows:,} ({change})")
        if d.same_content:
            echo("same content")
        for n, t in d.added_columns:
            echo(f"+ column {n} ({t})")
        for n, t in d.removed_columns:
            echo(f"- column {n} ({t})")
        for c in d.type_changes:
            echo(f"~ column {c.name}: {c.type_a} -> {c.type_b}")
        blank_line()
        print_table(
            ["COLUMN", "MISSING A", "MISSING B", "PSI", "JS", "WASSERSTEIN"],
            [
                [
                    c.name,
                    f"{c.missing_share_a:.1%}",
                    f"{c.missing_share_b:.1%}",
                    _fmt(c.distances.get("psi")),
                    _fmt(c.distances.get("js")),
                    _fmt(c.distances.get("wasserstein")),
                ]
                for c in d.columns
            ],
            marked=[c.type_changed or c.distances.get("psi", 0.0) > 0.1 for c in d.columns],
        )

    @data_app.command("lineage")
    def lineage(
        ref: str = typer.Argument(..., help="The dataset version."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Show the runs (and models) that used a dataset version."""
        with open_data() as data:
            found = data.lineage(ref)
        if as_json:
            print_json(found.to_dict())
            return
        echo(f"{found.version.ref} ({found.version.short_hash})")
        if not found.runs:
            note("No run has logged this version as an input yet.")
            return
        print_table(
            ["RUN", "NAME", "ROLE", "STATUS", "STARTED"],
            [[u.run_id, u.run_name, u.role, u.status, format_time(u.start_time)] for u in found.runs],
        )


def _warnings(v: DatasetVersion) -> list[str]:
    found = v.profile.get("warnings")
    return [str(w) for w in found] if isinstance(found, list) else []


def _summary(v: DatasetVersion) -> dict[str, object]:
    full = v.to_dict()
    full.pop("profile")
    return full
