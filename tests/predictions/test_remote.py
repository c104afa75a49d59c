"""``steward.predictions.read`` and ``ingest_labels`` against a real server process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from prediction_testing import batch

import steward.predictions
from steward.errors import InvalidInputError, NotFoundError
from steward.settings import Settings
from steward.wiring import Services

T0 = 1_767_225_600_000


def test_the_sdk_reads_the_log_and_ingests_labels_through_a_server(services: Services, live_server: Any, tmp_path: Path) -> None:
    log = services.prediction_log()
    for i in range(4):
        log.append(batch(i, T0 + i))
    log.close()
    remote = Settings(tracking_uri=live_server.url, home=tmp_path / "client")
    labels = tmp_path / "labels.csv"
    labels.write_text("request_id,label\nreq-1,1\nreq-7,0\n")

    report = steward.predictions.ingest_labels(labels, deployment="fraud-api", settings=remote)
    frame = steward.predictions.read("fraud-api", T0 + 1, None, settings=remote)

    assert (report.attached, report.unknown, report.unknown_examples) == (1, 1, ("req-7",))
    assert list(frame["request_id"]) == ["req-1", "req-2", "req-3"]
    assert frame["label"].tolist()[0] == 1 and frame["label"].isna().tolist()[1:] == [True, True]
    table = steward.predictions.read("fraud-api", settings=remote, as_pandas=False)
    assert isinstance(table, pa.Table) and table.num_rows == 4
    with pytest.raises(NotFoundError, match="no predictions are logged"):
        steward.predictions.ingest_labels(labels, deployment="other-api", settings=remote)
    with pytest.raises(InvalidInputError):
        steward.predictions.read("fraud-api", "not a time", settings=remote)
