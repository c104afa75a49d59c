"""``steward models ...`` embedded and against a live server (the ``any_cli`` fixture): the
same output, the same exit codes, files checked by hash on the client."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_testing import Cli, cli_env_for, client_settings

from steward import Client
from steward.wiring import build_services

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
from registry_testing import fitted_logistic


def _log_model(home: Path) -> str:
    """A run with a logged scikit-learn model ``fraud``; its id."""
    client = Client(client_settings(home))
    try:
        model, frame = fitted_logistic()
        with client.start_run("e") as run:
            run.log_model(model, "fraud", input_example=frame.head(5))
        return run.run_id
    finally:
        client.close()


@pytest.fixture
def run_id(home: Path) -> str:
    return _log_model(home)


def test_every_models_verb_works_the_same_and_exits_with_the_error_tree_codes(any_cli: Cli, run_id: str, tmp_path: Path) -> None:
    cli = any_cli
    assert cli("models", "register", "fraud", "--run", run_id).stdout.strip() == "registered fraud:1"
    listed = cli("models", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout)["models"][0]["latest_version"] == 1
    assert "fraud" in cli("models", "list").stdout
    invalid = cli("models", "transition", "fraud:1", "production")
    assert invalid.exit_code == 5 and "allowed from candidate: approved, retired" in invalid.stderr
    missing = cli("models", "show", "fraud:7")
    assert missing.exit_code == 3 and "Traceback" not in missing.output
    assert cli("models", "show", "nope").exit_code == 3
    approved = cli("models", "approve", "fraud:1", "-m", "good")
    assert approved.exit_code == 0 and "fraud:1 is approved (1 approvals)" in approved.stdout
    assert cli("models", "transition", "fraud:1", "production").exit_code == 0
    assert cli("models", "alias", "fraud:1", "champion").stdout.strip() == "fraud@champion -> 1"
    shown = json.loads(cli("models", "show", "fraud@champion", "--json").stdout)
    assert (shown["state"], shown["aliases"]) == ("production", ["champion"])
    assert json.loads(cli("models", "show", "fraud/production", "--json").stdout)["version"] == 1
    assert cli("models", "tag", "fraud:1", "team", "risk").exit_code == 0
    assert cli("models", "tag", "fraud", "domain", "payments").exit_code == 0
    whole = json.loads(cli("models", "show", "fraud", "--json").stdout)
    assert whole["tags"] == {"domain": "payments"} and whole["versions"][0]["tags"] == {"team": "risk"}
    assert cli("models", "tag", "fraud@champion", "team", "--delete").exit_code == 0
    assert json.loads(cli("models", "show", "fraud:1", "--json").stdout)["tags"] == {}
    assert cli("models", "tag", "fraud:1", "team").exit_code == 2  # neither a value nor --delete

    pinned = json.loads(cli("models", "files", "fraud@champion", "--json").stdout)["files"]
    assert {f["path"] for f in pinned} >= {"steward-model.json"}
    out = tmp_path / "dl"
    assert cli("models", "download", "fraud@champion", "--out", str(out)).exit_code == 0
    for f in pinned:
        assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["digest"]
    assert cli("models", "download", "fraud:1", "--out", str(out)).exit_code == 2  # not empty

    assert cli("models", "package", "fraud@champion", "--out", str(tmp_path / "b")).exit_code == 0
    assert (tmp_path / "b" / "Dockerfile").exists() and (tmp_path / "b" / "MANIFEST.json").exists()
    assert cli("models", "retire", "fraud:1").exit_code == 5  # production -> retired is not allowed
    assert cli("models", "transition", "fraud:1", "deprecated").exit_code == 0
    assert cli("models", "retire", "fraud:1").exit_code == 0
    refused = cli("models", "package", "fraud:1", "--out", str(tmp_path / "c"))
    assert refused.exit_code == 5 and "retired" in refused.stderr
    assert cli("models", "package", "fraud:1", "--out", str(tmp_path / "c"), "--allow-retired").exit_code == 0
    # a retired version is still shown (and resolved through its alias) without the flag
    assert json.loads(cli("models", "show", "fraud@champion", "--json").stdout)["state"] == "retired"
    table = cli("models", "show", "fraud")
    assert "fraud:1" in table.stdout and "retired" in table.stdout
    assert cli("models", "alias", "fraud:1", "champion", "--delete").stdout.strip() == "removed fraud@champion"
    assert cli("models", "show", "fraud@champion").exit_code == 3


def test_registering_without_a_logged_model_or_with_a_bad_name_names_the_fault(any_cli: Cli, run_id: str) -> None:
    nothing = any_cli("models", "register", "fraud", "--run", run_id, "--path", "models/elsewhere")
    assert nothing.exit_code == 3 and "no model at 'models/elsewhere'" in nothing.stderr
    bad = any_cli("models", "show", "no such:model")
    assert bad.exit_code == 2 and "not a model reference" in bad.stderr


def test_download_refuses_a_file_that_no_longer_matches_its_hash_and_writes_nothing(
    any_cli: Cli, run_id: str, home: Path, tmp_path: Path
) -> None:
    assert any_cli("models", "register", "fraud", "--run", run_id).exit_code == 0
    pinned = json.loads(any_cli("models", "files", "fraud:1", "--json").stdout)["files"]
    digest = next(f["digest"] for f in pinned if f["path"] != "steward-model.json")
    blob = home / "artifacts" / "blobs" / "sha256" / digest[:2] / digest[2:4] / digest
    blob.write_bytes(b"tampered")
    out = tmp_path / "dl"
    refused = any_cli("models", "download", "fraud:1", "--out", str(out))
    assert refused.exit_code == 6 and "does not match the sha256" in refused.stderr  # IntegrityError: a storage fault
    assert not out.exists() and not list(tmp_path.glob(".steward-download-*"))


def test_an_unreachable_server_exits_6_naming_its_url(home: Path) -> None:
    from cli_testing import free_port

    url = f"http://127.0.0.1:{free_port()}"
    cli = Cli({**cli_env_for(home), "STEWARD_TRACKING_URI": url})
    for args in (("models", "list"), ("models", "approve", "fraud:1", "-m", "ok"), ("models", "card", "fraud:1")):
        out = cli(*args)
        assert out.exit_code == 6 and url in out.stderr and "Traceback" not in out.output, args


@pytest.fixture
def auth_server(home: Path, run_id: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A live server with authentication on, over ``home``'s store where ``fraud:1`` is
    registered (in project ``fraud``) and ``mine`` (in ``other``); tokens of a viewer, a reviewer of ``fraud`` and a
    contributor of another project."""
    from live_server import LiveServer

    services = build_services(client_settings(home))
    try:
        services.registry("tester").create_version("fraud", run_id)
        services.registry("tester").create_model("mine", project="other")
        gov = services.governance("setup")
        gov.bootstrap_admin("root", "root@example.com")
        tokens = {}
        for user, project, role in (("vic", "*", "viewer"), ("rita", "fraud", "reviewer"), ("otto", "other", "contributor")):
            gov.create_user(user, f"{user}@example.com")
            gov.grant_role(user, project, role)
            tokens[user] = gov.create_token(user).secret
    finally:
        services.close()
    server = LiveServer(
        {
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": f"sqlite:///{home / 'steward.db'}",
            "STEWARD_ARTIFACT_ROOT": str(home / "artifacts"),
            "STEWARD_USER": "server",
            "STEWARD_AUTH": "on",
        }
    )
    try:
        yield server.url, tokens
    finally:
        server.stop()


def test_against_an_authenticating_server_a_missing_permission_exits_4_naming_it(
    auth_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = auth_server
    env = {**cli_env_for(tmp_path / "not-the-store"), "STEWARD_TRACKING_URI": url}
    viewer = Cli({**env, "STEWARD_TOKEN": tokens["vic"]})
    assert json.loads(viewer("models", "show", "fraud:1", "--json").stdout)["version"] == 1
    denied = viewer("models", "approve", "fraud:1", "-m", "looks good")
    assert denied.exit_code == 4 and "models.approve" in denied.stderr and "Traceback" not in denied.output
    assert viewer("models", "tag", "fraud:1", "k", "v").exit_code == 4
    for args, permission in (
        (("evaluate", "fraud:1", "--data", "holdout:1", "--target", "label"), "models.write"),
        (("gate", "fraud:1", "--override", "--reason", "accepted by the risk board"), "models.promote"),
        (("models", "card", "fraud:1", "--set", "intended_use=anything"), "models.write"),
        (("models", "transition", "fraud:1", "approved"), "models.promote"),
    ):
        refused = viewer(*args)
        assert refused.exit_code == 4 and permission in refused.stderr, (args, refused.output)
    assert "fraud:1" in viewer("models", "card", "fraud:1").stdout  # reading the card is a read
    outsider = Cli({**env, "STEWARD_TOKEN": tokens["otto"]})
    hidden = outsider("models", "show", "fraud@latest")
    assert hidden.exit_code == 4 and "models.read" in hidden.stderr
    assert outsider("models", "download", "fraud:1", "--out", str(tmp_path / "x")).exit_code == 4
    assert not (tmp_path / "x").exists()
    # the resolve route checks the model its reference names, not only the one in its path
    import httpx

    sneaky = httpx.get(
        f"{url}/api/v1/models/mine/resolve", params={"ref": "fraud:1", "purpose": "read"},
        headers={"Authorization": f"Bearer {tokens['otto']}"},
    )
    assert sneaky.status_code == 403 and "models.read" in sneaky.json()["error"]["message"]
    reviewer = Cli({**env, "STEWARD_TOKEN": tokens["rita"]})
    approved = reviewer("models", "approve", "fraud:1", "-m", "looks good")
    assert approved.exit_code == 0, approved.output
    shown = json.loads(reviewer("models", "show", "fraud:1", "--json").stdout)
    assert shown["approvals"][0]["approver"] == "rita"
    anonymous = Cli(env)
    assert anonymous("models", "list").exit_code == 4  # AuthenticationError


class _DroppingProxy:
    """Forwards requests to ``upstream`` but drops the connection, unanswered, on any path
    containing ``drop``: a server that goes away in the middle of a command."""

    def __init__(self, upstream: str, drop: str) -> None:
        import http.server
        import threading

        import httpx

        forward = httpx.Client(base_url=upstream, timeout=30)

        class Handler(http.server.BaseHTTPRequestHandler):
            def _relay(self) -> None:
                if drop in self.path:
                    self.close_connection = True
                    self.connection.close()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
                resp = forward.request(self.command, self.path, content=body, headers=headers)
                self.send_response(resp.status_code)
                for key, value in resp.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._forward = forward
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._forward.close()


def test_a_server_that_goes_away_mid_download_exits_6_naming_it_and_leaves_nothing(
    any_cli: Cli, run_id: str, tmp_path: Path
) -> None:
    if not any_cli.remote:
        pytest.skip("a server going away only happens with a server")
    assert any_cli("models", "register", "fraud", "--run", run_id).exit_code == 0
    assert any_cli.server_url is not None
    proxy = _DroppingProxy(any_cli.server_url, drop="/files/")
    try:
        cli = Cli({**any_cli.env, "STEWARD_TRACKING_URI": proxy.url})
        assert json.loads(cli("models", "files", "fraud:1", "--json").stdout)["files"]  # the listing still answers
        for verb in ("download", "package"):
            out = tmp_path / verb
            cut = cli("models", verb, "fraud:1", "--out", str(out))
            assert cut.exit_code == 6 and proxy.url in cut.stderr and "Traceback" not in cut.output, cut.output
            assert not out.exists() or not any(out.iterdir())
        assert not list(tmp_path.glob(".steward-download-*"))
    finally:
        proxy.close()
