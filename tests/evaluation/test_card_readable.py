"""The model card reads well: the experiment's name (not its id), the run's metrics and the
evaluation's, what failed first, an edge input's error on one line with its traceback folded."""

from __future__ import annotations

import re

from evaluation_testing import fraud_frame

from steward import Client
from steward.core import Metric
from steward.evaluation import EvaluationOptions, render_html, render_markdown
from steward.wiring import Services

TRACEBACK = "Traceback (most recent call last)"


def _outside_details(page: str) -> str:
    return re.sub(r"<details.*?</details>", "", page, flags=re.DOTALL)


def _card(client: Client, services: Services) -> tuple[dict[str, object], str]:
    from sklearn.linear_model import LogisticRegression

    train = fraud_frame(seed=1)
    holdout = services.data("tester").register("card-holdout", fraud_frame(seed=2))
    features = ["amount", "count"]
    model = LogisticRegression().fit(train[features], train["label"])
    with client.start_run("card-readable-experiment", name="readable-run") as run:
        for step, loss in enumerate((0.9, 0.6, 0.45, 0.4)):
            run.log_metric("loss", loss, step=step)
        logged = run.log_model(model, "cardfraud", input_example=train[features].head(5), registered_model_name="cardfraud")
    assert logged.registered is not None
    ref = f"cardfraud:{logged.registered.version}"
    # logged after registration: the version's snapshot lacks it, the card must not
    tracking = services.tracking("tester")
    tracking.log_batch(run.run_id, metrics=[Metric("eval_accuracy", 0.91, 0, 0)], allow_ended=True)
    services.evaluation("tester").evaluate(ref, holdout.ref, EvaluationOptions("label", measure_latency=False, explain=False))
    card = services.evaluation("tester").card(ref)
    return card, render_html(card)


def test_the_card_names_the_experiment_and_shows_every_metric(client: Client, services: Services) -> None:
    card, page = _card(client, services)
    lineage = card["lineage"]
    assert isinstance(lineage, dict) and lineage["experiment_name"] == "card-readable-experiment"
    assert '<td class="k">Experiment</td><td>card-readable-experiment</td>' in page
    row = re.search(r'<td class="k">Experiment</td><td>([^<]*)</td>', page)
    assert row is not None and str(lineage["experiment_id"]) not in row.group(1)
    assert "experiment card-readable-experiment</div>" in page  # the heading's line too
    assert "readable-run" in page
    assert "No metrics recorded" not in page and "No metrics were logged" not in page
    assert "<td>loss</td>" in page and "<td>eval_accuracy</td>" in page  # the run's metrics
    assert "<td>roc_auc</td>" in page  # the evaluation's
    assert "loss over steps (training run)" in page and "<polyline" in page  # the metric curve
    assert "## Training metrics" in render_markdown(card)


def test_failures_lead_and_an_edge_error_is_one_line_with_the_traceback_folded(client: Client, services: Services) -> None:
    _, page = _card(client, services)
    # logistic regression refuses missing values: a failed edge input
    assert page.index("Needs attention") < page.index("<h2>Overview</h2>")
    visible = _outside_details(page)
    assert TRACEBACK not in visible
    assert TRACEBACK in page  # folded, still there for whoever needs it
    line = re.search(r'<b>(ValueError: [^<]*)</b></p><p class="meta">input: ([^<]*)</p>', page)
    assert line is not None and "NaN" in line.group(1) and "\n" not in line.group(1)
    assert line.group(2) == "5 rows with &#x27;amount&#x27; set to missing"
    assert "Full error and traceback" in page
    # edge failures are listed before the passes (which are folded)
    assert re.search(r"<details><summary>\d+ edge inputs passed</summary>", page)


def test_the_card_links_to_nothing(client: Client, services: Services) -> None:
    _, page = _card(client, services)
    assert not re.search(r"""(src|href)\s*=|https?://|<script|<link|@import""", page)
    assert "prefers-color-scheme: dark" in page
