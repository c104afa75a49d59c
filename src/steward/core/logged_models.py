"""MLflow 3's logged models: a model's files, params, tags and metrics, kept in an experiment.

``mlflow.<flavor>.log_model`` creates a logged model (``PENDING``), uploads its folder
(``MLmodel`` and the flavor's files) and finalizes it (``READY``, or ``FAILED`` when the
upload broke). A run that produced it lists it among its outputs. The model belongs to
its experiment, and so to the experiment's project.

Search filters use MLflow's logged-model language: comparisons joined by ``AND`` on
attributes (``name``, ``model_id``, ``model_type``, ``status``, ``source_run_id``,
``creation_timestamp``, ``last_updated_timestamp``), ``metrics.<key>``, ``params.<key>`` and
``tags.<key>``. Everything here is pure: parsing, matching and ordering, no I/O.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from steward.errors import FilterSyntaxError, InvalidInputError

__all__ = [
    "MODEL_ATTRIBUTES",
    "LoggedModel",
    "LoggedModelMetric",
    "LoggedModelStatus",
    "ModelCondition",
    "ModelOrder",
    "check_model_id",
    "matches",
    "new_model_id",
    "order_models",
    "parse_model_filter",
    "parse_order",
]


class LoggedModelStatus(str, enum.Enum):
    """Where a logged model's upload stands."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LoggedModelMetric:
    """A metric point recorded for a model (MLflow logs a run's metrics with the model's id)."""

    key: str
    value: float
    step: int = 0
    timestamp: int = 0
    run_id: str = ""
    dataset_name: str = ""
    dataset_digest: str = ""


@dataclass(frozen=True, slots=True)
class LoggedModel:
    model_id: str
    experiment_id: str
    name: str
    status: LoggedModelStatus
    created_at: int  # ms since epoch, UTC
    updated_at: int
    creator: str = ""
    model_type: str = ""
    source_run_id: str = ""
    status_message: str = ""
    lifecycle_stage: str = "active"
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: tuple[LoggedModelMetric, ...] = ()

    def latest_metric(self, key: str) -> float | None:
        """The value of the last point of ``key`` (highest step, then latest time)."""
        points = [m for m in self.metrics if m.key == key]
        if not points:
            return None
        return max(points, key=lambda m: (m.step, m.timestamp)).value


_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


def new_model_id() -> str:
    """A fresh model id: ``m-`` and 32 hex characters, as MLflow's server makes them."""
    return f"m-{uuid.uuid4().hex}"


def check_model_id(value: object, field: str = "model_id") -> str:
    """Refuse anything that is not a model id this server could have made.

    Raises:
        InvalidInputError: naming ``field``.
    """
    if not isinstance(value, str) or _MODEL_ID.fullmatch(value) is None:
        raise InvalidInputError("a logged model id is 'm-' and 32 hexadecimal characters", field=field)
    return value


# -- search filters ------------------------------------------------------------------------

Entity = Literal["attribute", "metric", "param", "tag"]
MODEL_ATTRIBUTES = frozenset(
    {"name", "model_id", "model_type", "status", "source_run_id", "creation_timestamp", "last_updated_timestamp"}
)
_ATTRIBUTE_ALIASES = {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp", "run_id": "source_run_id"}
_NUMERIC_ATTRIBUTES = frozenset({"creation_timestamp", "last_updated_timestamp"})
_ENTITIES: dict[str, Entity] = {
    "attributes": "attribute", "attribute": "attribute", "attr": "attribute",
    "metrics": "metric", "metric": "metric",
    "params": "param", "param": "param",
    "tags": "tag", "tag": "tag",
}
_STATUS_NAMES = {
    "LOGGED_MODEL_PENDING": "pending", "PENDING": "pending",
    "LOGGED_MODEL_READY": "ready", "READY": "ready",
    "LOGGED_MODEL_UPLOAD_FAILED": "failed", "UPLOAD_FAILED": "failed", "FAILED": "failed",
}
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<quoted>`[^`]*`)
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<op><=|>=|!=|==|=|<|>)
      | (?P<lparen>\() | (?P<rparen>\)) | (?P<comma>,) | (?P<dot>\.)
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)""",
    re.VERBOSE,
)
Value = str | float


@dataclass(frozen=True, slots=True)
class ModelCondition:
    """One comparison of a filter; a filter is a conjunction of them."""

    entity: Entity
    key: str
    op: str  # = != < <= > >= like ilike in not_in
    value: Value | tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class ModelOrder:
    entity: Entity
    key: str
    ascending: bool = True


def _tokens(text: str) -> list[tuple[str, str, int]]:
    found: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FilterSyntaxError(f"unexpected character {text[pos]!r}", position=pos)
        if m.lastgroup != "ws":
            found.append((m.lastgroup or "", m.group(), pos))
        pos = m.end()
    found.append(("end", "", len(text)))
    return found


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, what: str) -> FilterSyntaxError:
        kind, text, pos = self.peek()
        return FilterSyntaxError(f"expected {what}, found {'end of filter' if kind == 'end' else repr(text)}", position=pos)

    def word(self, *words: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "word" and text.lower() in words

    def ident(self) -> tuple[Entity, str]:
        kind, text, pos = self.peek()
        if kind not in ("word", "quoted"):
            raise self.fail("a field such as name or metrics.accuracy")
        self.take()
        head = text.strip("`").lower()
        if self.peek()[0] == "dot" and head in _ENTITIES:
            self.take()
            kkind, ktext, _ = self.peek()
            if kkind == "quoted":
                self.take()
                key = ktext[1:-1]
            elif kkind in ("word", "number"):
                parts = [self.take()[1]]
                while self.peek()[0] == "dot" and self.toks[self.i + 1][0] in ("word", "number"):
                    self.take()
                    parts.append(self.take()[1])
                key = ".".join(parts)
            else:
                raise self.fail("a key after '.'")
            entity = _ENTITIES[head]
        else:
            entity, key = "attribute", head
        if entity == "attribute":
            key = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
            if key not in MODEL_ATTRIBUTES:
                raise FilterSyntaxError(
                    f"unknown attribute {key[:60]!r}; known: {', '.join(sorted(MODEL_ATTRIBUTES))}", position=pos
                )
        return entity, key

    def value(self) -> Value:
        kind, text, _ = self.peek()
        if kind == "number":
            self.take()
            return float(text)
        if kind == "string":
            self.take()
            return _unquote(text)
        raise self.fail("a number or a quoted string")

    def condition(self) -> ModelCondition:
        entity, key = self.ident()
        kind, text, pos = self.peek()
        value: Value | tuple[Value, ...]
        if kind == "op":
            self.take()
            op = "=" if text == "==" else text
            value = self.value()
        elif self.word("like", "ilike"):
            op = self.take()[1].lower()
            value = self.value()
            if not isinstance(value, str):
                raise FilterSyntaxError(f"{op} needs a quoted pattern", position=pos)
        elif self.word("in", "not"):
            op = "not_in" if self.take()[1].lower() == "not" else "in"
            if op == "not_in":
                if not self.word("in"):
                    raise self.fail("IN after NOT")
                self.take()
            if self.peek()[0] != "lparen":
                raise self.fail("'(' after IN")
            self.take()
            items = [self.value()]
            while self.peek()[0] == "comma":
                self.take()
                items.append(self.value())
            if self.peek()[0] != "rparen":
                raise self.fail("')'")
            self.take()
            value = tuple(items)
        else:
            raise self.fail("a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)")
        numeric = entity == "metric" or (entity == "attribute" and key in _NUMERIC_ATTRIBUTES)
        for v in value if isinstance(value, tuple) else (value,):
            if numeric and not isinstance(v, float) and op not in ("like", "ilike"):
                raise FilterSyntaxError(f"{key} compares with a number", position=pos)
            if not numeric and isinstance(v, float):
                raise FilterSyntaxError(f"{key} is a string; quote the value", position=pos)
        if (entity, key) == ("attribute", "status"):
            value = _status_value(value, pos)
        return ModelCondition(entity, key, op, value)


def _status_value(value: Value | tuple[Value, ...], pos: int) -> Value | tuple[Value, ...]:
    def one(v: Value) -> str:
        name = _STATUS_NAMES.get(str(v).upper())
        if name is None:
            raise FilterSyntaxError(f"unknown status {str(v)[:40]!r}; use PENDING, READY or FAILED", position=pos)
        return name

    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)


def parse_model_filter(text: str | None) -> list[ModelCondition]:
    """Parse a logged-model filter (``name = 'model' AND metrics.accuracy > 0.9``).

    Raises:
        FilterSyntaxError: naming the position of the first fault; ``OR`` is not supported,
            as in MLflow.
    """
    if text is None or not text.strip():
        return []
    parser = _Parser(text)
    conditions = [parser.condition()]
    while parser.word("and"):
        parser.take()
        conditions.append(parser.condition())
    if parser.peek()[0] != "end":
        if parser.word("or"):
            raise FilterSyntaxError("logged-model filters join comparisons with AND only", position=parser.peek()[2])
        raise parser.fail("AND or end of filter")
    return conditions


def _field(model: LoggedModel, entity: Entity, key: str) -> Value | None:
    if entity == "metric":
        return model.latest_metric(key)
    if entity == "param":
        return model.params.get(key)
    if entity == "tag":
        return model.tags.get(key)
    attributes: Mapping[str, Value] = {
        "name": model.name,
        "model_id": model.model_id,
        "model_type": model.model_type,
        "status": model.status.value,
        "source_run_id": model.source_run_id,
        "creation_timestamp": float(model.created_at),
        "last_updated_timestamp": float(model.updated_at),
    }
    return attributes[key]


def _like(pattern: str, text: str, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, (re.IGNORECASE if fold else 0) | re.DOTALL) is not None


def _holds(cond: ModelCondition, left: Value | None) -> bool:
    if left is None:
        return False
    right = cond.value
    if cond.op in ("in", "not_in"):
        assert isinstance(right, tuple)
        return (left in right) == (cond.op == "in")
    assert not isinstance(right, tuple)
    if cond.op in ("like", "ilike"):
        return _like(str(right), str(left), cond.op == "ilike")
    if isinstance(left, float) != isinstance(right, float):
        return False
    if cond.op == "=":
        return left == right
    if cond.op == "!=":
        return left != right
    a, b = (left, right) if isinstance(left, float) else (str(left), str(right))
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[cond.op])  # type: ignore[operator]


def matches(model: LoggedModel, conditions: Sequence[ModelCondition]) -> bool:
    """Whether ``model`` meets every condition."""
    return all(_holds(c, _field(model, c.entity, c.key)) for c in conditions)


def parse_order(field_name: str, ascending: bool = True) -> ModelOrder:
    """One of MLflow's order_by items (``{"field_name": "metrics.accuracy", "ascending": false}``).

    Raises:
        FilterSyntaxError: an unknown field (field ``order_by``).
    """
    try:
        parser = _Parser(field_name)
        entity, key = parser.ident()
        if parser.peek()[0] != "end":
            raise parser.fail("end of the field name")
    except FilterSyntaxError as exc:
        exc.field = "order_by"
        raise
    if entity not in ("attribute", "metric"):
        raise FilterSyntaxError("logged models are ordered by attributes or metrics", position=0, field="order_by")
    return ModelOrder(entity, key, ascending)


def order_models(models: Sequence[LoggedModel], order: Sequence[ModelOrder]) -> list[LoggedModel]:
    """Sort by the given fields (missing metrics last), then newest first and by id, as MLflow."""
    ordered = sorted(models, key=lambda m: m.model_id)
    ordered.sort(key=lambda m: m.created_at, reverse=True)
    for item in reversed(order):  # stable sorts, least significant key first
        present = [m for m in ordered if _field(m, item.entity, item.key) is not None]
        missing = [m for m in ordered if _field(m, item.entity, item.key) is None]
        present.sort(key=lambda m: _sort_key(_field(m, item.entity, item.key)), reverse=not item.ascending)
        ordered = present + missing
    return ordered


def _sort_key(value: Value | None) -> tuple[int, float, str]:
    if isinstance(value, float):
        return (0, value, "")
    return (1, 0.0, str(value))
