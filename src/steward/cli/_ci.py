"""``steward ci validate-data|gate|package|deploy``: the CI/CD steps of a model's pipeline.

Each verb calls the service a person would (validation, gates, packaging, deployments),
exits with a code CI understands and appends a Markdown summary to ``--summary FILE``
(default: ``$GITHUB_STEP_SUMMARY``, which GitHub Actions shows on the run's page; post the
same file on a pull request with ``gh pr comment --body-file``):

    0  passed (data valid, gates passed, bundle written, deployed)
    1  a check failed (a failing validation check of error severity, a failed gate)
    2  usage error   3 not found   4 permission denied   6 store or server unreachable
    5  conflict; for ``ci deploy``: the version is waiting for approval (nothing deployed)

Against a server (``STEWARD_TRACKING_URI``, ``STEWARD_TOKEN``) every verb calls its REST API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import typer

from steward.errors import ConflictError, InvalidInputError, NotFoundError, StewardError

from ._output import echo, print_json
from ._session import open_client, run_local_or_remote

if TYPE_CHECKING:
    from steward.sdk import HttpBackend
    from steward.serving._deployments import DeploymentService

app = typer.Typer(name="ci", help="CI/CD steps with exit codes and a Markdown summary: validate data, gate, package, deploy.", no_args_is_help=True)

T = TypeVar("T")
JSON = dict[str, Any]  # Any: JSON values
WAITING_FOR_APPROVAL = ConflictError.exit_code  # 5: a conflict with the approval policy, nothing deployed
_APPROVED_STATES = frozenset({"approved", "production", "deprecated"})  # deprecated: a rollback target, once approved

SUMMARY_OPTION = typer.Option(
    None, "--summary", envvar="GITHUB_STEP_SUMMARY", show_envvar=False,
    help="Append a Markdown summary to this file (default: $GITHUB_STEP_SUMMARY when set).",
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _cell(value: object, width: int = 120) -> str:
    """One Markdown table cell: no pipes or newlines to break the table, bounded length."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _write_summary(path: Path | None, markdown: str) -> None:
    if path is None:
        return
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(markdown.rstrip() + "\n\n")
    except OSError as exc:
        raise InvalidInputError(f"cannot write the summary to {str(path)[:300]!r}: {exc.strerror}", field="--summary") from exc


@contextmanager
def _summarised(path: Path | None, step: str) -> Iterator[None]:
    """On an error, the summary says which step failed and why before the error's exit code."""
    try:
        yield
    except StewardError as exc:
        _write_summary(path, f"### :x: {step}: error\n\n`{exc.code}` (exit {exc.exit_code}): {_cell(exc.message, 500)}")
        raise


@app.command("validate-data")
def validate_data(
    source: str = typer.Argument(..., help="Dataset version (transactions:3) or a Parquet/CSV file."),
    suite: str = typer.Option(..., "--suite", help="Stored suite (name, name:3) or a suite YAML file."),
    summary: Path | None = SUMMARY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate data with a suite; exit 1 when a check of error severity fails."""
    with _summarised(summary, "Data validation"), open_client() as client:
        result = client.validation.validate(source, suite)
    s = result.summary()
    icon = ":white_check_mark:" if result.passed else ":x:"
    verdict = "passed" if result.passed else "failed"
    lines = [
        f"### {icon} Data validation {verdict}: `{_cell(result.dataset)}` with suite `{_cell(result.suite)}`",
        "",
        f"{result.num_rows:,} rows; {s['passed']}/{s['checks']} checks passed, {s['failed_errors']} errors, {s['failed_warnings']} warnings.",
    ]
    failing = [row for row, check in zip(result.table_rows(), result.checks, strict=True) if not check.passed]
    if failing:
        lines += ["", _table(["status", "severity", "check", "column", "observed", "expected", "examples"], failing)]
    _write_summary(summary, "\n".join(lines))
    if as_json:
        print_json(result.to_dict())
    else:
        echo(f"{verdict.upper()}: {s['passed']}/{s['checks']} checks passed, {s['failed_errors']} errors, {s['failed_warnings']} warnings")
    if not result.passed:
        raise typer.Exit(1)


@app.command("gate")
def gate(
    ref: str = typer.Argument(..., help="The candidate version: fraud:4, fraud@latest."),
    policy: Path = typer.Option(..., "--policy", help="Gate policy YAML."),  # noqa: B008
    data: str = typer.Option(..., "--data", help="Dataset version (or file) both models are evaluated on."),
    target: str = typer.Option(..., "--target", help="Column of true labels or values."),
    task: str | None = typer.Option(None, "--task", help="classification or regression (default: inferred)."),
    trusted: bool = typer.Option(False, "--trusted", help="Allow model files that can run code when read (pickle)."),
    summary: Path | None = SUMMARY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Gate the candidate against the champion on the same data; exit 1 when a gate fails."""
    with _summarised(summary, "Evaluation gates"):
        if task not in (None, "classification", "regression"):
            raise InvalidInputError("--task must be classification or regression", field="--task")
        if not policy.is_file():
            raise NotFoundError(f"no policy file at {str(policy)[:300]!r}", field="--policy")
        try:
            text = policy.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"cannot read {str(policy)[:300]!r}", field="--policy") from exc
        with open_client() as client:
            record = client.evaluation.gate(ref, data, text, target=target, task=task, slices=(), trusted=trusted)
    icon = ":white_check_mark:" if record.passed else ":x:"
    verdict = "passed" if record.passed else "failed"
    against = f" against champion `{record.name}:{record.champion_version}`" if record.champion_version else " (no champion yet)"
    rows = [
        ["pass" if c.passed else "**FAIL**", c.gate, _fmt(c.observed), _fmt(c.threshold), c.detail] for c in record.checks
    ]
    markdown = "\n".join([
        f"### {icon} Gates {verdict}: `{record.name}:{record.version}` on `{_cell(record.dataset_ref)}`{against}",
        "",
        _table(["result", "gate", "observed", "threshold", "detail"], rows),
    ])
    _write_summary(summary, markdown)
    if as_json:
        print_json(record.to_dict())
    else:
        echo(f"gates {verdict.upper()} for {record.name}:{record.version} ({sum(c.passed for c in record.checks)}/{len(record.checks)} passed)")
    if not record.passed:
        raise typer.Exit(1)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


@app.command("package")
def package(
    ref: str = typer.Argument(..., help="fraud:3, fraud@champion, fraud@latest."),
    out: Path = typer.Option(..., "--out", help="Folder to write (new or empty)."),  # noqa: B008
    summary: Path | None = SUMMARY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the version's bundle (model files, signature, requirements, MANIFEST.json, Dockerfile)."""
    with _summarised(summary, "Packaging"), open_client() as client:
        found = client.registry.resolve(ref)
        path = client.registry.package(f"{found.name}:{found.version}", out)
    files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    size = sum((path / f).stat().st_size for f in files)
    markdown = "\n".join([
        f"### :package: Packaged `{found.name}:{found.version}` ({found.state.value})",
        "",
        f"{len(files)} files, {size:,} bytes in `{_cell(path)}`; build it with `docker build {_cell(path)}`.",
    ])
    _write_summary(summary, markdown)
    document = {"name": found.name, "version": found.version, "path": str(path), "files": files, "bytes": size}
    if as_json:
        print_json(document)
    else:
        echo(f"wrote {found.name}:{found.version} to {path} ({len(files)} files)")


def _deployments(local: Callable[[DeploymentService], T], remote: Callable[[HttpBackend], T]) -> T:
    return run_local_or_remote(lambda services: services.deployments, local, remote)


def _deploy(name: str, model: str, reason: str) -> tuple[str, JSON]:
    """Create the deployment serving ``model``, or switch an existing one to it (blue-green)."""
    path = f"/deployments/{quote(name, safe='')}"

    def local(s: DeploymentService) -> tuple[str, JSON]:
        try:
            s.get_deployment(name)
        except NotFoundError:
            return "created", s.create_deployment(name, model, reason=reason).to_dict()
        return "switched", s.switch(name, model, reason=reason).to_dict()

    def remote(b: HttpBackend) -> tuple[str, JSON]:
        try:
            b._call("GET", path)
        except NotFoundError:
            return "created", dict(b._call("POST", "/deployments", body={"name": name, "model": model, "reason": reason}))
        return "switched", dict(b._call("POST", f"{path}/switch", body={"model": model, "reason": reason}))

    return _deployments(local, remote)


@app.command("deploy")
def deploy(
    name: str = typer.Argument(..., help="Deployment name: created when missing, switched (blue-green) otherwise."),
    model: str = typer.Option(..., "--model", "-m", help="The version: fraud:5, fraud@latest, fraud@champion."),
    reason: str = typer.Option("", "--reason", help="Why (recorded in the history and the audit trail); default: the CI run."),
    summary: Path | None = SUMMARY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Deploy a version only once it is approved; exit 5 (nothing deployed) while it waits for approval."""
    from steward.serving import check_deployment_name

    with _summarised(summary, "Deployment"):
        check_deployment_name(name)
        with open_client() as client:
            found = client.registry.resolve(model)
        pinned = f"{found.name}:{found.version}"  # an alias moving meanwhile does not change what ships
        state = found.state.value
        if state == "retired":
            raise ConflictError(f"{pinned} is retired; it can no longer be deployed", field="model")
        if state not in _APPROVED_STATES:
            _write_summary(summary, "\n".join([
                f"### :hourglass: `{pinned}` is waiting for approval",
                "",
                (f"It is `{state}`. A reviewer approves it with `steward models approve {pinned} --comment ...`; "
                 f"re-run this job then to deploy it to `{name}`."),
            ]))
            if as_json:
                print_json({"deployment": name, "model": pinned, "state": state, "deployed": False, "waiting_for_approval": True})
            echo(f"{pinned} is {state}: waiting for approval, nothing deployed", err=True)
            raise typer.Exit(WAITING_FOR_APPROVAL)
        how, document = _deploy(name, pinned, reason or f"steward ci deploy {pinned}")
    approvers = ", ".join(sorted({a.approver for a in found.approvals})) or "-"
    rows = [[str(v.get("name")), str(v.get("model")), f"{v.get('weight', 0):g}%"] for v in document.get("variants", [])]
    _write_summary(summary, "\n".join([
        f"### :rocket: Deployed `{pinned}` to `{name}` ({how})",
        "",
        f"Approved by {_cell(approvers)}; revision {document.get('revision')}, {document.get('mode')}, {document.get('status')}.",
        "",
        _table(["variant", "model", "weight"], rows),
    ]))
    if as_json:
        print_json({"deployment": name, "model": pinned, "deployed": True, "how": how, "plan": document})
    else:
        echo(f"{name}: {how} to {pinned}")
