"""Monitor windows keep each feature's reference and current counts per bin in their JSON
result, and the monitor page overlays them (a chart and a table per feature), in process."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from ui_lifecycle_world import LifecycleSeeded

from steward.wiring import Services, build_services


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Services]]:  # Any: FastAPI
    from steward.server import create_app

    seeded = LifecycleSeeded(tmp_path_factory.mktemp("ui-overlays"), "off")
    settings = seeded.settings.model_copy(update={"user": "server"})
    services = build_services(settings)
    yield create_app(settings, services), services
    services.close()


def test_a_window_result_keeps_each_features_histograms(world: tuple[Any, Services]) -> None:
    _app, services = world
    newest = services.monitors("x").list_results("fraud-drift", max_results=1)[0].to_dict()
    columns = {c["column"]: c for c in newest["summary"]["drift"]["columns"]}
    amount = columns["amount"]["histogram"]
    assert amount["kind"] == "numeric" and len(amount["reference"]) == len(amount["current"]) == len(amount["edges"]) + 1
    assert amount["edges"] == sorted(amount["edges"]) and 10 <= len(amount["reference"]) <= 26
    assert sum(amount["reference"]) == newest["summary"]["drift"]["reference_rows"] > 0
    assert sum(amount["current"]) == newest["summary"]["drift"]["current_rows"] == 400
    country = columns["country"]["histogram"]
    assert country["kind"] == "categorical" and sorted(country["categories"]) == ["de", "es", "fr"]
    assert sum(country["current"]) == 400
    # the shifted window (+8 on amount) moved mass up: the current side's top bins hold more than the reference's share
    ref_share = sum(amount["reference"][-5:]) / sum(amount["reference"])
    cur_share = sum(amount["current"][-5:]) / sum(amount["current"])
    assert cur_share > ref_share
    json.dumps(newest)  # plain JSON, as stored


def test_the_monitor_page_overlays_reference_and_current_per_feature(world: tuple[Any, Services], asgi_client: Callable[[Any], httpx.Client]) -> None:
    app, _services = world
    page = asgi_client(app).get("/monitors/fraud-drift")
    assert page.status_code == 200
    charts = json.loads(re.search(r'<script type="application/json" id="lc-charts">(.*?)</script>', page.text, re.DOTALL).group(1))  # type: ignore[union-attr]
    overlays = {k: v for k, v in charts.items() if k.startswith("dist-")}
    assert len(overlays) == 2  # amount and country
    for chart in overlays.values():
        assert [t["name"] for t in chart["traces"]] == ["reference", "current"] and chart["layout"]["barmode"] == "overlay"
    numeric = next(c for c in overlays.values() if "width" in c["traces"][0])
    assert numeric["layout"]["yaxis"]["title"]["text"] == "density"
    # the numbers are in a table beside each chart
    assert page.text.count("Counts per bin") == 2 and 'aria-label="Distribution of amount: reference and current"' in page.text
    assert re.search(r'<td class="mono">&lt; [0-9.]+</td>', page.text)
