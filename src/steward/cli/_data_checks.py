"""``steward data infer|validate|skew|suites`` and ``steward check FILE``: validation suites."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from steward.errors import InvalidInputError, NotFoundError

from ._output import echo, note, print_json, print_table
from ._session import open_client
from ._time import format_time

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")

if TYPE_CHECKING:
    from steward.sdk import Client, ValidationBackend


@contextmanager
def open_validation() -> Iterator[ValidationBackend]:
    """Suites and validation on the embedded store or the configured server, closed afterwards.

    Against a server, files on this machine are read and checked here and suites come from
    (and go to) the server; see ``steward.sdk._http_data``.
    """
    with open_client() as client:
        yield client.validation


def _write(path: Path, text: str, what: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write the {what} to {str(path)[:300]!r}: {exc.strerror}", field=str(path)) from exc


def _profile_of(client: Client, source: str) -> dict[str, Any] | None:  # Any: the profile's JSON
    """The profile of what was validated: a stored version's own, or a local file's, computed here."""
    if not Path(source).exists():
        try:
            return dict(client.data.get(source).profile) or None
        except (NotFoundError, InvalidInputError):
            return None  # validation read it, so this is a race with a deletion: no charts
    import polars as pl

    from steward.data import profile
    from steward.data._loading import read_table

    frame = pl.from_arrow(read_table(source))
    return profile(frame if isinstance(frame, pl.DataFrame) else frame.to_frame())


def check_file(
    file: Path = typer.Argument(..., help="A validation suite, rollout policy or alert rules YAML file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a suite file against its JSON Schema; every fault names its line. Exit 1 on faults."""
    from steward.data._suite import suite_faults

    if not file.is_file():
        raise NotFoundError(f"no file at {str(file)[:300]!r}", field="file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {str(file)[:300]!r}: {exc}", field="file") from exc
    from steward.monitoring._alert_rules import alert_rules_faults, is_alert_rules
    from steward.serving._rollout_policy import is_rollout_policy, rollout_policy_faults

    # a rollout policy (a mapping with `steps`) and alert rules (with `rules`) have their own schemas
    kind = "rollout policy" if is_rollout_policy(text) else "alert rules" if is_alert_rules(text) else "validation suite"
    from steward.pipelines._project import is_project_file, project_faults

    if is_project_file(file, text):  # steward.yaml: its pipelines: section
        kind = "project file"
    faults = {"rollout policy": rollout_policy_faults, "alert rules": alert_rules_faults, "project file": project_faults}.get(
        kind, suite_faults
    )(text)
    if as_json:
        print_json({"file": str(file), "valid": not faults, "errors": [{"line": ln, "message": m} for ln, m in faults]})
    elif not faults:
        echo(f"{file}: valid {kind}")
    for line, message in faults if not as_json else []:
        echo(f"{file}:{line}: {message}", err=True)
    if faults:
        raise typer.Exit(1)


def register(data_app: typer.Typer) -> None:
    """Add this module's commands to steward data."""
    suites_app = typer.Typer(help="Stored validation suites.", no_args_is_help=True)
    data_app.add_typer(suites_app, name="suites")

    @data_app.command("infer")
    def infer(
        source: str = typer.Argument(..., help="Dataset version (name:3, datasets:/name/3) or a Parquet/CSV file."),
        name: str = typer.Option(..., "--name", help="Suite name."),
        out: Path | None = typer.Option(None, "--out", help="Also write the suite YAML here."),
        no_store: bool = typer.Option(False, "--no-store", help="Only write the YAML; do not store the suite."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Infer a validation suite from reference data; store it and/or write its YAML to edit."""
        if no_store and out is None:
            raise InvalidInputError("--no-store needs --out (otherwise the suite goes nowhere)", field="--out")
        with open_validation() as validation:
            suite = validation.infer(source, name, store=not no_store)
        if out is not None:
            _write(out, suite.to_yaml(), "suite")
        if as_json:
            print_json({"name": suite.name, "version": suite.version, "ref": suite.ref, "checks": len(suite.checks), "yaml": suite.to_yaml()})
            return
        where = f"stored as {suite.ref}" if suite.ref else "not stored"
        echo(f"inferred suite {suite.name!r} with {len(suite.checks)} checks, {where}" + (f"; written to {out}" if out else ""))

    @suites_app.command("list")
    def list_suites(
        name: str | None = typer.Option(None, "--name", help="Only versions of this suite."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """List stored suite versions."""
        with open_validation() as validation:
            records = validation.list_suites(name)
        if as_json:
            print_json([{k: v for k, v in r.to_dict().items() if k != "yaml"} for r in records])
            return
        if not records:
            note("no validation suites stored")
            return
        print_table(
            ["suite", "version", "hash", "created", "by"],
            [[r.name, str(r.version), r.content_hash[:12], format_time(r.created_at), r.created_by] for r in records],
        )

    @suites_app.command("show")
    def show_suite(
        ref: str = typer.Argument(..., help="name (latest), name:3 or suites:/name/3."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Print a stored suite's YAML."""
        with open_validation() as validation:
            record = validation.get_suite_record(ref)
        if as_json:
            print_json(record.to_dict())
            return
        note(f"# {record.ref} ({record.content_hash[:12]}) by {record.created_by}, {format_time(record.created_at)}")
        echo(record.yaml.rstrip())

    @data_app.command("validate")
    def validate_cmd(
        source: str = typer.Argument(..., help="Dataset version (name:3, datasets:/name/3) or a Parquet/CSV file."),
        suite: str = typer.Option(..., "--suite", help="Stored suite (name, name:3) or a suite YAML file."),
        as_json: bool = JSON_OPTION,
        html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report here."),
        out: Path | None = typer.Option(None, "--out", help="Write the JSON result here."),
        examples: int | None = typer.Option(None, "--examples", min=0, max=1000, help="Example values per failed check."),
    ) -> None:
        """Validate data with a suite; exit 1 when an error-severity check fails."""
        with open_client() as client:
            result = client.validation.validate(source, suite, examples=examples)
            # the profile draws each column's histogram (with the expected range) in the report
            profile = _profile_of(client, source) if html is not None else None
        if out is not None:
            _write(out, result.to_json(), "result")
        if html is not None:
            _write(html, result.to_html(profile), "HTML report")
        if as_json:
            print_json(result.to_dict())
        else:
            failed = [not c.passed for c in result.checks]
            print_table(
                ["status", "severity", "check", "column", "observed", "expected", "examples"],
                result.table_rows(),
                title=f"{result.dataset} × {result.suite}: {result.num_rows:,} rows",
                marked=failed,
            )
            s = result.summary()
            verdict = "PASSED" if result.passed else "FAILED"
            echo(
                f"{verdict}: {s['passed']}/{s['checks']} checks passed, {s['failed_errors']} errors, "
                f"{s['failed_warnings']} warnings ({result.duration_s:.2f} s)"
            )
        if not result.passed:
            raise typer.Exit(1)

    @data_app.command("skew")
    def skew_cmd(
        reference: str = typer.Option(..., "--reference", help="Training data: dataset version or file."),
        current: str = typer.Option(..., "--current", help="Data to compare: file or dataset version."),
        suite: str | None = typer.Option(None, "--suite", help="Also validate the current data with this suite."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Compare current data with training data feature by feature; exit 1 on drift or a failed check."""
        with open_validation() as validation:
            result = validation.skew(reference, current, suite)
        if as_json:
            print_json(result.to_dict())
        else:
            rows = [
                [
                    f.column,
                    f.kind,
                    "" if f.psi is None else f"{f.psi:.4f}",
                    "" if f.js is None else f"{f.js:.4f}",
                    f.test or "",
                    "" if f.p_value is None else f"{f.p_value:.3g}",
                    "DRIFT" if f.drifted else (f.note or "ok"),
                ]
                for f in result.features
            ]
            print_table(
                ["feature", "kind", "psi", "js", "test", "p-value", "status"],
                rows,
                title=f"{result.current} vs {result.reference} (PSI threshold {result.threshold})",
                marked=[f.drifted for f in result.features],
            )
            if result.validation is not None:
                v = result.validation
                echo(f"validation: {'PASSED' if v.passed else 'FAILED'} ({v.summary()['failed_errors']} errors)")
                for c in v.failures:
                    echo(f"  {c.severity}: {c.name} {c.column or ''}: {c.message}")
            echo(f"{len(result.drifted)} of {len(result.features)} features drifted")
        if not result.passed:
            raise typer.Exit(1)
