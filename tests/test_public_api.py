"""The public surface: every package's ``__all__`` and the one error tree's mappings."""

from __future__ import annotations

import importlib
import inspect
import re
import types

import pytest

from steward import errors

PACKAGES = [
    "steward",
    "steward.core",
    "steward.tracking",
    "steward.sdk",
    "steward.server",
    "steward.adapters.sql",
    "steward.adapters.artifacts",
]


def _public_names(module: types.ModuleType) -> set[str]:
    """Public names bound in the module to our own objects (not submodules, not stdlib)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and str(getattr(value, "__module__", "")).startswith("steward")
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_exports_exactly_its_public_names_and_each_imports(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what the package does not have"
    assert _public_names(module) - set(exported) == set(), f"{name} has public names missing from __all__"
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)  # noqa: S102 - the star import users may write
    assert set(exported) <= set(namespace)


def test_every_exported_class_and_function_has_a_docstring() -> None:
    undocumented = []
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            value = getattr(module, attr)
            if (inspect.isclass(value) or inspect.isfunction(value)) and not (value.__doc__ or "").strip():
                undocumented.append(f"{name}.{attr}")
    assert undocumented == []


# "    ├── InvalidInputError             422  exit 2   INVALID_INPUT"
_TREE_LINE = re.compile(r"^\s*(?:[│├└─ ]*)(\w+)\s+(\d{3})\s+exit (\d)\s+([A-Z_]+)\s*$")


def _documented_tree() -> dict[str, tuple[int, int, str]]:
    assert errors.__doc__ is not None
    found = {}
    for line in errors.__doc__.splitlines():
        match = _TREE_LINE.match(line)
        if match:
            found[match.group(1)] = (int(match.group(2)), int(match.group(3)), match.group(4))
    return found


def test_the_error_tree_docstring_covers_every_error_class() -> None:
    assert set(_documented_tree()) == set(errors.__all__)


@pytest.mark.parametrize("name", errors.__all__)
def test_each_error_class_carries_the_status_exit_code_and_code_of_the_docstring(name: str) -> None:
    cls = getattr(errors, name)
    assert (cls.status, cls.exit_code, cls.code) == _documented_tree()[name]
    assert issubclass(cls, errors.StewardError) and name.endswith("Error")


def test_subclasses_sit_under_the_parents_the_docstring_draws() -> None:
    assert issubclass(errors.FilterSyntaxError, errors.InvalidInputError)
    assert issubclass(errors.AuthenticationError, errors.PermissionDeniedError)
    assert issubclass(errors.AlreadyExistsError, errors.ConflictError)
    assert issubclass(errors.IntegrityError, errors.StorageError)
    for name in ("InvalidInputError", "NotFoundError", "PermissionDeniedError", "ConflictError", "StorageError", "CheckFailedError"):
        assert getattr(errors, name).__bases__ == (errors.StewardError,)


def test_an_error_renders_the_one_json_shape() -> None:
    assert errors.NotFoundError("run 'x' not found", field="run_id").to_dict() == {
        "error": {"code": "NOT_FOUND", "message": "run 'x' not found", "field": "run_id"}
    }
    assert errors.ConflictError("busy").to_dict() == {"error": {"code": "CONFLICT", "message": "busy"}}
    syntax = errors.FilterSyntaxError("unexpected ')'", position=7)
    assert syntax.position == 7 and syntax.message.endswith("at position 7") and syntax.field == "filter"
