"""``steward admin bootstrap``, ``users``, ``roles``, ``tokens`` and ``login``.

Every command works on the embedded store (an administrator on the server's host) or,
with ``STEWARD_TRACKING_URI=http(s)://...``, through the server's REST API with the
caller's token. Secrets are read from prompts or stdin, never from arguments, and a new
token is printed once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from steward._private_files import make_private_dirs
from steward.errors import InvalidInputError
from steward.governance import GovernanceService, binding_to_dict, token_to_dict, user_to_dict
from steward.sdk import HttpBackend
from steward.settings import Settings
from steward.wiring import build_services, default_actor

from ._output import note, print_json, print_table
from ._session import load_settings, run_local_or_remote
from ._time import format_time

admin_app = typer.Typer(name="admin", help="Set up a team server.", no_args_is_help=True)
users_app = typer.Typer(name="users", help="Create, list and disable users.", no_args_is_help=True)
roles_app = typer.Typer(name="roles", help="Grant, revoke and list roles per project.", no_args_is_help=True)
tokens_app = typer.Typer(name="tokens", help="Create, list and revoke API tokens.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")
T = TypeVar("T")
JSON = dict[str, Any]  # Any: JSON values


def _run(local: Callable[[GovernanceService], T], remote: Callable[[HttpBackend], T]) -> T:
    """Run ``local`` on the embedded store, or ``remote`` against the configured server."""
    return run_local_or_remote(lambda services: services.governance, local, remote)


def _api(backend: HttpBackend, method: str, path: str, **kwargs: Any) -> JSON:  # Any: JSON
    # the SDK's one request path: same error mapping (401 -> exit 4, unreachable -> 6)
    result: JSON = backend._call(method, path, **kwargs)
    return result


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=prompt.startswith("New")))


def _show_secret(created: JSON, as_json: bool) -> None:
    if as_json:
        print_json(created)
        return
    token = created["token"]
    note(f"token {token['token_id']} for {token['user']} ({', '.join(token['scopes'])}); shown once, store it now:")
    typer.echo(created["secret"])


# -- admin ---------------------------------------------------------------------------------


@admin_app.command("bootstrap")
def bootstrap(
    name: str = typer.Option(..., "--name", help="User name of the first administrator."),
    email: str = typer.Option(..., "--email", help="Their e-mail address."),
    password: bool = typer.Option(False, "--password", help="Also set a password (prompted)."),
    expires_in_days: int = typer.Option(90, "--expires-in-days", min=1, max=3650, help="Lifetime of the admin token."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create the first global administrator in the store and print their token once."""
    settings = load_settings()
    if settings.is_remote():
        raise InvalidInputError("bootstrap runs on the server's store, not through STEWARD_TRACKING_URI", field="tracking_uri")
    secret = _read_secret("New password", False) if password else None
    services = build_services(settings)
    try:
        created = services.governance(default_actor(settings)).bootstrap_admin(
            name, email, password=secret, expires_in_days=expires_in_days
        )
    finally:
        services.close()
    _show_secret({"token": token_to_dict(created.token), "secret": created.secret}, as_json)


# -- users ---------------------------------------------------------------------------------


@users_app.command("create")
def create_user(
    name: str = typer.Argument(..., help="User name."),
    email: str = typer.Option(..., "--email", help="E-mail address."),
    admin: bool = typer.Option(False, "--admin", help="Make them a global administrator."),
    password: bool = typer.Option(False, "--password", help="Set a password (prompted, or stdin with --password-stdin)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a user."""
    secret = _read_secret("New password", password_stdin) if (password or password_stdin) else None
    body: JSON = {"name": name, "email": email, "is_admin": admin, "password": secret}
    user = _run(
        lambda g: user_to_dict(g.create_user(name, email, password=secret, is_admin=admin)),
        lambda b: _api(b, "POST", "users", body={k: v for k, v in body.items() if v is not None}),
    )
    print_json(user) if as_json else note(f"created user {user['name']}")


@users_app.command("list")
def list_users(as_json: bool = JSON_OPTION) -> None:
    """List users."""
    found: list[JSON] = _run(lambda g: [user_to_dict(u) for u in g.list_users()], lambda b: _api(b, "GET", "users")["users"])
    if as_json:
        print_json({"users": found})
        return
    rows = [[u["name"], u["email"], "yes" if u["is_admin"] else "", "yes" if u["disabled"] else "", format_time(u["created_at"])] for u in found]
    print_table(["name", "email", "admin", "disabled", "created"], rows)


@users_app.command("disable")
def disable_user(name: str = typer.Argument(..., help="User name."), as_json: bool = JSON_OPTION) -> None:
    """Disable a user: their tokens and password stop working at once."""
    user = _run(lambda g: user_to_dict(g.disable_user(name)), lambda b: _api(b, "POST", f"users/{name}/disable"))
    print_json(user) if as_json else note(f"disabled user {user['name']}")


# -- roles ---------------------------------------------------------------------------------


@roles_app.command("grant")
def grant_role(
    user: str = typer.Argument(..., help="User name."),
    role: str = typer.Argument(..., help="viewer, contributor, reviewer, deployer or admin."),
    project: str = typer.Option("*", "--project", "-p", help="Experiment or model name; '*' for every project."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Grant a role on a project."""
    binding = _run(
        lambda g: binding_to_dict(g.grant_role(user, project, role)),
        lambda b: _api(b, "POST", "roles", body={"user": user, "project": project, "role": role}),
    )
    print_json(binding) if as_json else note(f"granted {binding['role']} on {binding['project']} to {binding['user']}")


@roles_app.command("revoke")
def revoke_role(
    user: str = typer.Argument(..., help="User name."),
    role: str = typer.Argument(..., help="The role to take away."),
    project: str = typer.Option("*", "--project", "-p", help="The project of the binding."),
) -> None:
    """Revoke a role binding."""
    _run(
        lambda g: g.revoke_role(user, project, role),
        lambda b: _api(b, "DELETE", "roles", params={"user": user, "project": project, "role": role}),
    )
    note(f"revoked {role} on {project} from {user}")


@roles_app.command("list")
def list_roles(
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user's bindings."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List role bindings."""
    params = {"user": user} if user else None
    found: list[JSON] = _run(
        lambda g: [binding_to_dict(r) for r in g.list_roles(user)], lambda b: _api(b, "GET", "roles", params=params)["roles"]
    )
    if as_json:
        print_json({"roles": found})
        return
    print_table(["user", "project", "role", "granted by"], [[r["user"], r["project"], r["role"], r["created_by"]] for r in found])


# -- tokens --------------------------------------------------------------------------------


@tokens_app.command("create")
def create_token(
    user: str | None = typer.Option(None, "--user", "-u", help="Whose token (default: you)."),
    label: str = typer.Option("", "--label", help="What the token is for."),
    scope: list[str] = typer.Option(["read", "write"], "--scope", "-s", help="read, write or admin; repeatable."),
    expires_in_days: int = typer.Option(90, "--expires-in-days", min=1, max=3650, help="Lifetime in days."),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="Never expire (not recommended)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API token; its secret is printed once."""
    expiry = None if no_expiry else expires_in_days
    settings = load_settings()
    who = user or default_actor(settings)

    def local(g: GovernanceService) -> JSON:
        created = g.create_token(who, label=label, scopes=scope, expires_in_days=expiry)
        return {"token": token_to_dict(created.token), "secret": created.secret}

    body: JSON = {"label": label, "scopes": scope, "expires_in_days": expiry}
    if user:
        body["user"] = user
    _show_secret(_run(local, lambda b: _api(b, "POST", "tokens", body=body)), as_json)


@tokens_app.command("list")
def list_tokens(
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user's tokens."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List tokens (never their secrets)."""
    params = {"user": user} if user else None
    found: list[JSON] = _run(
        lambda g: [token_to_dict(t) for t in g.list_tokens(user)], lambda b: _api(b, "GET", "tokens", params=params)["tokens"]
    )
    if as_json:
        print_json({"tokens": found})
        return
    rows = [
        [
            t["token_id"], t["user"], t["prefix"] + "...", ",".join(t["scopes"]), t["label"],
            format_time(t["expires_at"]) if t["expires_at"] else "never",
            format_time(t["last_used_at"]) if t["last_used_at"] else "-",
            "revoked" if t["revoked"] else "",
        ]
        for t in found
    ]
    print_table(["id", "user", "prefix", "scopes", "label", "expires", "last used", "state"], rows)


@tokens_app.command("revoke")
def revoke_token(token_id: str = typer.Argument(..., help="The token's id (see `tokens list`).")) -> None:
    """Revoke a token at once."""
    _run(lambda g: token_to_dict(g.revoke_token(token_id)), lambda b: _api(b, "DELETE", f"tokens/{token_id}"))
    note(f"revoked token {token_id}")


# -- login ---------------------------------------------------------------------------------


def save_credentials(settings: Settings, url: str, token: str) -> Path:
    """Store ``token`` for server ``url`` in the credentials file, readable only by its owner."""
    path = settings.resolved_credentials_file()
    make_private_dirs(path.parent)  # STEWARD_HOME may be created here first: owner-only like the store
    saved: JSON = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            saved = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            saved = {}
    servers = saved.setdefault("servers", {})
    servers[url.rstrip("/")] = {"token": token}
    # created 0600 from the start: never a moment where others could read the token
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(saved, out, indent=2)
    os.chmod(path, 0o600)
    return path


def login(
    token_stdin: bool = typer.Option(False, "--token-stdin", help="Read the token from stdin instead of a prompt."),
) -> None:
    """Check a token against the server (STEWARD_TRACKING_URI) and save it for later commands."""
    settings = load_settings()
    if not settings.is_remote() or settings.tracking_uri is None:
        raise InvalidInputError("login needs STEWARD_TRACKING_URI=http(s)://<server>", field="tracking_uri")
    token = _read_secret("Token", token_stdin)
    if not token:
        raise InvalidInputError("no token given", field="token")
    backend = HttpBackend(settings.tracking_uri, token=token, timeout=settings.http_timeout)
    try:
        me = _api(backend, "GET", "whoami")
    finally:
        backend.close()
    path = save_credentials(settings, settings.tracking_uri, token)
    note(f"logged in to {settings.tracking_uri} as {me.get('name')}; token saved in {path}")
