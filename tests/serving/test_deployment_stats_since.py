"""``DeploymentService.stats_since``: the live traffic of a deployment's current plan (what
the UI's deployment page draws), through the service rather than its store."""

from __future__ import annotations

import time

import pytest
from deployments_testing import register_versions, report, window

from steward import Client, Settings
from steward.errors import InvalidInputError, NotFoundError
from steward.wiring import Services


def test_stats_since_reads_the_current_plans_windows_only(settings: Settings, services: Services) -> None:
    client = Client(settings.model_copy(update={"capture_packages": False}))
    try:
        register_versions(client, services, count=2)
    finally:
        client.close()
    svc = services.deployments("dana")
    svc.create_deployment("fraud-api", "fraud:1")
    now = int(time.time() * 1000)
    report(services, [window("fraud-api", 1, "primary", "fraud:1", requests=40, errors=2, end_ms=now - 5_000)])
    report(services, [window("fraud-api", 1, "primary", "fraud:1", requests=7, end_ms=now - 7_200_000)])  # too old
    found = svc.stats_since("fraud-api", now - 3_600_000)
    assert [(s.requests, s.errors) for s in found] == [(40, 2)]
    changed = svc.canary("fraud-api", "fraud:2", percent=10)
    # the canary is a new revision: the first plan's traffic is no longer the current one's
    assert svc.stats_since("fraud-api", now - 3_600_000) == []
    report(services, [window("fraud-api", changed.plan.revision, "candidate", "fraud:2", requests=3, end_ms=now)])
    assert [s.variant for s in svc.stats_since("fraud-api", now - 3_600_000)] == ["candidate"]
    assert [s.requests for s in svc.stats_since("fraud-api", now - 3_600_000, revision=1)] == [40]
    with pytest.raises(NotFoundError):
        svc.stats_since("no-such-api", 0)
    with pytest.raises(InvalidInputError):
        svc.stats_since("fraud-api", -1)
