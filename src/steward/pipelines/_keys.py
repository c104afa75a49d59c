"""Cache keys of pipeline steps: a hash over the step's code (and the functions of the user's
own modules it calls), its parameters and its inputs (dataset versions by content hash,
other values by their pickled bytes)."""

from __future__ import annotations

import hashlib
import inspect
import json
import pickle
import sys
import sysconfig
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["code_hash", "step_key", "value_hash"]

_LIBRARY_PATHS = tuple({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})


def _is_user_code(fn: types.FunctionType) -> bool:
    path = fn.__code__.co_filename
    return not path.startswith(_LIBRARY_PATHS) and not fn.__module__.startswith("steward.")


def _source(fn: types.FunctionType) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # defined in a REPL: the bytecode stands in for the text
        return fn.__code__.co_code.hex() + repr(fn.__code__.co_consts)


def code_hash(fn: Callable[..., Any]) -> str:  # Any: a step takes and returns anything
    """sha256 over the source of ``fn`` and of every function of the user's code it reaches
    through its globals (a helper it calls changes the key too)."""
    seen: dict[str, str] = {}
    todo: list[types.FunctionType] = [inspect.unwrap(fn)] if isinstance(inspect.unwrap(fn), types.FunctionType) else []
    while todo:
        current = todo.pop()
        name = f"{current.__module__}.{current.__qualname__}"
        if name in seen:
            continue
        seen[name] = _source(current)
        names = set(current.__code__.co_names)
        for const in current.__code__.co_consts:  # nested functions and comprehensions
            if isinstance(const, types.CodeType):
                names.update(const.co_names)
        for ref in names:
            target = current.__globals__.get(ref)
            target = getattr(target, "__wrapped__", target)
            if isinstance(target, types.FunctionType) and _is_user_code(target):
                todo.append(target)
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + b"\0" + seen[name].encode() + b"\0")
    return digest.hexdigest()


def value_hash(value: object) -> str:
    """sha256 of a value's pickle (protocol 5); a dataset version hashes as its content."""
    content = getattr(value, "content_hash", None)
    if isinstance(content, str):
        return "dataset:" + content
    return hashlib.sha256(pickle.dumps(value, protocol=5)).hexdigest()


def step_key(name: str, code: str, inputs: Mapping[str, str]) -> str:
    """The cache key of one call of a step."""
    doc = {"step": name, "code": code, "inputs": dict(sorted(inputs.items())), "python": sys.version_info[:2]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
