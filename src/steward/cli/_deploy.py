"""``steward deploy create|list|status|history|delete|canary|ab|shadow|switch|promote|rollback|rollout|manifests``.

Each command calls one deployments function on the embedded store, or the REST API when
``STEWARD_TRACKING_URI`` names a server. Every listing and ``status`` takes ``--json``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import typer

from steward.errors import InvalidInputError, NotFoundError
from steward.sdk import HttpBackend
from steward.serving import DeploymentService, check_deployment_name

from ._output import echo, note, print_json, print_table
from ._session import run_local_or_remote
from ._time import format_time

app = typer.Typer(name="deploy", help="Deployments: traffic plans, canaries, A/B tests, shadows, blue-green, rollouts.", no_args_is_help=True)

T = TypeVar("T")
JSON = dict[str, Any]  # Any: JSON values
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")
MODEL_OPTION = typer.Option(..., "--model", "-m", help="Model version: fraud:5, fraud@champion, models:/fraud/5.")
REASON_OPTION = typer.Option("", "--reason", "--comment", help="Why (recorded in the history and the audit trail).")
POLICY_OPTION = typer.Option(..., "--policy", help="Rollout policy YAML (steward check FILE validates it).")
OUT_OPTION = typer.Option(..., "--out", help="Folder for the manifests (created when missing).")
FEATURES_OPTION = typer.Option(
    None, "--features", help="Comma-separated view:feature references looked up in the online store per request."
)


def _run(local: Callable[[DeploymentService], T], remote: Callable[[HttpBackend], T]) -> T:
    return run_local_or_remote(lambda services: services.deployments, local, remote)


def _path(name: str, suffix: str = "") -> str:
    return f"/deployments/{quote(check_deployment_name(name), safe='')}{suffix}"


def _show(document: JSON, as_json: bool) -> None:
    if as_json:
        print_json(document)
        return
    rows = [[v["name"], v["model"], f"{v['weight']:g}%", "yes" if v["shadow"] else ""] for v in document["variants"]]
    title = f"{document['name']}  revision {document['revision']}  {document['mode']}  {document['status']}"
    print_table(["VARIANT", "MODEL", "WEIGHT", "SHADOW"], rows, title=title)
    if document.get("sticky_key"):
        typer.echo(f"sticky key: {document['sticky_key']}")
    if document.get("reason"):
        echo(f"reason: {document['reason']}")  # free text: printed escaped
    if document.get("features"):
        echo(f"features: {', '.join(document['features'])}")


def _change(name: str, verb: str, body: JSON, local: Callable[[DeploymentService], Any], as_json: bool) -> None:
    document: JSON = _run(lambda s: local(s).to_dict(), lambda b: dict(b._call("POST", _path(name, f"/{verb}"), body=body)))
    _show(document, as_json)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Deployment name: lowercase letters, digits, '-'."),
    model: str = MODEL_OPTION,
    reason: str = REASON_OPTION,
    features: str | None = FEATURES_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a deployment serving one version (an alias is resolved now and recorded).

    With --features, requests carry only entity keys (and request-time inputs); the serving
    process completes them from the online feature store.
    """
    check_deployment_name(name)
    refs = _feature_list(features)
    body: JSON = {"name": name, "model": model, "reason": reason}
    if refs:
        body["features"] = refs
    document: JSON = _run(
        lambda s: s.create_deployment(name, model, reason=reason, features=refs).to_dict(),
        lambda b: dict(b._call("POST", "/deployments", body=body)),
    )
    _show(document, as_json)


def _feature_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@app.command("features")
def set_features(
    name: str = typer.Argument(..., help="Deployment name."),
    features: str = typer.Option(
        ..., "--features", help="Comma-separated view:feature references looked up per request ('' removes them)."
    ),
    reason: str = REASON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Declare the features a deployment's requests are completed with from the online store."""
    refs = _feature_list(features)
    document: JSON = _run(
        lambda s: s.set_features(name, refs, reason=reason).to_dict(),
        lambda b: dict(b._call("PUT", _path(name, "/features"), body={"features": refs, "reason": reason})),
    )
    _show(document, as_json)


@app.command("list")
def list_deployments(
    project: str | None = typer.Option(None, "--project", help="Only this project's deployments."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List deployments with their primary version and mode."""
    found: list[JSON] = _run(
        lambda s: [d.to_dict() for d in s.list_deployments(project=project)],
        lambda b: list(b._call("GET", "/deployments", params={"project": project} if project else None)["deployments"]),
    )
    if as_json:
        print_json({"deployments": found})
        return
    if not found:
        note("No deployments.")
        return
    rows = []
    for d in found:
        variants = ", ".join(f"{v['name']}={v['model']}@{v['weight']:g}%" for v in d["variants"])
        rows.append([d["name"], d["project"], str(d["revision"]), d["mode"], d["status"], variants, format_time(d["updated_at"])])
    print_table(["NAME", "PROJECT", "REVISION", "MODE", "STATUS", "VARIANTS", "UPDATED"], rows)


@app.command("status")
def status(name: str = typer.Argument(..., help="Deployment name."), as_json: bool = JSON_OPTION) -> None:
    """A deployment's plan, and its rollout's step and evidence as of now."""
    document: JSON = _run(
        lambda s: {"deployment": s.get_deployment(name).to_dict(), "rollout": s.rollout_status(name)},
        lambda b: {"deployment": b._call("GET", _path(name)), "rollout": b._call("GET", _path(name, "/rollout"))},
    )
    if as_json:
        print_json(document)
        return
    _show(document["deployment"], False)
    rollout = document["rollout"].get("rollout")
    if rollout:
        typer.echo(
            f"rollout: {rollout['state']}  candidate {rollout['candidate']}  step {int(rollout['step']) + 1}/{len(rollout['steps'])}"
        )
    nxt = document["rollout"].get("next")
    if nxt:
        echo(f"next: {nxt['action']}: {nxt['reason']}")


@app.command("history")
def history(
    name: str = typer.Argument(..., help="Deployment name."),
    max_results: int = typer.Option(100, "--max-results", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every change of a deployment, newest first: who, what and why."""
    entries: list[JSON] = _run(
        lambda s: [e.to_dict() for e in s.list_history(name, max_results=max_results)],
        lambda b: list(b._call("GET", _path(name, "/history"), params={"max_results": max_results})["history"]),
    )
    if as_json:
        print_json({"history": entries})
        return
    rows = [
        [str(e["revision"]), format_time(e["created_at"]), e["actor"], e["action"],
         ", ".join(f"{v['name']}={v['model']}@{v['weight']:g}%" for v in e["variants"]), e["reason"]]
        for e in entries
    ]
    print_table(["REVISION", "WHEN", "WHO", "ACTION", "PLAN", "WHY"], rows)


@app.command("delete")
def delete(name: str = typer.Argument(..., help="Deployment name."), reason: str = REASON_OPTION) -> None:
    """Delete a deployment (its history stays)."""
    _run(lambda s: s.delete_deployment(name, reason=reason), lambda b: b._call("DELETE", _path(name), params={"reason": reason}))
    note(f"deployment {name} deleted")


@app.command("canary")
def canary(
    name: str = typer.Argument(..., help="Deployment name."),
    model: str = MODEL_OPTION,
    percent: float = typer.Option(..., "--percent", help="Share of requests for the candidate (0-100, exclusive)."),
    reason: str = REASON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a share of requests to a candidate version."""
    _change(name, "canary", {"model": model, "percent": percent, "reason": reason}, lambda s: s.canary(name, model, percent=percent, reason=reason), as_json)


@app.command("ab")
def ab(
    name: str = typer.Argument(..., help="Deployment name."),
    model: str = MODEL_OPTION,
    split: float = typer.Option(..., "--split", help="Percent of requests for the new version."),
    sticky_key: str | None = typer.Option(None, "--sticky-key", help="Request field: the same value always reaches the same variant."),
    reason: str = REASON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A/B test a version against the primary."""
    body = {"model": model, "split": split, "sticky_key": sticky_key, "reason": reason}
    _change(name, "ab", body, lambda s: s.ab(name, model, split=split, sticky_key=sticky_key, reason=reason), as_json)


@app.command("shadow")
def shadow(name: str = typer.Argument(..., help="Deployment name."), model: str = MODEL_OPTION, reason: str = REASON_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Mirror every request to a version; its answers are logged, never returned."""
    _change(name, "shadow", {"model": model, "reason": reason}, lambda s: s.shadow(name, model, reason=reason), as_json)


@app.command("switch")
def switch(name: str = typer.Argument(..., help="Deployment name."), model: str = MODEL_OPTION, reason: str = REASON_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Blue-green: the version takes all traffic at once; the old one stays for an instant rollback."""
    _change(name, "switch", {"model": model, "reason": reason}, lambda s: s.switch(name, model, reason=reason), as_json)


@app.command("promote")
def promote(name: str = typer.Argument(..., help="Deployment name."), reason: str = REASON_OPTION, as_json: bool = JSON_OPTION) -> None:
    """The candidate (or shadow) becomes the primary; the old primary stays as previous."""
    _change(name, "promote", {"reason": reason}, lambda s: s.promote(name, reason=reason), as_json)


@app.command("rollback")
def rollback(name: str = typer.Argument(..., help="Deployment name."), reason: str = REASON_OPTION, as_json: bool = JSON_OPTION) -> None:
    """All traffic back to the primary, or to the previous version after a switch or promotion."""
    _change(name, "rollback", {"reason": reason}, lambda s: s.rollback(name, reason=reason), as_json)


@app.command("rollout")
def rollout(
    name: str = typer.Argument(..., help="Deployment name."),
    model: str = MODEL_OPTION,
    policy: Path = POLICY_OPTION,
    reason: str = REASON_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Start a progressive rollout: a canary at the policy's first step, advanced or rolled
    back by the controller of the serving processes."""
    if not policy.is_file():
        raise NotFoundError(f"no policy file at {str(policy)[:300]!r}", field="policy")
    try:
        text = policy.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {str(policy)[:300]!r}: {exc}", field="policy") from exc
    body = {"model": model, "policy": text, "reason": reason}
    _change(name, "rollout", body, lambda s: s.start_rollout(name, model, text, reason=reason), as_json)


@app.command("manifests")
def manifests(
    name: str = typer.Argument(..., help="Deployment name."),
    out: Path = OUT_OPTION,
    image: str | None = typer.Option(None, "--image", help="Serving image (default steward-<model>:v<version>)."),
    namespace: str | None = typer.Option(None, "--namespace", help="Kubernetes namespace."),
    replicas: int = typer.Option(2, "--replicas", help="Replicas at start and the autoscaler's minimum."),
    max_replicas: int = typer.Option(10, "--max-replicas", help="The autoscaler's maximum."),
    workers: int = typer.Option(2, "--workers", help="Worker processes per pod."),
    secret: str | None = typer.Option(None, "--secret", help="Secret with STEWARD_DATABASE_URL etc. (default <name>-settings)."),
    bundle: bool = typer.Option(False, "--bundle", help="Also package the primary version into OUT/bundle (docker build it)."),
) -> None:
    """Write a Deployment, Service, HorizontalPodAutoscaler and ConfigMap for the serving processes."""
    from steward.serving._manifests import ManifestOptions, write_manifests
    from steward.serving._ports import deployment_from_dict

    options = ManifestOptions(image=image, namespace=namespace, replicas=replicas, max_replicas=max_replicas, workers=workers, secret=secret)

    def local(s: DeploymentService) -> list[Path]:
        found = s.get_deployment(name)
        written = write_manifests(found, out, options)
        primary = found.variant("primary")
        if bundle and primary is not None:
            written.append(s.registry.package(primary.model, out / "bundle"))
        return written

    def remote(b: HttpBackend) -> list[Path]:
        if bundle:
            raise InvalidInputError("--bundle needs the embedded store; run `steward models package` against the server instead", field="bundle")
        return write_manifests(deployment_from_dict(b._call("GET", _path(name))), out, options)

    for path in _run(local, remote):
        typer.echo(str(path))
