"""Names a package exports but imports only when first used (a module ``__getattr__``, PEP 562).

A package keeps a map of such names to the module that defines each (relative to the
package or absolute) and delegates its ``__getattr__`` and ``__dir__`` here, so that
``import steward`` (the CLI), ``steward.serving`` (without the ``serve`` extra) and
``steward.monitoring`` (the server's monitor runner) do not import what they only name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping

__all__ = ["lazy_dir", "lazy_name"]


def lazy_name(package: str, names: Mapping[str, str], namespace: MutableMapping[str, object], name: str) -> object:
    """The value of ``name``, imported from its module and kept in ``namespace`` (the
    package's globals) so that the next lookup does not come here."""
    module = names.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, package), name)
    namespace[name] = value
    return value


def lazy_dir(names: Mapping[str, str], namespace: Mapping[str, object]) -> list[str]:
    return sorted({*namespace, *names})
