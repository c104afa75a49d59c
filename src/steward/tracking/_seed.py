"""Seeding every random number generator a training script is likely to use."""

from __future__ import annotations

import importlib
import os
import random

from steward.errors import InvalidInputError


def reproduced_seed(seed: int) -> int:
    """``seed``, or under ``steward reproduce`` the seed the original run recorded.

    ``steward reproduce`` runs the command with ``STEWARD_REPRODUCES=<run id>`` and
    ``STEWARD_SEED=<its recorded seed>``; then the seed a script asks for (one drawn afresh
    each time, say) gives way to the recorded one, so the re-run draws the same numbers. Outside
    a reproduction ``STEWARD_SEED`` changes nothing. Used by :meth:`steward.Client.start_run`
    and :func:`steward.seed_everything`, which record the seed they used.

    Example:
        >>> reproduced_seed(42)  # not under `steward reproduce`
        42
    """
    recorded = os.environ.get("STEWARD_SEED", "").strip()
    if not os.environ.get("STEWARD_REPRODUCES") or not recorded:
        return seed
    try:
        value = int(recorded)
    except ValueError:
        raise InvalidInputError(f"STEWARD_SEED={recorded[:40]!r} is not an integer", field="seed") from None
    if not 0 <= value < 2**32:
        raise InvalidInputError("STEWARD_SEED must be an integer in [0, 2**32)", field="seed")
    return value


def seed_everything(seed: int) -> dict[str, bool]:
    """Seed Python's ``random``, NumPy and PyTorch (when installed) with ``seed``.

    Also sets ``PYTHONHASHSEED`` for child processes. The active run, if any, records the
    seed as the tag ``steward.seed`` (done by :func:`steward.seed_everything`).

    Returns:
        Which libraries were seeded, e.g. ``{"random": True, "numpy": True, "torch": False}``.

    Example:
        >>> seed_everything(42)["random"]
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InvalidInputError("seed must be an integer in [0, 2**32)", field="seed")
    seeded = {"random": True, "numpy": False, "torch": False}
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        np = importlib.import_module("numpy")
        np.random.seed(seed)
        seeded["numpy"] = True
    except ImportError:
        pass
    try:
        torch = importlib.import_module("torch")
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        seeded["torch"] = True
    except ImportError:
        pass
    return seeded
