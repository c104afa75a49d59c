"""Monitoring: drift between a reference and current data, from streamed, mergeable summaries.

``report`` compares two Parquet files (or dataset versions) column by column, as
``steward monitor report`` does; the statistics are those of :mod:`steward.core.drift`.
``AlertService.evaluate`` applies a window's metric values to alert rules (``parse_alert_rules``).

The package imports a name's module when the name is first used: the server imports it for
the monitor runner, and must not pay for polars, numpy and Dask at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward._lazy import lazy_dir as _lazy_dir
from steward._lazy import lazy_name as _lazy_name

if TYPE_CHECKING:  # the names, typed; at run time each is imported when first used
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

_LAZY = {
    "AlertService": "._alert_service",
    "ArrowSource": "._summaries",
    "CategorySummary": "._summaries",
    "ColumnDrift": "._report",
    "DaskSummariser": "._dask",
    "DatasetScanner": "._report",
    "DriftReport": "._report",
    "EmbeddingSummary": "._summaries",
    "Evaluation": "._alert_service",
    "NumericSummary": "._summaries",
    "ParquetSource": "._summaries",
    "RuleSet": "._alert_rules",
    "Summariser": "._report",
    "TableSource": "._summaries",
    "TableSummary": "._summaries",
    "alert_rules_faults": "._alert_rules",
    "column_kind": "._summaries",
    "compare_summaries": "._report",
    "drift_report": "._report",
    "numeric_edges": "._summaries",
    "open_source": "._report",
    "parse_alert_rules": "._alert_rules",
    "render_html": "._html",
    "render_monitor_html": "._html_monitor",
    "report": "._report",
    "sample_rows": "._summaries",
    "summarise": "._summaries",
}


def __getattr__(name: str) -> object:
    return _lazy_name(__name__, _LAZY, globals(), name)


def __dir__() -> list[str]:
    return _lazy_dir(_LAZY, globals())


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
