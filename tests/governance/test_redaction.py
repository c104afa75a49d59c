"""Redaction: known secret values become ``***`` in log messages, arguments and tracebacks,
including the real server's access log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from steward.governance import (
    MASK,
    Redactor,
    SecretRedactionFilter,
    generate_master_key,
    install_redaction,
)

SECRET = "sk-live-0123456789abcdef"


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise RuntimeError(f"connect failed with password {SECRET}")
        except RuntimeError:
            info = sys.exc_info()
    return logging.LogRecord("t", logging.ERROR, __file__, 1, msg, args, info)


def _format(record: logging.LogRecord) -> str:
    return logging.Formatter("%(message)s").format(record)


def test_a_known_value_is_masked_in_the_message_and_its_arguments() -> None:
    filt = SecretRedactionFilter(Redactor([SECRET]))
    for record in (_record(f"token is {SECRET}"), _record("token is %s; again %s", SECRET, SECRET)):
        assert filt.filter(record)
        assert _format(record) == f"token is {MASK}" or _format(record) == f"token is {MASK}; again {MASK}"


def test_a_value_in_a_traceback_is_masked() -> None:
    record = _record("request failed", exc=True)
    SecretRedactionFilter(Redactor([SECRET])).filter(record)
    text = _format(record)
    assert "RuntimeError" in text and SECRET not in text and MASK in text


def test_longer_secrets_win_and_short_values_are_not_treated_as_secrets() -> None:
    redactor = Redactor(["abcd", "abcdefgh", "ab"])
    assert redactor.redact("x abcdefgh y abcd z ab") == f"x {MASK} y {MASK} z ab"
    assert not Redactor().contains("anything") and Redactor().redact("anything") == "anything"


def test_values_with_regex_characters_are_matched_literally() -> None:
    redactor = Redactor(["a.b*c(d"])
    assert redactor.redact("a.b*c(d and axbbbcd") == f"{MASK} and axbbbcd"


def test_install_masks_records_of_any_logger_and_removal_undoes_it(caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.StreamHandler(stream := _Buffer())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        redactor = Redactor()
        remove = install_redaction(redactor)
        redactor.add(SECRET)  # values learnt after installation count too
        logging.getLogger("steward.some.module").warning("using %s", SECRET)
        remove()
        logging.getLogger("steward.some.module").warning("after %s", "removal")
    finally:
        root.removeHandler(handler)
    assert f"using {MASK}" in stream.text and SECRET not in stream.text and "after removal" in stream.text


class _Buffer:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def test_the_live_servers_log_never_shows_a_secret_value(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(STEWARD_HOME=str(tmp_path / "home"), STEWARD_AUTH="off", STEWARD_MASTER_KEY=generate_master_key())
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "steward", "server", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base, proc)
            assert httpx.put(f"{base}/api/v1/secrets/API_KEY", json={"value": SECRET}).status_code == 200
            # a client that pastes the value where it does not belong: into a URL (access log) ...
            httpx.get(f"{base}/api/v1/runs/{SECRET}")
            httpx.get(f"{base}/api/v1/experiments", params={"q": SECRET})
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    text = log.read_text()
    assert "/api/v1/runs/" in text, text[-2000:]  # the access log is on
    assert SECRET not in text and MASK in text


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not start")
