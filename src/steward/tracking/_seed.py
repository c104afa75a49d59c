"""Seeding every random number generator a training script is likely to use."""

from __future__ import annotations

import importlib
import os
import random

from steward.errors import InvalidInputError


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
