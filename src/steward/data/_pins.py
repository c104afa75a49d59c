"""Dataset versions pinned by ``steward reproduce``: a bare name resolves to the recorded version.

A script usually reads its data by name (``client.data.get("transactions")``: the latest
version). Re-run by ``steward reproduce``, it must read the version the original run used,
not one registered since: the reproducer exports the recorded inputs as
``STEWARD_PINNED_DATASETS`` (space-separated ``datasets:/name/version`` references), and
every lookup of a bare name (``name``, ``datasets:/name``) among them, embedded or through a
server, resolves to the pinned version. An explicit version or hash prefix is left as given.
"""

from __future__ import annotations

import os

from steward.errors import InvalidInputError

from ._versions import parse_ref

__all__ = ["PINS_ENV", "pinned_ref", "pins_value"]

PINS_ENV = "STEWARD_PINNED_DATASETS"


def _pins(text: str) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for ref in text.split():
        try:
            parsed = parse_ref(ref)
        except InvalidInputError:
            continue
        if parsed.name is None or parsed.version is None:
            continue
        # a run that used several versions of one name read at most one of them by bare name,
        # and that one was then the latest: the highest recorded
        if parsed.name not in found or parsed.version > found[parsed.name][0]:
            found[parsed.name] = (parsed.version, f"datasets:/{parsed.name}/{parsed.version}")
    return found


def pins_value(refs: list[str]) -> str:
    """The value of ``STEWARD_PINNED_DATASETS`` pinning ``refs`` (those naming a version)."""
    return " ".join(ref for _, ref in sorted(_pins(" ".join(refs)).values(), key=lambda p: p[1]))


def pinned_ref(ref: str) -> str:
    """``ref``, or the pinned version when it is a bare name pinned by ``STEWARD_PINNED_DATASETS``."""
    text = os.environ.get(PINS_ENV)
    if not text or not isinstance(ref, str):
        return ref
    try:
        parsed = parse_ref(ref)
    except InvalidInputError:
        return ref  # the lookup reports it
    bare = parsed.name is not None and parsed.version is None and (parsed.hash_prefix is None or parsed.name == parsed.text)
    if not bare:
        return ref
    assert parsed.name is not None
    pin = _pins(text).get(parsed.name)
    return pin[1] if pin else ref
