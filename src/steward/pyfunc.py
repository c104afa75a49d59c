"""Generic Python models: subclass :class:`PythonModel` (``load_context`` + ``predict``)."""

from __future__ import annotations

from steward.registry.flavors.pyfunc import ModelContext, PythonModel

__all__ = ["ModelContext", "PythonModel"]
