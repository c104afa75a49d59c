"""``steward admin bootstrap``, ``users``, ``roles``, ``tokens`` on the embedded store, and ``login``."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "cli"))  # cli_testing lives with the CLI tests

from cli_testing import Cli, cli_env_for

from steward.settings import Settings


def test_bootstrap_users_roles_and_tokens_work_on_the_embedded_store(tmp_path: Path) -> None:
    cli = Cli(cli_env_for(tmp_path / "home"))
    boot = cli("admin", "bootstrap", "--name", "root", "--email", "root@example.com", "--json")
    assert boot.exit_code == 0, boot.output
    secret = json.loads(boot.stdout)["secret"]
    assert secret.startswith("stw_")
    again = cli("admin", "bootstrap", "--name", "root2", "--email", "r@example.com")
    assert again.exit_code == 5 and "Traceback" not in again.output

    assert cli("users", "create", "ann", "--email", "ann@example.com").exit_code == 0
    assert cli("users", "create", "ann", "--email", "ann@example.com").exit_code == 5
    assert cli("users", "create", "bad name", "--email", "x@example.com").exit_code == 2
    users = json.loads(cli("users", "list", "--json").stdout)["users"]
    assert [(u["name"], u["is_admin"]) for u in users] == [("ann", False), ("root", True)]

    assert cli("roles", "grant", "ann", "contributor", "--project", "fraud").exit_code == 0
    assert cli("roles", "grant", "ann", "owner").exit_code == 2
    roles = json.loads(cli("roles", "list", "--json").stdout)["roles"]
    assert [(r["user"], r["project"], r["role"]) for r in roles] == [("ann", "fraud", "contributor")]

    created = cli("tokens", "create", "--user", "ann", "--scope", "read", "--json")
    assert created.exit_code == 0, created.output
    token = json.loads(created.stdout)
    listed = cli("tokens", "list", "--user", "ann")
    assert token["token"]["token_id"] in listed.stdout and token["secret"] not in listed.stdout
    assert cli("tokens", "revoke", token["token"]["token_id"]).exit_code == 0
    assert json.loads(cli("tokens", "list", "--user", "ann", "--json").stdout)["tokens"][0]["revoked"] is True
    assert cli("tokens", "revoke", "nosuch").exit_code == 3
    assert cli("roles", "revoke", "ann", "contributor", "--project", "fraud").exit_code == 0
    assert cli("users", "disable", "ann").exit_code == 0
    assert secret not in cli("audit", "list", "--json").stdout


def test_a_password_is_read_from_stdin_never_from_an_argument(tmp_path: Path) -> None:
    cli = Cli(cli_env_for(tmp_path / "home"))
    result = cli.runner.invoke(
        __import__("steward.cli", fromlist=["app"]).app,
        ["users", "create", "pat", "--email", "pat@example.com", "--password-stdin", "--json"],
        input="correct-horse\n",
        env=cli.env,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["has_password"] is True and "correct-horse" not in result.stdout


def test_login_saves_the_token_with_owner_only_permissions(tmp_path: Path) -> None:
    from steward.cli._governance import save_credentials

    settings = Settings(home=tmp_path / "home", tracking_uri="http://127.0.0.1:5000")
    path = save_credentials(settings, "http://127.0.0.1:5000/", "stw_abc")
    assert path == tmp_path / "home" / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.resolved_token() == "stw_abc"
    assert Settings(home=tmp_path / "home", tracking_uri="http://other:1").resolved_token() is None


def test_login_without_a_server_url_is_a_usage_error(tmp_path: Path) -> None:
    cli = Cli(cli_env_for(tmp_path / "home"))
    result = cli("login", "--token-stdin")
    assert result.exit_code == 2 and "STEWARD_TRACKING_URI" in result.stderr
