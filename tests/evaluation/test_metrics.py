"""The metric sets, slices, fairness formulas, edge inputs and gate policies, on data whose
answers were worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from steward.errors import InvalidInputError
from steward.evaluation import (
    KNOWN_METRICS,
    EvaluationOptions,
    apply_policy,
    classification_metrics,
    evaluate_frame,
    fairness,
    parse_policy,
    policy_faults,
    regression_metrics,
)
from steward.evaluation._metrics import confusion
from steward.evaluation._slices import slice_masks
from steward.registry import Predictor, infer_signature


def test_binary_metrics_match_hand_computed_values() -> None:
    y = np.array([0, 0, 1, 1])
    proba1 = np.array([0.1, 0.6, 0.4, 0.9])
    pred = (proba1 >= 0.5).astype(int)  # [0, 1, 0, 1]: one FP, one FN
    proba = np.stack([1 - proba1, proba1], axis=1)
    m = classification_metrics(y, pred, proba, [0, 1])
    assert m["accuracy"] == 0.5
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["f1"] == 0.5
    # positives score 0.4, 0.9; negatives 0.1, 0.6: 3 of 4 pairs ordered right
    assert m["roc_auc"] == pytest.approx(0.75)
    # ranking 0.9(+), 0.6(-), 0.4(+), 0.1(-): AP = (1/1 + 2/3) / 2
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert m["log_loss"] == pytest.approx(-(math.log(0.9) + math.log(0.4) + math.log(0.4) + math.log(0.9)) / 4)
    assert confusion(y, pred, [0, 1]) == {"labels": [0, 1], "matrix": [[1, 1], [1, 1]]}


def test_multiclass_metrics_use_macro_averages() -> None:
    y = np.array(["a", "a", "b", "b", "c", "c"])
    pred = np.array(["a", "b", "b", "b", "c", "a"])
    m = classification_metrics(y, pred, None, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    # precision a=1/2, b=2/3, c=1; recall a=1/2, b=1, c=1/2
    assert m["precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert m["recall"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    f1 = [2 * p * r / (p + r) for p, r in ((1 / 2, 1 / 2), (2 / 3, 1), (1, 1 / 2))]
    assert m["f1"] == pytest.approx(sum(f1) / 3)
    assert m["roc_auc"] is None and m["log_loss"] is None  # no probabilities


def test_multiclass_brier_sums_squared_errors_over_classes() -> None:
    y = np.array([0, 1, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]])
    m = classification_metrics(y, proba.argmax(axis=1), proba, [0, 1, 2])
    expected = ((0.2**2 + 0.01 + 0.01) + (0.04 + 0.16 + 0.04) + (0.09 + 0.09 + 0.36)) / 3
    assert m["brier"] == pytest.approx(expected)
    assert m["roc_auc"] == pytest.approx(1.0)


def test_regression_metrics_match_hand_computed_values() -> None:
    m = regression_metrics(np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 3.0]))
    assert m["mae"] == pytest.approx(2 / 3)
    assert m["rmse"] == pytest.approx(math.sqrt(2 / 3))
    assert m["mape"] == pytest.approx((1 + 0 + 0.25) / 3)
    # SS_res = 2, mean 7/3, SS_tot = 16/9 + 1/9 + 25/9 = 42/9
    assert m["r2"] == pytest.approx(1 - 2 / (42 / 9))


def test_fairness_differences_follow_their_formulas() -> None:
    groups = np.array(["f"] * 4 + ["m"] * 4)
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    pred = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    out = fairness(y, pred, groups, 1)
    rates = {g["group"]: g for g in out["groups"]}
    assert rates["f"]["selection_rate"] == 0.25 and rates["m"]["selection_rate"] == 0.75
    assert rates["f"]["tpr"] == 0.5 and rates["m"]["tpr"] == 1.0
    assert rates["f"]["fpr"] == 0.0 and rates["m"]["fpr"] == 0.5
    assert out["demographic_parity_difference"] == pytest.approx(0.5)
    assert out["equalized_odds_difference"] == pytest.approx(0.5)


def test_slices_split_categories_by_value_and_numbers_into_quartile_bins() -> None:
    cats = dict(slice_masks(np.array(["x", "y", "x", None], dtype=object)))
    assert set(cats) == {"x", "y", "null"} and cats["x"].sum() == 2 and cats["null"].sum() == 1
    bins = list(slice_masks(np.arange(100, dtype=float)))
    assert len(bins) == 4 and sum(int(m.sum()) for _, m in bins) == 100
    assert bins[0][0].startswith("[0,") and bins[-1][0].endswith("]")


def _predictor(model: object, frame: pd.DataFrame) -> Predictor:
    return Predictor(model, "sklearn", infer_signature(frame.head(5), model.predict(frame.head(5))), [], "test")  # type: ignore[attr-defined]


def _task(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"amount": rng.normal(size=rows), "count": rng.integers(0, 5, rows), "sex": rng.choice(["f", "m"], rows)})
    df["label"] = (df["amount"] + rng.normal(scale=0.3, size=rows) > 1.0).astype(int)
    return df


def test_edge_inputs_are_recorded_pass_or_fail_without_crashing() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    df = _task()
    x = df[["amount", "count"]]
    opts = EvaluationOptions("label", measure_latency=False, explain=False)
    tolerant = evaluate_frame(_predictor(HistGradientBoostingClassifier(max_iter=20).fit(x, df.label), x), df, opts)
    strict = evaluate_frame(_predictor(LogisticRegression().fit(x, df.label), x), df, opts)
    cases = {(c["case"], c["column"]): c for c in tolerant["stress"]["edge_inputs"]}
    assert set(cases) >= {("nulls", "amount"), ("extreme_high", "amount"), ("extreme_low", "count")}
    assert cases[("nulls", "amount")]["passed"]  # histogram boosting handles missing values
    strict_cases = {(c["case"], c["column"]): c for c in strict["stress"]["edge_inputs"]}
    assert not strict_cases[("nulls", "amount")]["passed"]
    assert "NaN" in strict_cases[("nulls", "amount")]["error"] or "dtype" in strict_cases[("nulls", "amount")]["error"]
    assert strict_cases[("extreme_high", "amount")]["passed"]


def test_rare_class_recall_reports_the_minority_class() -> None:
    from sklearn.linear_model import LogisticRegression

    df = _task()
    x = df[["amount", "count"]]
    report = evaluate_frame(_predictor(LogisticRegression().fit(x, df.label), x), df, EvaluationOptions("label", measure_latency=False, explain=False))
    rare = report["stress"]["rare_classes"]
    assert [r["class"] for r in rare] == [1]
    positives = df.label == 1
    assert rare[0]["support"] == int(positives.sum())


def test_a_missing_target_column_is_a_clear_error() -> None:
    from sklearn.linear_model import LogisticRegression

    df = _task()
    x = df[["amount", "count"]]
    with pytest.raises(InvalidInputError, match="no target column 'nope'") as info:
        evaluate_frame(_predictor(LogisticRegression().fit(x, df.label), x), df, EvaluationOptions("nope"))
    assert info.value.field == "target"


def test_a_policy_naming_an_unknown_metric_is_refused_listing_the_known_ones() -> None:
    text = "min:\n  roc_auc: 0.8\n  rocauc: 0.85\n"
    with pytest.raises(InvalidInputError) as info:
        parse_policy(text)
    message = info.value.message
    assert message.startswith("gate policy line 3:") and "'rocauc'" in message
    assert all(name in message for name in KNOWN_METRICS)


def test_policy_schema_faults_name_their_line() -> None:
    faults = policy_faults("min: {roc_auc: 0.8}\nlatency:\n  p99_single_row_ms: fast\nedge_inputs: sometimes\nspeed: 1\n")
    lines = {line for line, _ in faults}
    assert {3, 4, 5} <= lines
    assert any("unknown key 'speed'" in message for _, message in faults)


def test_gates_compare_thresholds_and_the_champion() -> None:
    policy = parse_policy(
        "min: {roc_auc: 0.85}\nmax: {log_loss: 0.5}\nbeat_champion: {metric: roc_auc, min_delta: 0.01}\n"
        "fairness: {attribute: sex, max_demographic_parity_difference: 0.1}\nrare_class_recall: {min: 0.5}\n"
        "latency: {p99_single_row_ms: 20}\nedge_inputs: required\n"
    )
    candidate = {
        "metrics": {"roc_auc": 0.9, "log_loss": 0.3},
        "fairness": {"attribute": "sex", "demographic_parity_difference": 0.2},
        "stress": {"rare_classes": [{"class": 1, "recall": 0.6}], "edge_inputs": [{"case": "nulls", "column": "a", "passed": True}]},
        "latency": {"p99_single_row_ms": 3.0},
    }
    checks = {c.gate: c for c in apply_policy(policy, candidate, {"metrics": {"roc_auc": 0.895}})}
    assert checks["min.roc_auc"].passed and checks["max.log_loss"].passed
    assert not checks["beat_champion.roc_auc"].passed
    assert checks["beat_champion.roc_auc"].observed == pytest.approx(0.005)
    assert not checks["fairness.demographic_parity_difference"].passed
    assert checks["rare_class_recall"].passed and checks["latency.p99_single_row_ms"].passed and checks["edge_inputs"].passed
    lower = parse_policy("beat_champion: {metric: log_loss, min_delta: 0.05}\n")
    (check,) = apply_policy(lower, {"metrics": {"log_loss": 0.3}}, {"metrics": {"log_loss": 0.4}})
    assert check.passed and check.observed == pytest.approx(0.1)
