"""``make demo``: a model's life on the embedded store, end to end, one module per chapter.

- data (``_data``): a dataset version, its inferred validation suite, a damaged copy that fails it;
- ``tracking``: two scikit-learn models trained on scikit-learn's breast-cancer data as tracked runs;
- ``registry``: evaluation, a gate against the champion, approval, promotion, a model card;
- ``serving``: a deployment serving the champion through a real ``steward serve`` process,
  live traffic, the challenger canaried by a progressive rollout policy that the controller
  promotes or rolls back, the metrics and the prediction log, then traffic whose
  distribution has shifted;
- ``monitoring``: a monitor of that window flags the shifted features, an alert rule fires,
  the drift report is written as HTML;
- ``features``: point-in-time training features from a feature view, a model trained on them,
  materialised and served with online lookup (requests carry only the customer id);
- ``loop`` (armed before monitoring, closed last): the drift alert fires a trigger that runs
  ``steward retrain`` on the drifted window joined with its labels (train, gate against the
  champion, candidate, canary on the live deployment, promote or roll back), a webhook to a
  loopback receiver records the events, and the model's timeline is printed.

Run with ``python -m steward.demo``; it uses ``STEWARD_HOME`` (default ``./.steward``) and
only the loopback interface.
"""

from __future__ import annotations

from rich.console import Console

from steward import Client, Settings

from ._data import stage_data
from .features import serve_with_features
from .loop import arm_loop, close_loop
from .monitoring import monitor_drift
from .registry import evaluate_and_promote
from .serving import serve_and_roll_out
from .tracking import load_data, track

__all__ = ["main"]


def main() -> int:
    """Run every chapter in order on the configured store; 0 when the demo completed."""
    console = Console()
    settings = Settings()
    client = Client(settings)
    try:
        console.rule("[bold]Steward demo[/bold] — a model's life on the embedded store")
        console.print(f"Store: {settings.resolved_database_url()}")
        data = load_data()
        x_train, y_train = data["x_train"], data["y_train"]
        train = stage_data(console, client.services, x_train.assign(target=y_train.to_numpy()), str(settings.resolved_home()))
        track(console, client, data, train.ref)
        release = evaluate_and_promote(console, settings, client, data)
        shift = serve_and_roll_out(console, settings, release, data)
        loop = arm_loop(console, settings)
        monitor_drift(console, settings, shift)
        serve_with_features(console, settings, client)
        close_loop(console, settings, loop, shift, data)
    finally:
        client.close()
    return 0
