"""YAML files users write, checked against a JSON Schema with every fault naming its line.

Rollout policies, gate policies and alert rules share this: the document is composed once
into nodes (which know their lines) and constructed from them, and each schema error is
mapped back to the line of the key or item it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

__all__ = ["YamlDocument", "compose", "schema_faults"]


class YamlDocument:
    """A parsed YAML document and the line of every key and item in it."""

    __slots__ = ("_lines", "data")

    def __init__(self, root: yaml.Node | None, data: object) -> None:
        self.data = data
        self._lines: dict[tuple[object, ...], int] = {}
        self._record(root, ())

    def _record(self, node: yaml.Node | None, path: tuple[object, ...]) -> None:
        if node is None:
            return
        self._lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
                self._lines[(*path, name, "key")] = key.start_mark.line + 1
                self._record(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._record(item, (*path, index))

    def line(self, path: Sequence[object], *, key: bool = False) -> int:
        """The line of the value at ``path`` (of its key with ``key=True``), or of the
        nearest enclosing node that exists."""
        probe = (*path, "key") if key and path else tuple(path)
        if key and probe in self._lines:
            return self._lines[probe]
        probe = tuple(path)
        while probe and probe not in self._lines:
            probe = probe[:-1]
        return self._lines.get(probe, 1)


def compose(text: str) -> YamlDocument | tuple[int, str]:
    """Parse ``text``; a syntax error comes back as ``(line, message)``.

    libyaml's C loader when PyYAML has it (as validation suites do): large files parse in
    milliseconds, and its nodes carry the same lines.
    """
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            root = loader.get_single_node()
            data = None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        return ((mark.line + 1) if mark is not None else 1, f"YAML syntax: {getattr(exc, 'problem', None) or exc}")
    return YamlDocument(root, data)


def schema_faults(
    doc: YamlDocument, schema: dict[str, Any], *, root_name: str = "document", durations: str = "30s, 15m, 1h or 7d"  # Any: JSON Schema
) -> set[tuple[int, str]]:
    """Every JSON Schema error of ``doc`` as (line, message); unknown keys list the known ones
    and a bad duration (a string whose ``pattern`` ends in time units) says what a duration
    looks like (``durations``: examples)."""
    import jsonschema

    faults: set[tuple[int, str]] = set()
    for error in jsonschema.Draft202012Validator(schema).iter_errors(doc.data):
        path = tuple(error.absolute_path)
        where = ".".join(map(str, path)) or root_name
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - set(allowed), key=str):
                faults.add((doc.line((*path, extra), key=True), f"{where}: unknown key {str(extra)[:60]!r}; keys are: {', '.join(allowed)}"))
            continue
        if error.validator == "pattern" and "(ms|s|m|h" in str(error.schema.get("pattern", "")):
            faults.add((doc.line(path), f"{where}: {str(error.instance)[:40]!r} is not a duration such as {durations}"))
            continue
        faults.add((doc.line(path), f"{where}: {error.message[:300]}"))
    return faults
