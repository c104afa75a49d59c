"""MLflow search filters and orderings in Steward's filter language.

MLflow's run filter language is nearly Steward's: the differences are the tags that are
run attributes in Steward (``tags.mlflow.runName``, ``tags.mlflow.user``) and status names
in upper case. A filter is parsed with Steward's parser (so syntax errors name their
position in the text the user wrote), rewritten, and printed back in Steward's language.

Experiments have no SQL search in Steward (there are few of them), so their filters are
evaluated here against the listed experiments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from steward.core import Comparison, Experiment, FilterExpr, Logical, parse_filter, parse_order_by
from steward.core.filters import Scalar
from steward.errors import FilterSyntaxError

from ._codec import RUN_NAME_TAG, USER_TAG

_TAG_ATTRIBUTES = {RUN_NAME_TAG: "name", USER_TAG: "user"}
_ENTITY_PREFIX = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}


def _rename(entity: str, key: str) -> tuple[str, str]:
    if entity == "tag" and key in _TAG_ATTRIBUTES:
        return "attribute", _TAG_ATTRIBUTES[key]
    return entity, key


def _lower_status(value: Scalar | tuple[Scalar, ...]) -> Scalar | tuple[Scalar, ...]:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, tuple):
        return tuple(v.lower() if isinstance(v, str) else v for v in value)
    return value


def _translate(expr: FilterExpr) -> FilterExpr:
    if isinstance(expr, Logical):
        return Logical(expr.op, tuple(_translate(e) for e in expr.operands))
    entity, key = _rename(expr.entity, expr.key)
    value = _lower_status(expr.value) if (entity, key) == ("attribute", "status") else expr.value
    return Comparison(entity, key, expr.op, value)  # type: ignore[arg-type]


def _ident(entity: str, key: str) -> str:
    if "`" not in key:
        return f"{_ENTITY_PREFIX[entity]}.`{key}`"
    if '"' not in key:
        return f'{_ENTITY_PREFIX[entity]}."{key}"'
    raise FilterSyntaxError(f"key {key[:60]!r} holds both a backtick and a double quote", position=0)


def _value(v: Scalar) -> str:
    if isinstance(v, float):
        return repr(v)
    if v is None:
        return "null"
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _operand(expr: FilterExpr, parent: str) -> str:
    # Parentheses only where precedence needs them (an OR under AND or NOT, an AND under
    # NOT): the printed filter then nests no deeper than the one the user wrote, so it
    # parses again within the depth limit.
    needs = isinstance(expr, Logical) and (expr.op == "or" and parent != "or" or expr.op == "and" and parent == "not")
    return f"({_unparse(expr)})" if needs else _unparse(expr)


def _unparse(expr: FilterExpr) -> str:
    if isinstance(expr, Logical):
        if expr.op == "not":
            return f"not {_operand(expr.operands[0], 'not')}"
        return f" {expr.op} ".join(_operand(e, expr.op) for e in expr.operands)
    ident = _ident(expr.entity, expr.key)
    if expr.op in ("in", "not_in"):
        assert isinstance(expr.value, tuple)
        word = "in" if expr.op == "in" else "not in"
        return f"{ident} {word} (" + ", ".join(_value(v) for v in expr.value) + ")"
    if expr.op in ("is_null", "is_not_null"):
        return f"{ident} is {'not ' if expr.op == 'is_not_null' else ''}null"
    assert not isinstance(expr.value, tuple)
    return f"{ident} {expr.op} {_value(expr.value)}"


def translate_run_filter(text: str | None) -> str | None:
    """An MLflow run filter as a Steward filter (``None`` for no filter).

    Raises:
        FilterSyntaxError: naming the position in ``text``.
    """
    expr = parse_filter(text)
    return None if expr is None else _unparse(_translate(expr))


def translate_order_by(clauses: Sequence[str] | None) -> list[str]:
    """MLflow order_by clauses as Steward's."""
    out = []
    for item in parse_order_by(list(clauses or ())):
        entity, key = _rename(item.entity, item.key)
        out.append(f"{_ident(entity, key)} {'DESC' if item.descending else 'ASC'}")
    return out


# -- experiments -------------------------------------------------------------------------


def _like(pattern: str, text: str, *, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if fold else re.DOTALL) is not None


def _compare(op: str, left: str | float | None, right: Scalar | tuple[Scalar, ...]) -> bool:
    if op == "is_null":
        return left is None
    if op == "is_not_null":
        return left is not None
    if left is None:
        return False
    if op in ("in", "not_in"):
        assert isinstance(right, tuple)
        found = left in right or (isinstance(left, float) and str(left) in right)
        return found if op == "in" else not found
    if op in ("like", "ilike"):
        return isinstance(right, str) and _like(right, str(left), fold=op == "ilike")
    if isinstance(left, float) != isinstance(right, float):
        raise FilterSyntaxError(f"cannot compare {left!r} with {right!r}", position=0)
    ops = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return bool(ops[op](left, right))


def _experiment_field(e: Experiment, node: Comparison) -> str | float | None:
    if node.entity == "tag":
        return e.tags.get(node.key)
    if node.entity == "attribute" and node.key == "name":
        return e.name
    if node.entity == "attribute" and node.key == "experiment_id":
        return float(e.experiment_id)
    raise FilterSyntaxError(
        f"experiments can be filtered by name, experiment_id and tags, not {node.entity}s.{node.key}", position=0
    )


def _matches(e: Experiment, expr: FilterExpr) -> bool:
    if isinstance(expr, Logical):
        if expr.op == "not":
            return not _matches(e, expr.operands[0])
        results = (_matches(e, x) for x in expr.operands)
        return all(results) if expr.op == "and" else any(results)
    return _compare(expr.op, _experiment_field(e, expr), expr.value)


def filter_experiments(experiments: Sequence[Experiment], text: str | None) -> list[Experiment]:
    """The experiments matching an MLflow experiment filter (``name LIKE 'a%'``, ``tags.k = 'v'``)."""
    expr = parse_filter(text)
    if expr is None:
        return list(experiments)
    return [e for e in experiments if _matches(e, expr)]


_EXPERIMENT_ORDER = {"name", "experiment_id", "creation_time", "last_update_time"}


def order_experiments(experiments: Sequence[Experiment], clauses: Sequence[str] | None) -> list[Experiment]:
    """Sort experiments by MLflow order_by clauses; newest first by default, as MLflow does."""
    keys: list[tuple[str, bool]] = []
    for clause in clauses or ():
        parts = clause.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
            raise FilterSyntaxError(f"cannot read order_by clause {clause[:60]!r}", position=0, field="order_by")
        name = parts[0].removeprefix("attributes.").removeprefix("attribute.")
        if name not in _EXPERIMENT_ORDER:
            raise FilterSyntaxError(
                f"experiments can be ordered by {', '.join(sorted(_EXPERIMENT_ORDER))}", position=0, field="order_by"
            )
        keys.append((name, len(parts) == 2 and parts[1].upper() == "DESC"))
    if not keys:
        keys = [("creation_time", True), ("experiment_id", False)]
    ordered = list(experiments)
    for name, descending in reversed(keys):  # stable sorts, least significant key first
        if name == "name":
            ordered.sort(key=lambda e: e.name, reverse=descending)
        elif name == "experiment_id":
            ordered.sort(key=lambda e: int(e.experiment_id), reverse=descending)
        else:
            ordered.sort(key=lambda e: e.created_at, reverse=descending)
    return ordered

