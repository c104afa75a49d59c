"""Shared helpers of the feature store tests: a SQLite-backed service and small definitions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from steward.features import Entity, Feature, FeatureService, FeatureSource, FeatureView
from steward.settings import Settings
from steward.wiring import Services, build_services

CUSTOMER = Entity("customer", join_keys=("customer_id",))


def stats_view(path: Path | str, *, ttl: str | None = "10d", created: str | None = None, dtype: str = "int64",
               features: tuple[str, ...] = ("txn_count",), name: str = "stats") -> FeatureView:
    return FeatureView(
        name, entities=(CUSTOMER,), features=tuple(Feature(f, dtype) for f in features),
        source=FeatureSource("parquet", str(path), event_time="ts", created_time=created), ttl=ttl,
    )


@contextmanager
def embedded(tmp: Path, **overrides: object) -> Iterator[Services]:
    settings = Settings(
        home=tmp / "home", artifact_root=str(tmp / "artifacts"), user="tester", capture_git=False, auth="off",
        **overrides,  # type: ignore[arg-type]
    )
    services = build_services(settings)
    try:
        yield services
    finally:
        services.close()


def features(services: Services) -> FeatureService:
    return services.features("tester")
