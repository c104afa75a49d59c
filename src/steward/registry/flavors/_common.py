"""Helpers shared by the flavor modules."""

from __future__ import annotations

import importlib.util


def importable(module: str) -> bool:
    """True when ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def type_path(obj: object) -> str:
    """``module.QualName`` of the type of ``obj``."""
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
