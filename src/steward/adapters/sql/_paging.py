"""Opaque page tokens for listings (an offset, base64-encoded JSON)."""

from __future__ import annotations

import base64
import json

from steward.errors import InvalidInputError


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    """The offset in ``token`` (0 for none); refuses tokens this server did not issue."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError("page_token is not one this server issued", field="page_token") from exc
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInputError("page_token is not one this server issued", field="page_token")
    return offset
