"""The UI's signed session cookie and the CSRF token derived from it.

One cookie, ``steward_ui``, carries ``{"u": user, "n": nonce, "t": issued}`` signed with
HMAC-SHA256. Every visitor gets one (anonymous before logging in), so every form, the
login form included, carries a CSRF token: ``HMAC(key, "csrf|" + nonce)``. A cross-site
page can neither read the cookie nor compute the token; logging in and out rotate the
nonce. The key comes from the server's master key when there is one (so replicas share
sessions), otherwise it is random per process (sessions end when the server restarts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from steward.settings import Settings

__all__ = ["COOKIE", "MAX_AGE_S", "Session", "SessionSigner", "session_key"]

COOKIE = "steward_ui"
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    user: str | None
    nonce: str
    issued: int

    @staticmethod
    def fresh(user: str | None = None) -> Session:
        return Session(user, secrets.token_urlsafe(18), int(time.time()))


def session_key(settings: Settings) -> bytes:
    """The signing key: derived from the master key (shared by replicas) or random."""
    material: bytes | None = None
    if settings.master_key is not None:
        material = settings.master_key.get_secret_value().encode()
    else:
        try:
            path = settings.resolved_master_key_file()
            if path.is_file():
                material = path.read_bytes().strip()
        except OSError:
            material = None
    if not material:
        return secrets.token_bytes(32)
    return hmac.new(material, b"steward-ui-session-v1", hashlib.sha256).digest()


class SessionSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, data: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, data, hashlib.sha256).digest()).decode().rstrip("=")

    def dump(self, session: Session) -> str:
        body = base64.urlsafe_b64encode(
            json.dumps({"u": session.user, "n": session.nonce, "t": session.issued}, separators=(",", ":")).encode()
        ).decode().rstrip("=")
        return f"{body}.{self._mac(body.encode())}"

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie value; None when missing, forged or expired."""
        if not value or len(value) > 2000 or "." not in value:
            return None
        body, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        user, nonce, issued = data.get("u"), data.get("n"), data.get("t")
        if not isinstance(nonce, str) or not isinstance(issued, int) or (user is not None and not isinstance(user, str)):
            return None
        if time.time() - issued > MAX_AGE_S:
            return None
        return Session(user, nonce, issued)

    def csrf_token(self, session: Session) -> str:
        return self._mac(f"csrf|{session.nonce}".encode())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))
