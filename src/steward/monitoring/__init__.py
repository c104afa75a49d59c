"""Monitoring: drift between a reference and current data, from streamed, mergeable summaries.

``report`` compares two Parquet files (or dataset versions) column by column, as
``steward monitor report`` does; the statistics are those of :mod:`steward.core.drift`.
``AlertService.evaluate`` applies a window's metric values to alert rules (``parse_alert_rules``).
"""

from __future__ import annotations

from ._alert_rules import RuleSet, alert_rules_faults, parse_alert_rules
from ._alert_service import AlertService, Evaluation
from ._dask import DaskSummariser
from ._html import render_html
from ._html_monitor import render_monitor_html
from ._report import (
    ColumnDrift,
    DatasetScanner,
    DriftReport,
    Summariser,
    compare_summaries,
    drift_report,
    open_source,
    report,
)
from ._summaries import (
    ArrowSource,
    CategorySummary,
    EmbeddingSummary,
    NumericSummary,
    ParquetSource,
    TableSource,
    TableSummary,
    column_kind,
    numeric_edges,
    sample_rows,
    summarise,
)

__all__ = [
    "AlertService",
    "ArrowSource",
    "CategorySummary",
    "ColumnDrift",
    "DaskSummariser",
    "DatasetScanner",
    "DriftReport",
    "EmbeddingSummary",
    "Evaluation",
    "NumericSummary",
    "ParquetSource",
    "RuleSet",
    "Summariser",
    "TableSource",
    "TableSummary",
    "alert_rules_faults",
    "column_kind",
    "compare_summaries",
    "drift_report",
    "numeric_edges",
    "open_source",
    "parse_alert_rules",
    "render_html",
    "render_monitor_html",
    "report",
    "sample_rows",
    "summarise",
]
