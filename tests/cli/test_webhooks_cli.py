"""``steward webhooks ...`` embedded and against a live server: create (secret from an
environment variable or stdin, never an argument), list, test, deliver, deliveries,
redeliver, delete; bad input and unknown names exit with their codes."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli_testing import Cli, client_settings

from steward.cli import app
from webhook_testing import SECRET, receiver, register_model


def _until(condition: object, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.1)


def test_the_webhooks_commands_in_both_modes(any_cli: Cli, home: Path) -> None:
    with receiver() as r:
        created = any_cli(
            "webhooks", "create", "ci", "--url", r.url, "--project", "fraud", "-e", "model_version.created", "-e", "model_version.approved",
            "--secret-env", "HOOK_SECRET", "--json", HOOK_SECRET=SECRET,
        )
        assert created.exit_code == 0, created.output
        assert json.loads(created.stdout)["events"] == ["model_version.created", "model_version.approved"]
        # the secret on stdin works too, and a second hook on the same name is a conflict (exit 5)
        piped = any_cli.runner.invoke(app, ["webhooks", "create", "ci", "--url", r.url, "--project", "fraud", "-e", "*"], env=any_cli.env, input=SECRET + "\n")
        assert piped.exit_code == 5, piped.output
        listed = any_cli("webhooks", "list", "--json")
        assert listed.exit_code == 0 and [w["name"] for w in json.loads(listed.stdout)["webhooks"]] == ["ci"]
        assert SECRET not in listed.stdout + created.stdout
        tested = any_cli("webhooks", "test", "ci")
        assert tested.exit_code == 0, tested.output
        assert r.events() == ["ping"] and r.got[0].signed_with(SECRET)
        register_model(client_settings(home), "fraud")
        delivered = any_cli("webhooks", "deliver", "--wait", "5")
        assert delivered.exit_code == 0, delivered.output
        _until(lambda: "model_version.created" in r.events())  # against a server, its own worker may send it first
        assert r.events() == ["ping", "model_version.created"]
        log = any_cli("webhooks", "deliveries", "ci", "--json")
        deliveries = json.loads(log.stdout)["deliveries"]
        assert {d["event"] for d in deliveries} == {"ping", "model_version.created"}
        assert all(d["status"] == "succeeded" and d["log"][0]["status_code"] == 200 for d in deliveries)
        table = any_cli("webhooks", "deliveries", "ci")
        assert table.exit_code == 0 and "model_version.created" in table.stdout and SECRET not in table.stdout
        first = next(d for d in deliveries if d["event"] == "model_version.created")
        again = any_cli("webhooks", "redeliver", "ci", first["delivery_id"])
        assert again.exit_code == 0, again.output
        assert r.got[-1].headers["x-steward-delivery"] == first["delivery_id"]
        assert any_cli("webhooks", "delete", "ci").exit_code == 0
        assert any_cli("webhooks", "deliveries", "ci").exit_code == 3
        assert any_cli("webhooks", "test", "ci").exit_code == 3


def test_bad_webhook_input_exits_2_naming_the_field(cli: Cli) -> None:
    bad = cli("webhooks", "create", "ci", "--url", "ftp://example.com", "--project", "fraud", "-e", "*", "--secret-env", "HOOK_SECRET", HOOK_SECRET=SECRET)
    assert bad.exit_code == 2 and "URL" in bad.output
    bad = cli("webhooks", "create", "ci", "--url", "https://example.com", "--project", "fraud", "-e", "nope", "--secret-env", "HOOK_SECRET", HOOK_SECRET=SECRET)
    assert bad.exit_code == 2 and "model_version.created" in bad.output
    short = cli("webhooks", "create", "ci", "--url", "https://example.com", "--project", "fraud", "-e", "*", "--secret-env", "HOOK_SECRET", HOOK_SECRET="short")
    assert short.exit_code == 2 and "short" not in short.output.replace("shorter", "")
    unset = cli("webhooks", "create", "ci", "--url", "https://example.com", "--project", "fraud", "-e", "*", "--secret-env", "NO_SUCH_VAR_HERE")
    assert unset.exit_code == 2
    assert "Traceback" not in bad.output + short.output + unset.output
