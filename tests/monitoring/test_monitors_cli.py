"""``steward monitor create|list|show|run|delete`` on the embedded store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from monitor_testing import build_deployment, log_traffic
from typer.testing import CliRunner, Result

from steward.cli import app
from steward.settings import Settings
from steward.wiring import build_services


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str | None]]:
    home = tmp_path / "home"
    values: dict[str, str | None] = {f"STEWARD_{name.upper()}": None for name in Settings.model_fields}
    values.update({
        "STEWARD_HOME": str(home), "STEWARD_USER": "dana", "STEWARD_CAPTURE_GIT": "false", "STEWARD_CAPTURE_PACKAGES": "false",
        "TTY_COMPATIBLE": None, "FORCE_COLOR": None, "NO_COLOR": "1", "COLUMNS": "250",
    })
    settings = Settings(home=home, user="dana", capture_git=False, capture_packages=False, tracking_uri=None, database_url=None)
    services = build_services(settings)
    try:
        build_deployment(services, settings)
        log_traffic(services, rows=500, start_ms=time.time_ns() // 1_000_000 - 1_800_000, shift=8.0)
    finally:
        services.close()
    yield values


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_create_run_show_list_and_delete_a_monitor(env: dict[str, str | None]) -> None:
    created = run(env, "monitor", "create", "fraud-drift", "--deployment", "fraud-api", "--window", "1h",
                  "--schedule", "*/15 * * * *", "--sensitive", "group", "--json")
    assert created.exit_code == 0, created.output
    document = json.loads(created.stdout)
    assert document["reference"].startswith("transactions") and document["sensitive"] == ["group"]
    ran = run(env, "monitor", "run", "fraud-drift", "--json")
    assert ran.exit_code == 1, ran.output  # amount drifted
    assert json.loads(ran.stdout)["summary"]["drift"]["drifted"] == ["amount"]
    shown = run(env, "monitor", "show", "fraud-drift")
    assert shown.exit_code == 0 and "amount" in shown.stdout and "LATENCY" in shown.stdout
    assert "no measured CPU time" in shown.output  # logged without CPU time: no cost, no estimate
    as_json = json.loads(run(env, "monitor", "show", "fraud-drift", "--json").stdout)
    assert len(as_json["results"]) == 1 and as_json["results"][0]["status"] == "drift"
    assert "fraud-drift" in run(env, "monitor", "list").stdout
    assert run(env, "monitor", "delete", "fraud-drift").exit_code == 0
    assert json.loads(run(env, "monitor", "list", "--json").stdout) == {"monitors": []}


def test_bad_input_is_one_line_and_an_exit_code(env: dict[str, str | None]) -> None:
    bad = run(env, "monitor", "create", "fraud-drift", "--deployment", "fraud-api", "--schedule", "hourly")
    assert bad.exit_code == 2 and "schedule" in bad.output and "Traceback" not in bad.output
    missing = run(env, "monitor", "run", "no-such-monitor")
    assert missing.exit_code == 3 and "Traceback" not in missing.output
