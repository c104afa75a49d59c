"""``steward deploy ...`` on the embedded store: every verb, --json, exit codes, ``steward check``
on a rollout policy, and ``deploy manifests`` validated against the Kubernetes schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from deployments_testing import Versions, register_versions
from typer.testing import CliRunner, Result

from steward import Client, Settings
from steward.cli import app
from steward.wiring import build_services


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str | None]]:
    home = tmp_path / "home"
    values: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    values.update({
        "STEWARD_HOME": str(home), "STEWARD_USER": "dana", "STEWARD_CAPTURE_GIT": "false", "STEWARD_CAPTURE_PACKAGES": "false",
        "TTY_COMPATIBLE": None, "FORCE_COLOR": None, "NO_COLOR": "1", "COLUMNS": "250",
    })
    settings = Settings(home=home, user="tester", capture_git=False, capture_packages=False, tracking_uri=None, database_url=None)
    services = build_services(settings)
    client = Client(settings)
    try:
        register_versions(client, services)
    finally:
        client.close()
        services.close()
    yield values


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_every_verb_changes_the_plan_and_json_is_one_document(env: dict[str, str | None]) -> None:
    assert run(env, "deploy", "create", "fraud-api", "--model", "fraud@champion", "--reason", "launch").exit_code == 0
    result = run(env, "deploy", "canary", "fraud-api", "--model", "fraud:2", "--percent", "10", "--comment", "try", "--json")
    assert result.exit_code == 0, result.output
    assert {v["name"]: v["weight"] for v in json.loads(result.stdout)["variants"]} == {"primary": 90.0, "candidate": 10.0}
    assert run(env, "deploy", "ab", "fraud-api", "--model", "fraud:2", "--split", "50", "--sticky-key", "customer_id").exit_code == 0
    assert run(env, "deploy", "shadow", "fraud-api", "--model", "fraud:2").exit_code == 0
    assert run(env, "deploy", "switch", "fraud-api", "--model", "fraud:2").exit_code == 0
    assert run(env, "deploy", "rollback", "fraud-api").exit_code == 0
    assert run(env, "deploy", "canary", "fraud-api", "--model", "fraud:2", "--percent", "5").exit_code == 0
    assert run(env, "deploy", "promote", "fraud-api", "--reason", "good").exit_code == 0
    listed = json.loads(run(env, "deploy", "list", "--json").stdout)["deployments"]
    assert [(d["name"], d["variants"][0]["model"]) for d in listed] == [("fraud-api", "fraud:2")]
    status = json.loads(run(env, "deploy", "status", "fraud-api", "--json").stdout)
    assert status["deployment"]["revision"] == 8
    history = json.loads(run(env, "deploy", "history", "fraud-api", "--json").stdout)["history"]
    assert [h["action"] for h in history][:2] == ["promote", "canary"] and history[0]["reason"] == "good"
    table = run(env, "deploy", "list")
    assert "fraud-api" in table.stdout and "primary=fraud:2@100%" in table.stdout
    assert run(env, "deploy", "delete", "fraud-api").exit_code == 0
    assert run(env, "deploy", "status", "fraud-api").exit_code == 3


def test_refusals_and_bad_input_are_one_line_with_their_exit_code(env: dict[str, str | None]) -> None:
    run(env, "deploy", "create", "fraud-api", "--model", "fraud:1")
    retired = run(env, "deploy", "canary", "fraud-api", "--model", f"fraud:{Versions().retired}", "--percent", "10")
    assert retired.exit_code == 5, retired.output
    assert "retired" in retired.stderr and "Traceback" not in retired.output
    bad = run(env, "deploy", "canary", "fraud-api", "--model", "fraud:2", "--percent", "100")
    assert bad.exit_code == 2 and "percent" in bad.stderr
    assert run(env, "deploy", "create", "Bad Name", "--model", "fraud:1").exit_code == 2


def test_a_rollout_starts_from_a_policy_file_and_steward_check_validates_it(env: dict[str, str | None], tmp_path: Path) -> None:
    run(env, "deploy", "create", "fraud-api", "--model", "fraud:1")
    good = tmp_path / "rollout.yaml"
    good.write_text("steps: [5, 25, 50, 100]\nmin_requests: 200\nmin_duration: 2m\nbounds:\n  max_error_rate_ratio: 2\n")
    checked = run(env, "check", str(good))
    assert checked.exit_code == 0 and "valid rollout policy" in checked.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [5, 25, 50, 100]\nbounds:\n  max_p99: 2\n")
    result = run(env, "check", str(bad))
    assert result.exit_code == 1 and f"{bad}:3:" in result.stderr and "max_p99" in result.stderr
    started = run(env, "deploy", "rollout", "fraud-api", "--model", "fraud:2", "--policy", str(good), "--json")
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout)["status"] == "rolling_out"
    status = run(env, "deploy", "status", "fraud-api")
    assert "step 1/4" in status.stdout and "next: hold" in status.stdout
    refused = run(env, "deploy", "rollout", "fraud-api", "--model", "fraud:2", "--policy", str(bad))
    assert refused.exit_code in (2, 5)


def test_manifests_are_valid_kubernetes_objects(env: dict[str, str | None], tmp_path: Path) -> None:
    import kubernetes_validate

    run(env, "deploy", "create", "fraud-api", "--model", "fraud:1")
    out = tmp_path / "k8s"
    result = run(env, "deploy", "manifests", "fraud-api", "--out", str(out), "--replicas", "3", "--namespace", "ml", "--bundle")
    assert result.exit_code == 0, result.output
    kinds = {}
    for name in ("configmap.yaml", "deployment.yaml", "service.yaml", "hpa.yaml"):
        document = yaml.safe_load((out / name).read_text())
        kubernetes_validate.validate(document, "1.29", strict=True)
        kinds[document["kind"]] = document
    assert set(kinds) == {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"}
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["command"][:4] == ["steward", "serve", "--deployment", "fraud-api"]
    assert {"secretRef": {"name": "fraud-api-settings"}} in container["envFrom"]
    assert container["image"] == "steward-fraud:v1"
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert (out / "bundle" / "Dockerfile").is_file()  # the image is built from the bundle's Dockerfile


def test_bad_manifest_options_are_refused_naming_them(env: dict[str, str | None], tmp_path: Path) -> None:
    run(env, "deploy", "create", "fraud-api", "--model", "fraud:1")
    result = run(env, "deploy", "manifests", "fraud-api", "--out", str(tmp_path / "k"), "--replicas", "20", "--max-replicas", "5")
    assert result.exit_code == 2 and "replicas" in result.stderr
