"""Feature definitions and the point-in-time rules, with no I/O.

An :class:`Entity` names the join keys of the thing features describe (a customer, a
card). A :class:`FeatureView` is a set of typed :class:`Feature` columns read from one
:class:`FeatureSource` (Parquet file or folder, a dataset version, or a SQL query), each
row stamped by the source's event-time column, for one or more entities.

Point-in-time rule (historical retrieval and the brute-force reference in the tests):
for an entity row with keys ``k`` and timestamp ``t``, a view contributes the source row
of keys ``k`` with the greatest event time ``e`` such that ``e <= t`` (the same instant
counts: a value stamped at ``t`` was known at ``t``) and, when the view has a TTL,
``e >= t - ttl`` (inclusive); otherwise its features are null. Several source rows with
the same keys and the same event time are a *tie*: the one with the greatest
``created_time`` wins when the source declares that column; the remaining ties go to
the row that comes last in the source (files in name order, rows in file order), i.e.
the last write wins. Every entity row is returned, in its original order.

A change to a view is *breaking* for a registered model when a feature the model's
signature takes (by column name) is removed, or changes to a type that the model's
signature does not accept (an integer feature still feeds a float input).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from steward.errors import InvalidInputError

__all__ = [
    "DTYPES",
    "Entity",
    "Feature",
    "FeatureChange",
    "FeatureRef",
    "FeatureSource",
    "FeatureView",
    "ModelInputs",
    "breaking_uses",
    "check_feature_name",
    "diff_views",
    "format_ttl",
    "parse_feature_refs",
    "parse_ttl",
    "resolve_refs",
    "view_from_dict",
]

# The feature types; each maps to the signature dtypes a model accepts for it.
DTYPES: Mapping[str, frozenset[str]] = {
    "int64": frozenset({"int64", "int32", "float64", "float32"}),
    "float64": frozenset({"float64", "float32"}),
    "string": frozenset({"object", "string", "str"}),
    "bool": frozenset({"bool", "boolean"}),
}
SOURCE_KINDS = ("parquet", "dataset", "sql")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TTL = re.compile(r"^(\d+)(s|m|h|d)$")
_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def check_feature_name(value: object, field: str) -> str:
    """A view, entity, feature or column name: a letter or ``_`` then letters, digits, ``_`` (max 63).

    Raises:
        InvalidInputError: naming ``field``.
    """
    if not isinstance(value, str) or not _NAME.match(value):
        shown = repr(value)[:40]
        raise InvalidInputError(
            f"{field} {shown} is not a name (a letter or _, then letters, digits or _, at most 63)", field=field
        )
    return value


def parse_ttl(value: object, field: str = "ttl") -> int | None:
    """``"30d"`` -> seconds; ``None``, ``0`` or ``""``: no TTL (any age counts).

    Raises:
        InvalidInputError: not a duration such as ``90s``, ``15m``, ``12h``, ``30d``.
    """
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _TTL.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInputError(f"{field} {str(value)[:20]!r} is not a duration such as 90s, 15m, 12h or 30d", field=field)
    return int(match.group(1)) * _TTL_UNITS[match.group(2)]


def format_ttl(seconds: int | None) -> str | None:
    """The shortest exact form of a TTL (``2592000`` -> ``"30d"``)."""
    if seconds is None:
        return None
    for unit in ("d", "h", "m"):
        if seconds % _TTL_UNITS[unit] == 0:
            return f"{seconds // _TTL_UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Entity:
    """What features describe, identified by its join keys.

    Example:
        >>> customer = Entity("customer", join_keys=("customer_id",))
    """

    name: str
    join_keys: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        check_feature_name(self.name, "entity")
        keys = tuple([self.join_keys] if isinstance(self.join_keys, str) else self.join_keys)
        if not keys:
            raise InvalidInputError(f"entity {self.name} has no join key", field="join_keys")
        for key in keys:
            check_feature_name(key, "join_keys")
        object.__setattr__(self, "join_keys", keys)

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {"name": self.name, "join_keys": list(self.join_keys), "description": self.description}


@dataclass(frozen=True, slots=True)
class Feature:
    """One typed feature column (``int64``, ``float64``, ``string`` or ``bool``)."""

    name: str
    dtype: str = "float64"
    description: str = ""

    def __post_init__(self) -> None:
        check_feature_name(self.name, "feature")
        if self.dtype not in DTYPES:
            raise InvalidInputError(
                f"feature {self.name} has type {str(self.dtype)[:20]!r}; types: {', '.join(DTYPES)}", field="dtype"
            )

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {"name": self.name, "dtype": self.dtype, "description": self.description}


@dataclass(frozen=True, slots=True)
class FeatureSource:
    """Where a view's rows come from.

    Attributes:
        kind: ``parquet`` (``location`` a file, a folder or a glob, local or ``s3://``),
            ``dataset`` (``location`` a dataset version such as ``transactions:3``) or ``sql``
            (``location`` a query on the metadata database's engine).
        event_time: the column with each row's event time.
        created_time: optional column that breaks ties on event time (greatest wins).
    """

    kind: str
    location: str
    event_time: str
    created_time: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise InvalidInputError(f"source kind {str(self.kind)[:20]!r}; kinds: {', '.join(SOURCE_KINDS)}", field="source")
        if not isinstance(self.location, str) or not self.location.strip() or len(self.location) > 10_000:
            raise InvalidInputError(f"a {self.kind} source needs a location", field="source")
        check_feature_name(self.event_time, "event_time")
        if self.created_time is not None:
            check_feature_name(self.created_time, "created_time")

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {"kind": self.kind, "location": self.location, "event_time": self.event_time, "created_time": self.created_time}


@dataclass(frozen=True, slots=True)
class FeatureView:
    """Features of some entities read from one source, with a TTL.

    Example:
        >>> customer = Entity("customer", join_keys=("customer_id",))
        >>> view = FeatureView(
        ...     "fraud_stats", entities=(customer,), features=(Feature("txn_count_7d", "int64"),),
        ...     source=FeatureSource("parquet", "data/fraud_stats.parquet", event_time="ts"), ttl="30d")
        >>> view.ttl_s
        2592000
    """

    name: str
    entities: tuple[Entity, ...]
    features: tuple[Feature, ...]
    source: FeatureSource
    ttl: str | int | None = None
    owner: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    ttl_s: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        check_feature_name(self.name, "name")
        entities = tuple([self.entities] if isinstance(self.entities, Entity) else self.entities)
        features = tuple(self.features)
        if not entities:
            raise InvalidInputError(f"view {self.name} has no entity", field="entities")
        if not features:
            raise InvalidInputError(f"view {self.name} has no feature", field="features")
        seen: set[str] = set()
        for column in [*(k for e in entities for k in e.join_keys), *(f.name for f in features)]:
            if column in seen:
                raise InvalidInputError(f"view {self.name} names column {column} twice", field="features")
            seen.add(column)
        if self.source.event_time in seen:
            raise InvalidInputError(f"view {self.name}: the event-time column {self.source.event_time} is also a feature or key", field="event_time")
        ttl_s = parse_ttl(self.ttl)
        tags = {str(k): str(v) for k, v in dict(self.tags).items()}
        object.__setattr__(self, "entities", entities)
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "ttl", format_ttl(ttl_s))
        object.__setattr__(self, "ttl_s", ttl_s)
        object.__setattr__(self, "tags", tags)

    @property
    def join_keys(self) -> tuple[str, ...]:
        """The join keys of all its entities, in order."""
        return tuple(k for e in self.entities for k in e.join_keys)

    def feature(self, name: str) -> Feature | None:
        return next((f for f in self.features if f.name == name), None)

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        """The canonical definition (what is versioned and compared)."""
        return {
            "name": self.name,
            "entities": [e.to_dict() for e in self.entities],
            "features": [f.to_dict() for f in self.features],
            "source": self.source.to_dict(),
            "ttl": self.ttl,
            "owner": self.owner,
            "tags": dict(sorted(self.tags.items())),
            "description": self.description,
        }

    def canonical(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def _mapping(value: object, field: str) -> Mapping[str, Any]:  # Any: parsed YAML / JSON
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{field} must be a mapping", field=field)
    return value


def _source_from(value: object) -> FeatureSource:
    data = _mapping(value, "source")
    kinds = [k for k in SOURCE_KINDS if k in data]
    if "kind" in data:
        kind, location = data.get("kind"), data.get("location")
    elif len(kinds) == 1:
        kind, location = kinds[0], data.get(kinds[0])
    else:
        raise InvalidInputError("source needs exactly one of parquet:, dataset:, sql:", field="source")
    if "event_time" not in data:
        raise InvalidInputError("source needs event_time: the column of each row's event time", field="event_time")
    return FeatureSource(str(kind), str(location or ""), data["event_time"], data.get("created_time"))


def view_from_dict(data: object, entities: Mapping[str, Entity] | None = None) -> FeatureView:
    """A view from its JSON / YAML form; entities by name (from ``entities``) or inline.

    Raises:
        InvalidInputError: naming the field at fault.
    """
    body = _mapping(data, "feature_views[]")
    known = dict(entities or {})
    parsed_entities: list[Entity] = []
    for item in body.get("entities") or []:
        if isinstance(item, str):
            if item not in known:
                raise InvalidInputError(f"view {body.get('name')!s:.63}: unknown entity {item[:63]!r}", field="entities")
            parsed_entities.append(known[item])
        else:
            e = _mapping(item, "entities[]")
            parsed_entities.append(Entity(e.get("name"), tuple(e.get("join_keys") or ()), str(e.get("description") or "")))  # type: ignore[arg-type]
    features = []
    for item in body.get("features") or []:
        f = _mapping(item, "features[]")
        features.append(Feature(f.get("name"), str(f.get("dtype", "float64")), str(f.get("description") or "")))  # type: ignore[arg-type]
    if "source" not in body:
        raise InvalidInputError(f"view {body.get('name')!s:.63} has no source", field="source")
    return FeatureView(
        body.get("name"),  # type: ignore[arg-type]  # checked in __post_init__
        tuple(parsed_entities),
        tuple(features),
        _source_from(body["source"]),
        ttl=body.get("ttl"),
        owner=str(body.get("owner") or ""),
        tags=dict(_mapping(body.get("tags") or {}, "tags")),
        description=str(body.get("description") or ""),
    )


@dataclass(frozen=True, slots=True)
class FeatureRef:
    """``view:feature``."""

    view: str
    feature: str

    def __str__(self) -> str:
        return f"{self.view}:{self.feature}"


def parse_feature_refs(values: Iterable[str], field: str = "features") -> list[FeatureRef]:
    """``["fraud_stats:txn_count_7d", ...]`` -> refs, in order, without repeats.

    Raises:
        InvalidInputError: a value that is not ``view:feature``, or no value at all.
    """
    if isinstance(values, str):
        values = [values]
    refs: list[FeatureRef] = []
    for value in values:
        view, sep, name = str(value).partition(":")
        if not sep:
            raise InvalidInputError(f"{str(value)[:80]!r} is not view:feature", field=field)
        ref = FeatureRef(check_feature_name(view.strip(), field), check_feature_name(name.strip(), field))
        if ref not in refs:
            refs.append(ref)
    if not refs:
        raise InvalidInputError("name at least one feature as view:feature", field=field)
    return refs


def resolve_refs(refs: Sequence[FeatureRef], views: Mapping[str, FeatureView]) -> dict[str, list[Feature]]:
    """The features each view contributes, in the order asked.

    Raises:
        InvalidInputError: unknown features (all named), or the same feature name from two
            views (the result has one column per feature name).
    """
    unknown = [str(r) for r in refs if r.view in views and views[r.view].feature(r.feature) is None]
    if unknown:
        raise InvalidInputError(f"unknown features: {', '.join(unknown)}", field="features")
    chosen: dict[str, list[Feature]] = {}
    owner: dict[str, str] = {}
    for ref in refs:
        if ref.feature in owner and owner[ref.feature] != ref.view:
            raise InvalidInputError(
                f"feature name {ref.feature} comes from both {owner[ref.feature]} and {ref.view}; ask for one", field="features"
            )
        owner[ref.feature] = ref.view
        found = views[ref.view].feature(ref.feature)
        assert found is not None  # checked above
        chosen.setdefault(ref.view, []).append(found)
    return chosen


@dataclass(frozen=True, slots=True)
class FeatureChange:
    """One difference between a registered view and its new definition."""

    view: str
    change: str  # added | removed | changed
    path: str  # "view", "features.<name>", "features.<name>.dtype", "ttl", "source" ...
    old: Any = None  # Any: JSON value
    new: Any = None  # Any: JSON value

    def to_dict(self) -> dict[str, Any]:  # Any: JSON
        return {"view": self.view, "change": self.change, "path": self.path, "old": self.old, "new": self.new}


def diff_views(old: FeatureView | None, new: FeatureView) -> list[FeatureChange]:
    """What ``new`` changes in ``old`` (``None``: a new view)."""
    if old is None:
        return [FeatureChange(new.name, "added", "view", None, [f.name for f in new.features])]
    changes: list[FeatureChange] = []
    before, after = {f.name: f for f in old.features}, {f.name: f for f in new.features}
    for name, was in before.items():
        now = after.get(name)
        if now is None:
            changes.append(FeatureChange(new.name, "removed", f"features.{name}", was.dtype, None))
        elif was.dtype != now.dtype:
            changes.append(FeatureChange(new.name, "changed", f"features.{name}.dtype", was.dtype, now.dtype))
        elif was.description != now.description:
            changes.append(FeatureChange(new.name, "changed", f"features.{name}.description", was.description, now.description))
    for name, now in after.items():
        if name not in before:
            changes.append(FeatureChange(new.name, "added", f"features.{name}", None, now.dtype))
    o, n = old.to_dict(), new.to_dict()
    for key in ("entities", "source", "ttl", "owner", "tags", "description"):
        if o[key] != n[key]:
            changes.append(FeatureChange(new.name, "changed", key, o[key], n[key]))
    return changes


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """A registered model version's input columns (name -> dtype), from its signature."""

    model: str
    version: int
    inputs: Mapping[str, str]


def breaking_uses(changes: Sequence[FeatureChange], new: FeatureView, models: Iterable[ModelInputs]) -> list[str]:
    """Why ``changes`` break registered models: ``"models:/fraud/3 takes txn_count_7d (removed)"``."""
    touched: dict[str, str | None] = {}
    for change in changes:
        if change.path.startswith("features.") and change.change == "removed":
            touched[change.path.split(".")[1]] = None
        elif change.path.startswith("features.") and change.path.endswith(".dtype"):
            touched[change.path.split(".")[1]] = str(change.new)
    found: list[str] = []
    for model in models:
        for name, dtype in touched.items():
            if name not in model.inputs:
                continue
            if dtype is None:
                found.append(f"models:/{model.model}/{model.version} takes {name} (removed from {new.name})")
            elif model.inputs[name] not in DTYPES[dtype]:
                found.append(f"models:/{model.model}/{model.version} takes {name} as {model.inputs[name]} (now {dtype})")
    return found
