"""The serving-time lookup reads the online store once per request, whatever its rows and views."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from steward.errors import InvalidInputError
from steward.features import Entity, Feature, FeatureLookup, FeatureSource, FeatureView, OnlineStore
from steward.settings import Settings
from steward.wiring import build_services

NOW = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC, as the source


class Counting:
    """The real online store, counting its reads (each read is one round trip)."""

    def __init__(self, store: OnlineStore) -> None:
        self.store = store
        self.reads = 0

    def __getattr__(self, name: str) -> Any:  # Any: the store's method
        method = getattr(self.store, name)
        if not name.startswith("read"):
            return method

        def counted(*args: Any) -> Any:  # Any: the method's arguments and answer
            self.reads += 1
            return method(*args)

        return counted


def test_one_read_per_request_for_fifty_rows_and_two_views(tmp_path: Path) -> None:
    source = tmp_path / "s.parquet"
    pd.DataFrame({"customer_id": list(range(40)), "ts": [NOW - timedelta(hours=1)] * 40, "a": [1.0] * 40, "b": [2.0] * 40}).to_parquet(source, index=False)
    customer = Entity("customer", join_keys=("customer_id",))
    views = [
        FeatureView(name, entities=(customer,), features=(Feature(col, "float64"),), source=FeatureSource("parquet", str(source), event_time="ts"))
        for name, col in (("va", "a"), ("vb", "b"))
    ]
    services = build_services(Settings(home=tmp_path / "home", user="t", capture_git=False, auth="off"))
    try:
        features = services.features("t")
        features.apply(views)
        features.materialize()
        counting = Counting(services.online_store())
        features._online = lambda: counting
        lookup = FeatureLookup(features, ["va:a", "vb:b"])
        found = lookup.complete([{"customer_id": i, "amount": 1.0} for i in range(50)])
        assert counting.reads == 1  # 50 rows x 2 views of the same join key in one read
        assert [r["a"] for r in found.rows[:2]] == [1.0, 1.0] and found.rows[45]["b"] is None
        assert [u["missing"] for u in found.used].count(True) == 10
        assert lookup.join_keys() == frozenset({"customer_id"}) and lookup.names == frozenset({"a", "b"})
        with pytest.raises(InvalidInputError) as clash:
            lookup.complete([{"customer_id": 1, "a": 5.0}])
        assert clash.value.field == "a"
    finally:
        services.close()
