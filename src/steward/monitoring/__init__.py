"""Monitoring: drift between a reference and current data, from streamed, mergeable summaries.

``report`` compares two Parquet files (or dataset versions) column by column, as
``steward monitor report`` does; the statistics are those of :mod:`steward.core.drift`.
"""

from __future__ import annotations

from ._html import render_html
from ._report import (
    ColumnDrift,
    DatasetScanner,
    DriftReport,
    compare_summaries,
    drift_report,
    open_source,
    report,
)
from ._summaries import (
    ArrowSource,
    CategorySummary,
    NumericSummary,
    ParquetSource,
    TableSource,
    TableSummary,
    column_kind,
    numeric_edges,
    summarise,
)

__all__ = [
    "ArrowSource",
    "CategorySummary",
    "ColumnDrift",
    "DatasetScanner",
    "DriftReport",
    "NumericSummary",
    "ParquetSource",
    "TableSource",
    "TableSummary",
    "column_kind",
    "compare_summaries",
    "drift_report",
    "numeric_edges",
    "open_source",
    "render_html",
    "report",
    "summarise",
]
