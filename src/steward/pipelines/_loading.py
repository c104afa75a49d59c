"""Finding the pipeline in a user's Python file."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from steward.errors import InvalidInputError, NotFoundError

from ._pipeline import Pipeline

__all__ = ["load_pipeline"]


def load_pipeline(path: str | Path, name: str | None = None) -> Pipeline[..., Any]:
    """Import ``path`` and return its pipeline (the one named ``name`` when it has several).

    Raises:
        NotFoundError: no such file, or no pipeline of that name in it.
        InvalidInputError: several pipelines and no name, or the file fails to import.
    """
    file = Path(path)
    if not file.is_file():
        raise NotFoundError(f"no such file: {file}", field="file")
    # the same name in every process (hash() of a str is not): the cache keys of its steps name it
    module_name = f"steward_pipeline_{hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:16]}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise InvalidInputError(f"{file} is not a Python file", field="file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pickled outputs of classes defined in the file need it
    sys.path.insert(0, str(file.resolve().parent))  # the file's own helpers import as they would when run
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise InvalidInputError(f"{file} failed to import: {type(exc).__name__}: {exc}", field="file") from exc
    found = {p.name: p for p in vars(module).values() if isinstance(p, Pipeline)}
    if name is not None:
        if name not in found:
            raise NotFoundError(f"no pipeline {name!r} in {file} (found: {', '.join(sorted(found)) or 'none'})", field="name")
        return found[name]
    if len(found) != 1:
        raise InvalidInputError(
            f"{file} defines {len(found)} pipelines ({', '.join(sorted(found)) or 'none'}); name one with --name", field="name"
        )
    return next(iter(found.values()))
