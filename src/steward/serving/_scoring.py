"""Batch scoring: a Parquet file (or folder) in, the same rows with predictions out.

:func:`score_file` streams record batches (memory bounded by ``batch_rows`` whatever the
input size); :func:`score_file_dask` scores the input's row groups on a Dask distributed
cluster, each worker writing one part, and joins the parts in input order, so its output
equals the local run's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from steward._local_cluster import local_cluster
from steward.errors import InvalidInputError
from steward.settings import Settings

from ._models import ServedModel, load_served
from ._payloads import Outputs

__all__ = ["ScoreSummary", "score_batch", "score_file", "score_file_dask"]

PREDICTION = "prediction"


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """What a scoring run did."""

    model: str
    rows: int
    out: str
    seconds: float
    partitions: int = 1

    def to_dict(self) -> dict[str, object]:
        return {"model": self.model, "rows": self.rows, "out": self.out, "seconds": self.seconds, "partitions": self.partitions}


def _load(ref: str, settings: Settings, trusted: bool) -> ServedModel:
    import steward.models

    return load_served(steward.models.load(ref, settings=settings, trusted=trusted))


def _prediction_columns(outputs: Outputs) -> dict[str, np.ndarray]:
    if isinstance(outputs, dict):
        return {f"{PREDICTION}_{k}": v for k, v in outputs.items()}
    if outputs.ndim == 1:
        return {PREDICTION: outputs}
    flat = outputs.reshape(len(outputs), -1)
    return {f"{PREDICTION}_{j}": flat[:, j] for j in range(flat.shape[1])}


def score_batch(model: ServedModel, batch: Any) -> Any:  # Any: pyarrow RecordBatch in and out
    """``batch`` with the model's prediction column(s) appended (input checked against the signature).

    Raises:
        InvalidInputError: a signature column is missing or of the wrong type (named), or the
            input already has a column named like a prediction column.
    """
    import pyarrow as pa

    names = model.schema.names
    missing = [n for n in names if n not in batch.schema.names]
    if missing:
        raise InvalidInputError(f"the input has no column {missing[0]}", field=missing[0])
    columns = {n: batch.column(n).to_numpy(zero_copy_only=False) for n in names}
    rows = model.schema.from_columns(columns, batch.num_rows)
    predictions = _prediction_columns(model.predict_rows(rows))
    clash = [c for c in predictions if c in batch.schema.names]
    if clash:
        raise InvalidInputError(f"the input already has a column {clash[0]}", field=clash[0])
    arrays = list(batch.columns) + [pa.array(v) for v in predictions.values()]
    return pa.RecordBatch.from_arrays(arrays, names=list(batch.schema.names) + list(predictions))


def _dataset(source: Path) -> Any:  # Any: a pyarrow Dataset
    import pyarrow.dataset as ds

    if not source.exists():
        raise InvalidInputError(f"{source} does not exist", field="source")
    try:
        return ds.dataset(str(source), format="parquet")
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for unreadable input
        raise InvalidInputError(f"{source} is not readable as Parquet: {exc}", field="source") from None


def _progress(total: int, enabled: bool) -> Any:  # Any: a rich Progress or None
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    )


def score_file(
    ref: str, source: str | os.PathLike[str], out: str | os.PathLike[str], *, settings: Settings | None = None,
    trusted: bool = False, batch_rows: int = 65_536, progress: bool = False, model: ServedModel | None = None,
) -> ScoreSummary:
    """Score every row of ``source`` with ``ref`` and write ``out`` (Parquet), chunk by chunk.

    Args:
        ref: model reference (``fraud:3``, ``fraud@champion``, ``models:/fraud/3``).
        source: a Parquet file or a folder of them.
        out: the Parquet file to write: input columns plus ``prediction`` (or ``prediction_<i>``).
        batch_rows: rows held in memory at a time.
        progress: draw a progress bar on stderr.

    Raises:
        InvalidInputError: unreadable input, or columns that do not fit the signature (named).

    Example:
        >>> score_file("fraud@champion", "in.parquet", "out.parquet")  # doctest: +SKIP
    """
    import pyarrow.parquet as pq

    started = time.perf_counter()
    served = model or _load(ref, settings or Settings(), trusted)
    dataset = _dataset(Path(source))
    total = dataset.count_rows()
    bar = _progress(total, progress)
    target = Path(out)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    writer = None
    rows = 0
    try:
        if bar is not None:
            bar.start()
            task = bar.add_task("scoring", total=total)
        for batch in dataset.to_batches(batch_size=batch_rows):
            if batch.num_rows == 0:
                continue
            scored = score_batch(served, batch)
            if writer is None:
                writer = pq.ParquetWriter(str(tmp), scored.schema)
            writer.write_batch(scored)
            rows += batch.num_rows
            if bar is not None:
                bar.update(task, completed=rows)
        if writer is None:
            raise InvalidInputError(f"{source} holds no rows", field="source")
        writer.close()
        writer = None
        os.replace(tmp, target)  # readers never see half a file
    finally:
        if bar is not None:
            bar.stop()
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return ScoreSummary(served.ref, rows, str(target), time.perf_counter() - started)


def _parts(dataset: Any) -> Iterator[tuple[str, int]]:  # Any: a pyarrow Dataset
    """(file, row group) of every row group, in the order a local scan reads them."""
    import pyarrow.parquet as pq

    for path in dataset.files:
        for group in range(pq.ParquetFile(path).num_row_groups):
            yield path, group


def _score_part(model: ServedModel, path: str, group: int, part: str, batch_rows: int) -> int:
    """One Dask task: score one row group into the Parquet file ``part``."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read_row_group(group)
    writer = None
    for batch in table.to_batches(max_chunksize=batch_rows):
        scored = score_batch(model, batch)
        if writer is None:
            writer = pq.ParquetWriter(part, scored.schema)
        writer.write_batch(scored)
    if writer is not None:
        writer.close()
    return int(table.num_rows)


def score_file_dask(
    ref: str, source: str | os.PathLike[str], out: str | os.PathLike[str], *, scheduler: str, settings: Settings | None = None,
    trusted: bool = False, batch_rows: int = 65_536, workers: int = 2,
) -> ScoreSummary:
    """:func:`score_file` over a Dask distributed cluster, one task per row group.

    Args:
        scheduler: a scheduler address (``tcp://host:8786``), or ``local`` for a
            ``LocalCluster`` of ``workers`` processes. Workers must see ``source`` and the
            folder of ``out`` at the same paths (a shared file system).

    Raises:
        InvalidInputError: as :func:`score_file`; or Dask is not installed.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise InvalidInputError("--dask needs Dask: pip install 'steward[dask]'", field="dask") from None
    import pyarrow.parquet as pq

    started = time.perf_counter()
    served = _load(ref, settings or Settings(), trusted)
    dataset = _dataset(Path(source))
    parts = list(_parts(dataset))
    if not parts:
        raise InvalidInputError(f"{source} holds no rows", field="source")
    target = Path(out)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.parts-", dir=target.parent))
    cluster = (
        local_cluster(workers)
        if scheduler == "local"
        else None
    )
    try:
        with Client(cluster if cluster is not None else scheduler) as client:  # type: ignore[no-untyped-call]
            model = client.scatter(served, broadcast=True)
            names = [str(folder / f"part-{i:06d}.parquet") for i in range(len(parts))]
            futures = [
                client.submit(_score_part, model, path, group, name, batch_rows, pure=False)
                for (path, group), name in zip(parts, names, strict=True)
            ]
            counts = client.gather(futures)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        writer = None
        try:
            for name in names:
                if not Path(name).exists():
                    continue
                for batch in pq.ParquetFile(name).iter_batches(batch_size=batch_rows):
                    if writer is None:
                        writer = pq.ParquetWriter(str(tmp), batch.schema)
                    writer.write_batch(batch)
            if writer is not None:
                writer.close()
                writer = None
            os.replace(tmp, target)
        finally:
            if writer is not None:
                writer.close()
            tmp.unlink(missing_ok=True)
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(folder, ignore_errors=True)
    return ScoreSummary(served.ref, int(sum(counts)), str(target), time.perf_counter() - started, len(parts))
