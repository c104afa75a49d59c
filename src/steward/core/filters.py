"""The search filter language, parsed into a small syntax tree (no SQL here).

Grammar (case-insensitive keywords)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" expr ")" | comparison
    comparison := ident op value | ident ["not"] "in" "(" value ("," value)* ")"
                | ident "is" ["not"] "null"
    ident      := entity "." key | attribute
    entity     := metrics | metric | params | param | tags | tag | attributes | attribute | attr | run
    op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "like" | "ilike"
    value      := number | 'string' | "string"

Keys may be quoted with backticks or double quotes (``metrics.`val loss` < 1``).
Adapters translate the tree into parameterised queries; no text from a filter ever
becomes SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Union

from steward.errors import FilterSyntaxError

Entity = Literal["metric", "param", "tag", "attribute"]
Scalar = Union[float, str, None]

ATTRIBUTES = frozenset(
    {"run_id", "name", "status", "start_time", "end_time", "user", "experiment_id", "note"}
)
_ENTITY_ALIASES: dict[str, Entity] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
_ATTRIBUTE_ALIASES = {"run_name": "name", "run_uuid": "run_id", "user_id": "user"}
_OPS = ("<=", ">=", "!=", "==", "=", "<", ">")
# Parentheses and NOTs nest at most this deep. Everything that walks the tree (the parser,
# the MLflow translation, the SQL compiler) recurses once per level; without a bound a
# filter of 10,000 "(" is a RecursionError, i.e. a 500, instead of a 400.
MAX_FILTER_DEPTH = 50


@dataclass(frozen=True, slots=True)
class Comparison:
    entity: Entity
    key: str
    op: str  # one of = != < <= > >= like ilike in not_in is_null is_not_null
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Logical:
    op: Literal["and", "or", "not"]
    operands: tuple[FilterExpr, ...]


FilterExpr = Union[Comparison, Logical]


@dataclass(frozen=True, slots=True)
class OrderBy:
    entity: Entity
    key: str
    descending: bool


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word, string, number, op, lparen, rparen, comma, quoted, dot, end
    text: str
    pos: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted>`[^`]*`|"(?:[^"\\]|\\.)*")
  | (?P<op><=|>=|!=|==|=|<|>)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<dot>\.)
    """,
    re.VERBOSE,
)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise FilterSyntaxError(f"unexpected character {text[pos]!r}", position=pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unquote_string(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)|''", lambda m: m.group(1) or "'", body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def expect(self, kind: str, what: str) -> _Token:
        if self.tok.kind != kind:
            found = "end of filter" if self.tok.kind == "end" else repr(self.tok.text)
            raise FilterSyntaxError(f"expected {what}, found {found}", position=self.tok.pos)
        return self.advance()

    def parse(self) -> FilterExpr:
        expr = self.parse_or()
        if self.tok.kind != "end":
            raise FilterSyntaxError(
                f"expected 'and', 'or' or end of filter, found {self.tok.text!r}",
                position=self.tok.pos,
            )
        return expr

    def parse_or(self) -> FilterExpr:
        operands = [self.parse_and()]
        while self.keyword("or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Logical("or", tuple(operands))

    def parse_and(self) -> FilterExpr:
        operands = [self.parse_unary()]
        while self.keyword("and"):
            self.advance()
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else Logical("and", tuple(operands))

    def parse_unary(self) -> FilterExpr:
        if not (self.keyword("not") or self.tok.kind == "lparen"):
            return self.parse_comparison()
        if self.depth >= MAX_FILTER_DEPTH:
            raise FilterSyntaxError(
                f"filter nests parentheses or NOT more than {MAX_FILTER_DEPTH} deep", position=self.tok.pos
            )
        self.depth += 1
        try:
            if self.advance().kind == "lparen":
                expr = self.parse_or()
                self.expect("rparen", "')'")
                return expr
            return Logical("not", (self.parse_unary(),))
        finally:
            self.depth -= 1

    def parse_ident(self) -> tuple[Entity, str]:
        tok = self.tok
        if tok.kind != "word":
            found = "end of filter" if tok.kind == "end" else repr(tok.text)
            raise FilterSyntaxError(
                f"expected a field such as metrics.auc, found {found}", position=tok.pos
            )
        self.advance()
        head = tok.text.lower()
        if self.tok.kind == "dot":
            if head not in _ENTITY_ALIASES:
                raise FilterSyntaxError(
                    f"unknown field kind {tok.text!r}; use metrics, params, tags or attributes",
                    position=tok.pos,
                )
            self.advance()
            key_tok = self.tok
            if key_tok.kind == "quoted":
                self.advance()
                key = key_tok.text[1:-1]
            elif key_tok.kind in ("word", "number"):
                # keys like "val.loss" or "layer-1.size": join dotted words
                parts = [self.advance().text]
                while self.tok.kind == "dot" and self.tokens[self.i + 1].kind in ("word", "number"):
                    self.advance()
                    parts.append(self.advance().text)
                key = ".".join(parts)
            else:
                raise FilterSyntaxError("expected a key after '.'", position=key_tok.pos)
            entity = _ENTITY_ALIASES[head]
        else:
            entity, key = "attribute", head
        if entity == "attribute":
            key = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
            if key not in ATTRIBUTES:
                raise FilterSyntaxError(
                    f"unknown attribute {key!r}; known: {', '.join(sorted(ATTRIBUTES))}",
                    position=tok.pos,
                )
        return entity, key

    def parse_value(self) -> Scalar:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return float(tok.text)
        if tok.kind == "string":
            self.advance()
            return _unquote_string(tok.text)
        if tok.kind == "quoted" and tok.text.startswith('"'):
            self.advance()
            return _unquote_string(tok.text)
        found = "end of filter" if tok.kind == "end" else repr(tok.text)
        raise FilterSyntaxError(f"expected a number or a quoted string, found {found}", position=tok.pos)

    def parse_comparison(self) -> Comparison:
        entity, key = self.parse_ident()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            op = "=" if tok.text == "==" else tok.text
            value = self.parse_value()
        elif self.keyword("like", "ilike"):
            op = self.advance().text.lower()
            value = self.parse_value()
            if not isinstance(value, str):
                raise FilterSyntaxError(f"{op} needs a quoted pattern", position=tok.pos)
        elif self.keyword("is"):
            self.advance()
            negated = self.keyword("not")
            if negated:
                self.advance()
            if not self.keyword("null"):
                raise FilterSyntaxError("expected NULL after IS", position=self.tok.pos)
            self.advance()
            return Comparison(entity, key, "is_not_null" if negated else "is_null", None)
        elif self.keyword("in", "not"):
            negated = self.advance().text.lower() == "not"
            if negated:
                if not self.keyword("in"):
                    raise FilterSyntaxError("expected IN after NOT", position=self.tok.pos)
                self.advance()
            self.expect("lparen", "'(' after IN")
            values = [self.parse_value()]
            while self.tok.kind == "comma":
                self.advance()
                values.append(self.parse_value())
            self.expect("rparen", "')'")
            return Comparison(entity, key, "not_in" if negated else "in", tuple(values))
        else:
            found = "end of filter" if tok.kind == "end" else repr(tok.text)
            raise FilterSyntaxError(
                f"expected a comparison operator (=, !=, <, <=, >, >=, LIKE, IN), found {found}",
                position=tok.pos,
            )
        if entity == "metric" and not isinstance(value, float):
            raise FilterSyntaxError(f"metrics.{key} compares with a number", position=tok.pos)
        if entity in ("param", "tag") and op in ("<", "<=", ">", ">=") and isinstance(value, float):
            # params and tags are strings; comparing them to numbers is a common slip
            raise FilterSyntaxError(
                f"{entity}s.{key} is a string; quote the value", position=tok.pos
            )
        return Comparison(entity, key, op, value)


def parse_filter(text: str | None) -> FilterExpr | None:
    """Parse a filter string; ``None`` or blank means no filter.

    Raises:
        FilterSyntaxError: naming the position of the first fault.

    Example:
        >>> parse_filter("metrics.auc > 0.9 and params.model = 'gbm'")  # doctest: +ELLIPSIS
        Logical(op='and', ...)
    """
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


def parse_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderBy]:
    """Parse ``["metrics.auc DESC", "start_time"]`` into :class:`OrderBy` items."""
    result: list[OrderBy] = []
    for clause in clauses or ():
        try:
            parser = _Parser(clause)
            entity, key = parser.parse_ident()
            descending = False
            if parser.keyword("desc", "asc"):
                descending = parser.advance().text.lower() == "desc"
            if parser.tok.kind != "end":
                raise FilterSyntaxError(
                    f"expected ASC, DESC or end of order_by, found {parser.tok.text!r}",
                    position=parser.tok.pos,
                )
        except FilterSyntaxError as exc:
            # the parser's errors name "filter"; here the fault is in order_by
            exc.field = "order_by"
            raise
        result.append(OrderBy(entity, key, descending))
    return result
