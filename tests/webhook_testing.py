"""Helpers of the webhook tests (imported by name from tests/webhooks and tests/cli): a real HTTP receiver on a loopback port,
and a registered model trained for real."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from steward import Client
from steward.settings import Settings

SECRET = "whsec-0123456789abcdef-not-for-logs"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return self.headers["x-steward-event"]

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-steward-signature", ""))


@dataclass
class Receiver:
    """Answers each POST with the next status of ``plan`` (then 200), recording what it got."""

    url: str
    plan: list[int] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        with self.lock:
            return [r.event for r in self.got]


@contextmanager
def receiver(plan: list[int] | None = None) -> Iterator[Receiver]:
    """A real HTTP server on a free loopback port, in a thread."""
    state = Receiver("", list(plan or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with state.lock:
                state.got.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status = state.plan.pop(0) if state.plan else 200
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def register_model(settings: Settings, name: str = "fraud", *, project: str | None = None) -> int:
    """Train a small model for real and register it as a new version of ``name``; its number."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] > 0).astype(int)
    overrides: dict[str, object] = {"capture_packages": False, "capture_git": False, "tracking_uri": None}
    if project:
        overrides["project"] = project
    client = Client(settings.model_copy(update=overrides))
    try:
        with client.start_run("webhook-tests") as run:
            run.log_model(LogisticRegression().fit(x, y), "model", registered_model_name=name)
        return client.registry.resolve(name).version
    finally:
        client.close()


def home_settings(root: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "home": root, "database_url": f"sqlite:///{root / 'steward.db'}", "artifact_root": str(root / "artifacts"),
        "tracking_uri": None, "user": "tester", "capture_git": False, "capture_packages": False,
        "allow_private_urls": True,  # the receivers listen on loopback (the guard itself: test_webhooks_egress.py)
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
