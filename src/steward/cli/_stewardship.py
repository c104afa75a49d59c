"""``steward models set-owner|owner|retire``, ``steward deploy drill`` and ``steward retrain``.

Owners, retirement and drills call the stewardship service on the embedded store, or the
REST API when ``STEWARD_TRACKING_URI`` names a server. ``steward retrain`` runs the standard
lifecycle pipeline (:mod:`steward.stewardship.lifecycle`) in this process: the user's training
function runs here, every other stage on the embedded store or through the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import typer

from steward.errors import CheckFailedError, InvalidInputError
from steward.sdk import HttpBackend

from ._output import echo, note, print_json, print_table
from ._session import load_settings, run_local_or_remote
from ._time import format_time

T = TypeVar("T")
JSON = dict[str, Any]  # Any: JSON values
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")
FILE_OPTION = typer.Option(Path("steward.yaml"), "--file", "-f", help="Project file with a retrain: section.")


def _run(local: Callable[[Any], T], remote: Callable[[HttpBackend], T]) -> T:  # Any: StewardshipService
    return run_local_or_remote(lambda services: services.stewardship, local, remote)


def _q(text: str) -> str:
    return quote(text, safe="")


def _parse_version(ref: str) -> tuple[str, int]:
    name, sep, version = ref.partition(":")
    if not sep or not version.isdigit() or not name:
        raise InvalidInputError(f"expected NAME:VERSION such as fraud:2, not {ref[:100]!r}", field="version")
    return name, int(version)


def register_models(models_app: typer.Typer) -> None:
    """Add ``set-owner``, ``owner`` and ``retire`` to ``steward models``."""

    @models_app.command("set-owner")
    def set_owner(
        name: str = typer.Argument(..., help="The registered model, e.g. fraud."),
        owner: str | None = typer.Option(None, "--owner", help="The user who owns it."),
        on_call: str | None = typer.Option(None, "--on-call", help="Whom its alerts page (an address, a rota)."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Set a model's owner and on-call contact; its alerts name them."""
        if owner is None and on_call is None:
            raise InvalidInputError("give --owner and/or --on-call", field="owner")
        body: JSON = {k: v for k, v in {"owner": owner, "on_call": on_call}.items() if v is not None}
        document: JSON = _run(
            lambda s: s.set_owner(name, owner=owner, on_call=on_call).to_dict(),
            lambda b: dict(b._call("PUT", f"/models/{_q(name)}/owner", body=body)),
        )
        _show_owner(document, as_json)

    @models_app.command("owner")
    def show_owner(name: str = typer.Argument(..., help="The registered model."), as_json: bool = JSON_OPTION) -> None:
        """Show a model's owner and on-call contact."""
        document: JSON = _run(lambda s: s.get_owner(name).to_dict(), lambda b: dict(b._call("GET", f"/models/{_q(name)}/owner")))
        _show_owner(document, as_json)

    @models_app.command("retire")
    def retire(
        ref: str = typer.Argument(..., help="The version: fraud:2."),
        drain: bool = typer.Option(False, "--drain", help="Move its traffic to the champion first, then retire it."),
        comment: str = typer.Option("", "--comment", "-m", help="Why (recorded in the audit trail)."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Retire a version: refused while it serves traffic (exit 5) unless --drain; its files
        are kept or archived (STEWARD_RETENTION) and the record of what it served stays."""
        name, version = _parse_version(ref)
        document: JSON = _run(
            lambda s: s.retire(name, version, drain=drain, comment=comment).to_dict(),
            lambda b: dict(b._call("POST", f"/models/{_q(name)}/versions/{version}/retire", body={"drain": drain, "comment": comment})),
        )
        if as_json:
            print_json(document)
            return
        echo(f"{name}:{version} is retired")
        for d in document.get("drained", []):
            echo(f"drained: {d} now serves the champion")
        if document.get("archive"):
            echo(f"archived: {document['archive']} (sha256 {str(document['archive_sha256'])[:12]})")
        else:
            echo(f"retention: {document.get('retention')} (files kept where they are)")


def set_owner_at_registration(name: str, owner: str | None, on_call: str | None) -> None:
    """``steward models register --owner/--on-call``: set them once the version (and model) exists."""
    if owner is None and on_call is None:
        return
    body: JSON = {k: v for k, v in {"owner": owner, "on_call": on_call}.items() if v is not None}
    document: JSON = _run(
        lambda s: s.set_owner(name, owner=owner, on_call=on_call).to_dict(),
        lambda b: dict(b._call("PUT", f"/models/{_q(name)}/owner", body=body)),
    )
    echo(f"owner {document['owner']}, on-call {document['on_call'] or '(none)'}")


def _show_owner(document: JSON, as_json: bool) -> None:
    if as_json:
        print_json(document)
        return
    echo(f"{document['name']}: owner {document['owner']}, on-call {document['on_call'] or '(none)'}")


class _LocalDrill:
    def __init__(self, service: Any) -> None:  # Any: StewardshipService
        self.service = service

    def get(self, name: str) -> JSON:
        return dict(self.service.deployments.get_deployment(name).to_dict())

    def switch(self, name: str, model: str, reason: str) -> JSON:
        return dict(self.service.deployments.switch(name, model, reason=reason).to_dict())

    def record(self, drill: Any) -> Any:  # Any: Drill
        return self.service.record_drill(drill)


class _RemoteDrill:
    def __init__(self, backend: HttpBackend) -> None:
        self.backend = backend

    def get(self, name: str) -> JSON:
        return dict(self.backend._call("GET", f"/deployments/{_q(name)}"))

    def switch(self, name: str, model: str, reason: str) -> JSON:
        return dict(self.backend._call("POST", f"/deployments/{_q(name)}/switch", body={"model": model, "reason": reason}))

    def record(self, drill: Any) -> Any:  # Any: Drill
        from steward.stewardship import Drill

        body = {k: v for k, v in drill.to_dict().items() if k not in ("id", "deployment", "actor")}
        stored = self.backend._call("POST", f"/deployments/{_q(drill.deployment)}/drills", body=body)
        return Drill(**stored)


def drill(
    name: str = typer.Argument(..., help="The deployment, e.g. fraud-api."),
    url: str | None = typer.Option(None, "--url", help="A `steward serve --deployment NAME` to send traffic to during the drill."),
    payload: str | None = typer.Option(None, "--payload", help="JSON body sent to /predict (inline, or @file)."),
    timeout: float = typer.Option(30.0, "--timeout", min=1.0, help="Longest wait, in seconds, for a switch to take effect."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Rehearse a rollback on a live deployment: switch to its previous version and back,
    timing each switch and counting failed requests; exit 1 when the drill failed."""
    from steward.stewardship import run_drill

    body: object = None
    if payload is not None:
        text = Path(payload[1:]).read_text(encoding="utf-8") if payload.startswith("@") else payload
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"--payload is not JSON: {exc.msg} at line {exc.lineno}", field="payload") from None
    say = None if as_json else note
    result = _run(
        lambda s: run_drill(_LocalDrill(s), name, url=url, payload=body, timeout_s=timeout, progress=say),
        lambda b: run_drill(_RemoteDrill(b), name, url=url, payload=body, timeout_s=timeout, progress=say),
    )
    document = result.to_dict()
    if as_json:
        print_json(document)
    else:
        rows = [
            ["rollback", f"{result.serving} -> {result.rehearsed}", f"{result.rollback_ms} ms"],
            ["restore", f"{result.rehearsed} -> {result.serving}", f"{result.restore_ms} ms"],
        ]
        print_table(["STEP", "SWITCH", "TOOK"], rows, title=f"rollback drill of {name} at {format_time(result.started_at)}")
        echo(f"requests: {result.requests}, failed: {result.failed}; {'passed' if result.passed else 'FAILED'}")
    if not result.passed:
        raise CheckFailedError(f"the rollback drill of {name} failed: {result.failed} of {result.requests} requests failed or a switch was not seen")


def register_deploy(deploy_app: typer.Typer) -> None:
    """Add ``drill`` to ``steward deploy``."""
    deploy_app.command("drill")(drill)


def retrain(
    model: str = typer.Argument(..., help="The registered model, e.g. fraud."),
    train: str | None = typer.Option(None, "--train", help="The training step: module:function (or retrain.MODEL.train in steward.yaml)."),
    data: str | None = typer.Option(None, "--data", help="Training dataset version (a bare name: its latest)."),
    eval_data: str | None = typer.Option(None, "--eval-data", help="The gate's dataset version (default: --data)."),
    target: str | None = typer.Option(None, "--target", help="The target column."),
    suite: str | None = typer.Option(None, "--suite", help="Validation suite the data must pass first."),
    gate: str | None = typer.Option(None, "--gate", help="Gate policy YAML file."),
    deployment: str | None = typer.Option(None, "--deployment", help="Deployment to canary the candidate on."),
    rollout: str | None = typer.Option(None, "--rollout", help="Rollout policy YAML file."),
    resume: int | None = typer.Option(None, "--resume", min=1, help="Continue an approved candidate version from the canary."),
    timeout: float | None = typer.Option(None, "--timeout", min=1.0, help="Longest wait for the rollout, in seconds (default 900)."),
    project_file: Path = FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Retrain a model through the standard lifecycle: validate, train, gate, register, approval, canary, rollout, promote or roll back.

    Exit 0 when promoted, registered or waiting for an approval (resume with --resume VERSION);
    exit 1 when a stage failed or the rollout rolled back: the champion keeps serving.
    Started by an alert's retrain action, the alert's registered window is the training data.
    """
    from steward.sdk import Client
    from steward.stewardship.lifecycle import load_spec, trigger_from_env
    from steward.stewardship.lifecycle import retrain as run_retrain

    settings = load_settings()
    trigger, alert_data = trigger_from_env()
    spec = load_spec(
        model, project_file, train=train, data=data or alert_data, eval_data=eval_data, target=target, suite=suite, gate=gate,
        deployment=deployment, rollout=rollout, trigger=trigger, timeout=timeout,
    )
    # the training step runs here; the other stages on the embedded store or, through a server, as REST calls
    client = Client(settings)
    try:
        result = run_retrain(client, spec, resume=resume, progress=None if as_json else note)
    finally:
        client.close()
    if as_json:
        print_json(result.to_dict())
    else:
        echo(f"{model}: {result.status}" + (f" ({model}:{result.version})" if result.version else "") + (f": {result.reason}" if result.reason else ""))
    if not result.ok:
        raise CheckFailedError(f"retraining {model} ended {result.status}: {result.reason}")
