"""The drift report shares the reports' look: drifted columns lead, stable ones are folded, the
palette follows the system theme, and nothing is linked or fetched."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from steward.monitoring import render_html, render_monitor_html, report


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    n = 5_000
    ref = {"stable": rng.normal(0, 1, n), "calm": rng.normal(0, 1, n), "moved": rng.normal(0, 1, n)}
    cur = {"stable": rng.normal(0, 1, n), "calm": rng.normal(0, 1, n), "moved": rng.normal(1.0, 1, n)}
    pq.write_table(pa.table(ref), tmp_path / "ref.parquet")
    pq.write_table(pa.table(cur), tmp_path / "cur.parquet")
    return tmp_path / "ref.parquet", tmp_path / "cur.parquet"


def test_drifted_columns_lead_and_stable_ones_are_folded(tmp_path: Path) -> None:
    result = report(*_pair(tmp_path))
    assert result.drifted == ["moved"]
    page = render_html(result)
    visible = re.sub(r"<details.*?</details>", "", page, flags=re.DOTALL)
    assert page.index("Drifted or not compared (1)") < page.index("Stable (2)")
    assert "<td>moved</td>" in visible and "<td>stable</td>" not in visible and "<td>stable</td>" in page
    assert "<details><summary>2 columns without drift</summary>" in page
    assert '<rect class="bad"' in page and '<rect class="ref"' in page  # overlays drawn in the shared palette
    assert "prefers-color-scheme: dark" in page
    assert not re.search(r"""(src|href)\s*=|https?://|<script|<link|@import""", page)


def test_the_monitor_page_shares_the_look() -> None:
    page = render_monitor_html({"name": "m", "deployment": "d", "reference": "r", "window_s": 60}, [])
    assert "prefers-color-scheme: dark" in page and "No window flagged." in page
    assert not re.search(r"""(src|href)\s*=|https?://|<script""", page)
