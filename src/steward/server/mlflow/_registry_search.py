"""MLflow's registry search filters (``name LIKE 'fraud%' AND tags.team = 'risk'``),
order_by and page tokens, evaluated on records of registered models or versions.

MLflow's registry filter language is a conjunction of comparisons (no OR, no parentheses):
``<key> <op> <value>`` joined by ``AND``, where key is an attribute (``name``,
``run_id``, ``version_number``, ``source_path``, timestamps) or ``tags.<key>``, op one of
``= != < <= > >= LIKE ILIKE IN``. Registries hold few models, so the matching rows are
filtered here after the projects the caller may read were applied in the query.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.errors import InvalidInputError

from ._filters import _like

__all__ = ["Condition", "apply_order", "matches", "page_of", "parse_registry_filter"]

Record = Mapping[str, Any]  # Any: attribute values (str or int) and "tags": dict[str, str]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|==|=|<|>)
    | (?P<punct>[(),])
    | (?P<ident>(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:`[^`]+`|[A-Za-z0-9_.\-]+))?)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"like", "ilike", "in", "not"}


@dataclass(frozen=True, slots=True)
class Condition:
    """One comparison: ``key`` is ``tags.<k>`` or an attribute name."""

    key: str
    op: str
    value: Any  # Any: a string, a number, or a tuple of them for IN


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        found = _TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            raise InvalidInputError(f"filter: unexpected text at position {pos}: {text[pos:pos + 20]!r}", field="filter")
        kind = found.lastgroup or ""
        out.append((kind, found.group(kind), found.start(kind)))
        pos = found.end()
    return out


def parse_registry_filter(text: str | None, attributes: frozenset[str]) -> list[Condition]:
    """The conditions of an MLflow registry filter (all must hold).

    Raises:
        InvalidInputError: a syntax error or an unknown attribute, with its position.
    """
    if text is None or not text.strip():
        return []
    if len(text) > 10_000:
        raise InvalidInputError("filter is longer than 10000 characters", field="filter")
    tokens = _tokens(text)
    conditions: list[Condition] = []
    i = 0

    def expect(kinds: tuple[str, ...], what: str) -> tuple[str, str, int]:
        nonlocal i
        if i >= len(tokens) or tokens[i][0] not in kinds:
            where = tokens[i][2] if i < len(tokens) else len(text)
            raise InvalidInputError(f"filter: expected {what} at position {where}", field="filter")
        i += 1
        return tokens[i - 1]

    while True:
        _, ident, pos = expect(("ident",), "a key (name, tags.<key>, ...)")
        key = _key(ident, attributes, pos)
        op = ""
        if i < len(tokens) and tokens[i][0] == "op":
            op = "=" if tokens[i][1] == "==" else tokens[i][1]
            i += 1
        else:
            _, word, wpos = expect(("ident",), "a comparison (=, !=, <, >, LIKE, ILIKE, IN)")
            op = word.lower()
            if op == "not":
                _, word2, _ = expect(("ident",), "IN after NOT")
                op = "not in" if word2.lower() == "in" else ""
            if op not in _WORD_OPS - {"not"} and op != "not in":
                raise InvalidInputError(f"filter: unknown comparison {word!r} at position {wpos}", field="filter")
        value: Any  # Any: str, number or tuple
        if op in ("in", "not in"):
            expect(("punct",), "'('")
            items: list[Any] = []  # Any: str or number
            while True:
                kind, raw, _ = expect(("string", "number"), "a value")
                items.append(_unquote(raw) if kind == "string" else float(raw))
                _, sep, spos = expect(("punct",), "',' or ')'")
                if sep == ")":
                    break
                if sep != ",":
                    raise InvalidInputError(f"filter: expected ',' or ')' at position {spos}", field="filter")
            value = tuple(items)
        else:
            kind, raw, _ = expect(("string", "number"), "a quoted value or a number")
            value = _unquote(raw) if kind == "string" else float(raw)
        conditions.append(Condition(key, op, value))
        if i >= len(tokens):
            return conditions
        _, word, wpos = expect(("ident",), "AND")
        if word.lower() != "and":
            raise InvalidInputError(f"filter: expected AND at position {wpos} (MLflow's registry search has no OR)", field="filter")


def _key(ident: str, attributes: frozenset[str], pos: int) -> str:
    head, dot, rest = ident.partition(".")
    head = head.strip("`")
    if dot and head in ("tags", "tag"):
        return "tags." + rest.strip("`")
    if dot and head == "attributes":
        head, dot = rest.strip("`"), ""
    if dot or head not in attributes:
        raise InvalidInputError(
            f"filter: unknown key {ident[:60]!r} at position {pos}; keys: {', '.join(sorted(attributes))}, tags.<key>",
            field="filter",
        )
    return head


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {  # Any: both sides of one comparison
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _holds(c: Condition, record: Record) -> bool:
    if c.key.startswith("tags."):
        found: Any = record["tags"].get(c.key[5:])  # Any: str or None
    else:
        found = record.get(c.key)
    if found is None:
        return c.op in ("!=", "not in")
    if c.op in ("like", "ilike"):
        return isinstance(c.value, str) and _like(c.value, str(found), fold=c.op == "ilike")
    if c.op in ("in", "not in"):
        inside = any(_same(found, v) for v in c.value)
        return inside if c.op == "in" else not inside
    if isinstance(found, (int, float)) and not isinstance(c.value, (int, float)):
        try:
            value: Any = float(c.value)  # Any: a number parsed from a quoted value
        except ValueError:
            return False
    elif isinstance(found, str) and not isinstance(c.value, str):
        return False
    else:
        value = c.value
    return _COMPARE[c.op](found, value)


def _same(found: Any, value: Any) -> bool:  # Any: one attribute value and one filter value
    if isinstance(found, (int, float)) and isinstance(value, str):
        try:
            return float(value) == found
        except ValueError:
            return False
    return bool(found == value)


def matches(conditions: Sequence[Condition], record: Record) -> bool:
    """True when ``record`` meets every condition."""
    return all(_holds(c, record) for c in conditions)


def apply_order(records: list[Record], order_by: Sequence[str], attributes: frozenset[str], default: Sequence[str]) -> list[Record]:
    """``records`` sorted by MLflow's ``["name ASC", "last_updated_timestamp DESC"]``.

    Raises:
        InvalidInputError: an unknown key or direction.
    """
    clauses = list(order_by) or list(default)
    ordered = list(records)
    for clause in reversed(clauses):
        parts = clause.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
            raise InvalidInputError(f"order_by {clause[:60]!r} is not '<key> [ASC|DESC]'", field="order_by")
        key = _key(parts[0].removeprefix("attributes."), attributes | {"timestamp"}, 0)
        key = "last_updated_timestamp" if key == "timestamp" else key
        descending = len(parts) == 2 and parts[1].upper() == "DESC"
        ordered.sort(key=lambda r: (r.get(key) is None, r.get(key) if r.get(key) is not None else 0), reverse=descending)
    return ordered


def page_of(records: list[Record], max_results: int | None, page_token: str | None, *, default: int, limit: int) -> tuple[list[Record], str | None]:
    """One page of ``records`` and the token of the next (an offset this server issued).

    Raises:
        InvalidInputError: a token this server did not issue, or a bad max_results.
    """
    if max_results is not None and max_results < 0:
        raise InvalidInputError("max_results must be positive", field="max_results")
    size = min(max_results or default, limit)
    if page_token and (not page_token.isdigit() or len(page_token) > 12):
        raise InvalidInputError("page_token is not one this server issued", field="page_token")
    start = int(page_token) if page_token else 0
    page = records[start : start + size]
    return page, (str(start + size) if start + size < len(records) else None)
