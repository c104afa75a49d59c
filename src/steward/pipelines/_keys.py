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


def _is_user_path(path: str | None, module: str) -> bool:
    """The rule of what is the user's own code: not the standard library, not an installed
    package (site-packages), not Steward itself."""
    return bool(path) and not str(path).startswith(_LIBRARY_PATHS) and module != "steward" and not module.startswith("steward.")


def _is_user_code(fn: types.FunctionType) -> bool:
    return _is_user_path(fn.__code__.co_filename, fn.__module__)


def _is_user_module(module: types.ModuleType) -> bool:
    return _is_user_path(getattr(module, "__file__", None), module.__name__)


def _is_user_class(cls: type) -> bool:
    module = sys.modules.get(cls.__module__)
    return module is not None and _is_user_module(module)


def _bytecode(code: types.CodeType) -> str:
    # nested code objects by their own bytecode: their repr holds an address, another each process
    consts = [_bytecode(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return code.co_code.hex() + repr(consts)


def _source(fn: types.FunctionType) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # defined in a REPL: the bytecode stands in for the text
        return _bytecode(fn.__code__)


def _class_source(cls: type) -> str | None:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):  # no file to read (a REPL)
        return None


def _names(code: types.CodeType) -> set[str]:
    """Every global and attribute name ``code`` and the code nested in it (functions,
    comprehensions, lambdas, classes) refers to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _methods(cls: type, *, generated: bool) -> list[types.FunctionType]:
    """The functions of a class's own namespace: methods, static and class methods, properties
    (with ``generated=False``, not those without a file, as dataclasses and namedtuple make)."""
    found: list[types.FunctionType] = []
    for _, value in sorted(vars(cls).items()):
        parts = [value.fget, value.fset, value.fdel] if isinstance(value, property) else [getattr(value, "__func__", value)]
        for part in parts:
            part = inspect.unwrap(part) if callable(part) else part
            if isinstance(part, types.FunctionType) and (generated or not part.__code__.co_filename.startswith("<")):
                found.append(part)
    return found


def code_hash(fn: Callable[..., Any]) -> str:  # Any: a step takes and returns anything
    """sha256 over the source of ``fn`` and of the user's code it reaches (a helper it calls
    changes the key too).

    Followed from each function: the functions and classes of the user's code its globals
    name (and the class of an instance of the user's they name); for a global that is a module
    of the user's code (``import helpers`` then ``helpers.clean(x)``), the module's functions,
    classes and submodules the code names as attributes; for a class, its source, its methods
    (followed in turn) and its bases of the user's code. The user's code is what is neither
    the standard library, nor an installed package, nor Steward. Each function, class and
    module is visited once (cycles end), and the digest is over the sorted names, so the key
    does not depend on the order of the walk.
    """
    seen: dict[str, str] = {}
    todo: list[object] = [inspect.unwrap(fn)]

    def follow(target: object, names: set[str], modules: set[str]) -> None:
        if isinstance(target, types.ModuleType):
            if _is_user_module(target) and target.__name__ not in modules:
                modules.add(target.__name__)  # once per function: module cycles end
                for attr in sorted(names & set(vars(target))):  # what the code names as attributes of it
                    follow(vars(target)[attr], names, modules)
            return
        target = getattr(target, "__wrapped__", target)
        if (isinstance(target, types.FunctionType) and _is_user_code(target)) or (
            isinstance(target, type) and _is_user_class(target)
        ):
            todo.append(target)
        elif not isinstance(target, type) and _is_user_class(type(target)):
            todo.append(type(target))  # an instance of a class of the user's (``scaler.apply(x)``): its class

    while todo:
        current = todo.pop()
        if isinstance(current, type):
            key = f"class {current.__module__}.{current.__qualname__}"
            if key in seen:
                continue
            text = _class_source(current)
            # its source covers what dataclasses or namedtuple made from it ("<string>", and
            # "<dynamic-code>" once cloudpickle has sent the class by value): only without a
            # source (a REPL) do the names and the bytecode of all its methods stand in
            seen[key] = text if text is not None else repr(sorted(vars(current)))
            todo.extend(_methods(current, generated=text is None))
            todo.extend(base for base in current.__mro__[1:] if _is_user_class(base))
            continue
        if not isinstance(current, types.FunctionType):
            continue
        key = f"{current.__module__}.{current.__qualname__}"
        if key in seen:
            continue
        seen[key] = _source(current)
        names = _names(current.__code__)
        modules: set[str] = set()
        for ref in sorted(names):
            if ref in current.__globals__:
                follow(current.__globals__[ref], names, modules)
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
