"""``steward score``: chunked local scoring, and the same output from a Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from serving_testing import FEATURES, register, store_env, store_settings, training_frame
from typer.testing import CliRunner

from steward import Settings
from steward.cli._app import app
from steward.errors import InvalidInputError
from steward.serving._scoring import score_file, score_file_dask


@pytest.fixture(scope="module")
def scored_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, Any]:  # Any: the estimator
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("score")
    settings = store_settings(root)
    frame, target = training_frame()
    model = LogisticRegression(max_iter=500).fit(frame, target)
    register(settings, model, frame)
    data, _ = training_frame(5_000, seed=4)
    data["customer"] = [f"c{i}" for i in range(len(data))]  # a passenger column, kept as it is
    source = root / "in.parquet"
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), source, row_group_size=1_000)
    return settings, source, model


def test_local_scoring_streams_in_chunks_and_appends_the_predictions(scored_setup: tuple[Settings, Path, Any], tmp_path: Path) -> None:
    settings, source, model = scored_setup
    out = tmp_path / "out.parquet"
    summary = score_file("fraud:1", source, out, settings=settings, batch_rows=700)
    assert summary.rows == 5_000 and summary.model == "fraud:1"
    table = pq.read_table(out)
    assert table.column_names == [*FEATURES, "count", "customer", "prediction"]
    expected = model.predict(pq.read_table(source).to_pandas()[[*FEATURES, "count"]])
    assert np.array_equal(table.column("prediction").to_numpy(), expected)
    assert pq.ParquetFile(out).metadata.row_group(0).num_rows <= 700  # written chunk by chunk


@pytest.mark.slow
def test_dask_scoring_writes_exactly_the_local_output(scored_setup: tuple[Settings, Path, Any], tmp_path: Path) -> None:
    settings, source, _ = scored_setup
    local, distributed = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    score_file("fraud:1", source, local, settings=settings)
    summary = score_file_dask("fraud:1", source, distributed, scheduler="local", settings=settings)
    assert summary.partitions == 5 and summary.rows == 5_000
    assert pq.read_table(distributed).equals(pq.read_table(local))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no parts or temp files left


def test_scoring_a_file_without_a_signature_column_names_it(scored_setup: tuple[Settings, Path, Any], tmp_path: Path) -> None:
    settings, source, _ = scored_setup
    partial = tmp_path / "partial.parquet"
    pq.write_table(pq.read_table(source).drop(["count"]), partial)
    with pytest.raises(InvalidInputError) as caught:
        score_file("fraud:1", partial, tmp_path / "out.parquet", settings=settings)
    assert caught.value.field == "count"
    assert not (tmp_path / "out.parquet").exists()


def test_the_score_command_prints_a_json_summary_and_names_a_missing_input(scored_setup: tuple[Settings, Path, Any], tmp_path: Path) -> None:
    settings, source, _ = scored_setup
    env = store_env(settings)
    runner = CliRunner()
    result = runner.invoke(app, ["score", "fraud:1", str(source), str(tmp_path / "o.parquet"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 5_000
    missing = runner.invoke(app, ["score", "fraud:1", str(tmp_path / "nope.parquet"), str(tmp_path / "o2.parquet")], env=env)
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
