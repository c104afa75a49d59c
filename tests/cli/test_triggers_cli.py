"""``steward triggers create|list|show|fire|history|tick|delete``, embedded and against a live
server (``any_cli``): a dataset trigger starts its pipeline with the new version as input;
bad input exits non-zero naming what is wrong."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cli_testing import Cli, client_settings

from steward import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "triggers"))
from triggers_testing import frame, pipeline_file


def _register(home: Path, seed: int) -> None:
    client = Client(client_settings(home))
    try:
        client.data.register("transactions", frame(seed=seed))
    finally:
        client.close()


def _history(cli: Cli, name: str) -> list[dict[str, object]]:
    done = cli("triggers", "history", name, "--json")
    assert done.exit_code == 0, done.output
    starts: list[dict[str, object]] = json.loads(done.stdout)["starts"]
    return starts


def test_a_dataset_trigger_from_create_to_delete(any_cli: Cli, home: Path, tmp_path: Path) -> None:
    pipeline = str(pipeline_file(tmp_path))
    _register(home, 1)
    made = any_cli("triggers", "create", "on-data", "--kind", "dataset", "--dataset", "transactions", "--pipeline", pipeline,
                   "--param", "c=2", "--project", "fraud", "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["pipeline"]["params"] == {"c": 2} and json.loads(made.stdout)["project"] == "fraud"
    listed = any_cli("triggers", "list", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)["triggers"]] == ["on-data"]
    table = any_cli("triggers", "list")
    assert "on-data" in table.stdout and "transactions" in table.stdout and "retrain.py" in table.stdout

    fired = any_cli("triggers", "fire", "on-data", "--json")
    assert fired.exit_code == 0, fired.output
    start = json.loads(fired.stdout)
    assert start["status"] == "finished" and start["params"] == {"c": 2, "data": "transactions:1"} and start["run_id"]

    _register(home, 2)
    ticked = any_cli("triggers", "tick", "--json")
    assert ticked.exit_code == 0, ticked.output
    # against a server its own runner may have claimed the version first: one start either way
    deadline = time.monotonic() + 60
    while True:
        new = [s for s in _history(any_cli, "on-data") if s["event_key"] == "dataset:transactions:2"]
        if (new and new[0]["status"] in ("finished", "failed")) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(new) == 1 and new[0]["status"] == "finished" and new[0]["params"] == {"c": 2, "data": "transactions:2"}
    shown = any_cli("triggers", "show", "on-data")
    assert shown.exit_code == 0 and "dataset:transactions:2" in shown.stdout and "finished" in shown.stdout

    assert any_cli("triggers", "delete", "on-data").exit_code == 0
    gone = any_cli("triggers", "show", "on-data")
    assert gone.exit_code == 3 and "on-data" in gone.stderr


def test_bad_input_exits_non_zero_naming_what_is_wrong(any_cli: Cli, tmp_path: Path) -> None:
    pipeline = str(pipeline_file(tmp_path))
    bad_cron = any_cli("triggers", "create", "bad", "--kind", "cron", "--schedule", "every hour", "--pipeline", pipeline)
    assert bad_cron.exit_code == 2 and "every hour" in bad_cron.stderr and "cron" in bad_cron.stderr, bad_cron.output
    assert "Traceback" not in bad_cron.output
    no_data = any_cli("triggers", "create", "bad", "--kind", "dataset", "--dataset", "nope", "--pipeline", pipeline)
    assert no_data.exit_code == 3 and "nope" in no_data.stderr, no_data.output
    no_model = any_cli("triggers", "create", "bad", "--kind", "registry", "--model", "ghost", "--pipeline", pipeline)
    assert no_model.exit_code == 3 and "ghost" in no_model.stderr, no_model.output
    bad_param = any_cli("triggers", "create", "bad", "--kind", "cron", "--schedule", "0 3 * * *", "--pipeline", pipeline, "--param", "oops")
    assert bad_param.exit_code == 2 and "--param" in bad_param.stderr
    # a pipeline that fails: the start is recorded, the command exits 1 naming the step's error
    made = any_cli("triggers", "create", "fails", "--kind", "cron", "--schedule", "0 3 * * *", "--pipeline", pipeline,
                   "--param", "data=boom")
    assert made.exit_code == 0, made.output
    failed = any_cli("triggers", "fire", "fails")
    assert failed.exit_code == 1 and "the step failed on purpose" in failed.stderr, failed.output
    assert _history(any_cli, "fails")[0]["status"] == "failed"
