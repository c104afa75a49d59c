"""Feature definitions from YAML (``steward features apply features.yaml``) or a Python module.

YAML shape::

    entities:
      - name: customer
        join_keys: [customer_id]
    feature_views:
      - name: fraud_stats
        entities: [customer]
        source: {parquet: data/fraud_stats/, event_time: ts}
        ttl: 30d
        owner: risk-team
        features:
          - {name: txn_count_7d, dtype: int64}
          - {name: amount_mean_7d, dtype: float64}

A Python file is run and every :class:`~steward.core.features.FeatureView` it defines at
module level is taken (as Feast's ``feast apply`` reads a repository).
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from steward.core.features import Entity, FeatureView, view_from_dict
from steward.errors import InvalidInputError, NotFoundError

__all__ = ["load_definitions", "parse_definitions"]


def parse_definitions(document: object) -> list[FeatureView]:
    """Views of a parsed YAML / JSON document (``entities`` and ``feature_views``).

    Raises:
        InvalidInputError: naming the field at fault; a view named twice.
    """
    if not isinstance(document, Mapping):
        raise InvalidInputError("a feature definition file is a mapping with feature_views:", field="feature_views")
    unknown = sorted(set(document) - {"entities", "feature_views"})
    if unknown:
        raise InvalidInputError(f"unknown keys: {', '.join(str(k)[:40] for k in unknown)}", field=str(unknown[0])[:40])
    entities: dict[str, Entity] = {}
    for item in document.get("entities") or []:
        if not isinstance(item, Mapping):
            raise InvalidInputError("each entity is a mapping with name and join_keys", field="entities")
        keys = item.get("join_keys") or []
        entity = Entity(item.get("name"), tuple([keys] if isinstance(keys, str) else keys), str(item.get("description") or ""))  # type: ignore[arg-type]
        entities[entity.name] = entity
    raw_views = document.get("feature_views") or []
    if not isinstance(raw_views, list) or not raw_views:
        raise InvalidInputError("feature_views: lists at least one view", field="feature_views")
    views = [view_from_dict(item, entities) for item in raw_views]
    _no_repeats(views)
    return views


def _no_repeats(views: list[FeatureView]) -> None:
    seen: set[str] = set()
    for view in views:
        if view.name in seen:
            raise InvalidInputError(f"feature view {view.name} is defined twice", field="feature_views")
        seen.add(view.name)


def load_definitions(path: str | os.PathLike[str]) -> list[FeatureView]:
    """Views defined in a YAML file or a Python file.

    Raises:
        NotFoundError: no such file.
        InvalidInputError: the file does not parse or defines no view (the message names the line for YAML).
    """
    file = Path(path)
    if not file.is_file():
        raise NotFoundError(f"no definition file {str(path)[:200]}", field="path")
    if file.suffix == ".py":
        namespace: dict[str, Any] = runpy.run_path(str(file))  # Any: the module's globals
        views = [v for v in namespace.values() if isinstance(v, FeatureView)]
        if not views:
            raise InvalidInputError(f"{file.name} defines no FeatureView at module level", field="path")
        _no_repeats(views)
        return views
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidInputError(f"{file.name} is not valid YAML{where}", field="path") from None
    return parse_definitions(document)
