"""Parquet sources on S3 (moto's S3 server): point-in-time retrieval and materialisation read
them through pyarrow's S3 filesystem, with the endpoint from the settings or the environment."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from features_testing import embedded, features, stats_view

from steward.errors import NotFoundError
from steward.features import entity_key

BUCKET = "steward-features"
T0 = datetime(2026, 1, 1)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, object]]:
    from moto_s3 import moto_s3  # type: ignore[import-not-found]

    with moto_s3(BUCKET) as endpoint:
        import boto3  # type: ignore[import-untyped]

        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        yield endpoint, client


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def put(client: object, key: str, rows: list[dict[str, object]]) -> None:
    buffer = io.BytesIO()
    pd.DataFrame(rows).to_parquet(buffer, index=False)
    client.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())  # type: ignore[attr-defined]


def test_a_folder_on_s3_follows_the_point_in_time_rule_and_materialises(tmp_path: Path, s3: tuple[str, object]) -> None:
    endpoint, client = s3
    # two files written out of name order: the tie at day 3 goes to the last row of b.parquet
    put(client, "stats/b.parquet", [{"customer_id": 1, "ts": day(3), "txn_count": 31}, {"customer_id": 2, "ts": day(1), "txn_count": 5}])
    put(client, "stats/a.parquet", [{"customer_id": 1, "ts": day(1), "txn_count": 10}, {"customer_id": 1, "ts": day(3), "txn_count": 30}])
    entities = pd.DataFrame({"customer_id": [1, 1, 2, 3], "event_timestamp": [day(0.5), day(3), day(2), day(3)]})
    with embedded(tmp_path, s3_endpoint_url=endpoint) as services:
        svc = features(services)
        svc.apply([stats_view(f"s3://{BUCKET}/stats/")])
        for engine in ("memory", "duckdb"):
            got = svc.historical(entities, ["stats:txn_count"], engine=engine).to_pandas()
            assert [None if pd.isna(v) else int(v) for v in got["txn_count"]] == [None, 31, 5, None], engine
        done = svc.materialize(["stats"], end_ms=4_000_000_000_000)
        assert done[0].entities == 2
        rows = services.online_store().read([("stats", entity_key([1])), ("stats", entity_key([2]))])
        assert [r.values["txn_count"] if r else None for r in rows] == [31, 5]


def test_one_file_on_s3_with_the_endpoint_from_the_environment(
    tmp_path: Path, s3: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, client = s3
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    put(client, "one/stats.parquet", [{"customer_id": 7, "ts": day(1), "txn_count": 3}])
    with embedded(tmp_path) as services:
        svc = features(services)
        svc.apply([stats_view(f"s3://{BUCKET}/one/stats.parquet")])
        got = svc.historical(pd.DataFrame({"customer_id": [7], "event_timestamp": [day(2)]}), ["stats:txn_count"]).to_pandas()
        assert got["txn_count"].tolist() == [3]
        svc.apply([stats_view(f"s3://{BUCKET}/nothing-here/", name="ghost")])
        with pytest.raises(NotFoundError, match="nothing-here"):
            svc.historical(pd.DataFrame({"customer_id": [7], "event_timestamp": [day(2)]}), ["ghost:txn_count"])
