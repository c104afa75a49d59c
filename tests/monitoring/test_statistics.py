"""core/drift.py statistics on counts, checked against scipy on random data, and the decision rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import spatial, stats

from steward.core import drift
from steward.errors import InvalidInputError

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
samples = st.lists(finite, min_size=2, max_size=300)
counts = st.lists(st.integers(min_value=0, max_value=500), min_size=2, max_size=40)


@given(samples, samples)
def test_ks_matches_scipy_ks_2samp_asymptotic(a: list[float], b: list[float]) -> None:
    ours = drift.ks(a, b)
    theirs = stats.ks_2samp(a, b, method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=1e-6)


@given(st.lists(st.integers(0, 12), min_size=2, max_size=300), st.lists(st.integers(0, 12), min_size=2, max_size=300))
def test_ks_on_counts_of_discrete_values_is_the_exact_ks_statistic(a: list[int], b: list[int]) -> None:
    ref, cur = np.bincount(a, minlength=13), np.bincount(b, minlength=13)
    assert drift.ks_counts(ref, cur).statistic == pytest.approx(stats.ks_2samp(a, b, method="asymp").statistic, abs=1e-12)


@given(counts, counts)
def test_chi_square_on_counts_matches_scipy_chi2_contingency(a: list[int], b: list[int]) -> None:
    size = min(len(a), len(b))
    ref, cur = np.array(a[:size]), np.array(b[:size])
    if ref.sum() == 0 or cur.sum() == 0:
        return
    keep = (ref + cur) > 0
    ours = drift.chi_square_counts(ref, cur)
    if keep.sum() < 2:
        assert ours.p_value == 1.0
        return
    statistic, p, _, _ = stats.chi2_contingency(np.vstack([ref[keep], cur[keep]]), correction=False)
    assert ours.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-9)
    assert ours.p_value == pytest.approx(p, rel=1e-6, abs=1e-12)


@given(counts, counts)
def test_jensen_shannon_on_counts_matches_scipy(a: list[int], b: list[int]) -> None:
    size = min(len(a), len(b))
    ref, cur = np.array(a[:size], dtype=float), np.array(b[:size], dtype=float)
    if ref.sum() == 0 or cur.sum() == 0:
        return
    expected = spatial.distance.jensenshannon(ref / ref.sum(), cur / cur.sum(), base=2)
    assert drift.jensen_shannon_counts(ref, cur).statistic == pytest.approx(expected, abs=1e-6)


@given(samples, samples, st.data())
def test_weighted_wasserstein_matches_scipy(a: list[float], b: list[float], data: st.DataObject) -> None:
    wa = data.draw(st.lists(st.integers(1, 50), min_size=len(a), max_size=len(a)))
    wb = data.draw(st.lists(st.integers(1, 50), min_size=len(b), max_size=len(b)))
    expected = stats.wasserstein_distance(a, b, wa, wb)
    assert drift.wasserstein_weighted(a, wa, b, wb).statistic == pytest.approx(expected, rel=1e-9, abs=1e-7)
    assert drift.wasserstein(a, b).statistic == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-7)


@given(counts, counts)
def test_psi_on_counts_is_the_textbook_formula(a: list[int], b: list[int]) -> None:
    size = min(len(a), len(b))
    ref, cur = np.array(a[:size], dtype=float), np.array(b[:size], dtype=float)
    if ref.sum() == 0 or cur.sum() == 0:
        return
    r = np.maximum(ref / ref.sum(), drift.PSI_EPSILON)
    c = np.maximum(cur / cur.sum(), drift.PSI_EPSILON)
    assert drift.psi_counts(ref, cur).statistic == pytest.approx(max(float(np.sum((c - r) * np.log(c / r))), 0.0), abs=1e-12)


@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 500), st.integers(1, 500))
def test_missing_share_test_matches_the_chi_square_test_of_the_2x2_table(k1: int, n1: int, k2: int, n2: int) -> None:
    k1, k2 = min(k1, n1), min(k2, n2)
    change, p = drift.missing_test(k1, n1, k2, n2)
    assert change == pytest.approx(k2 / n2 - k1 / n1)
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    if (table.sum(axis=0) == 0).any():
        assert p == 1.0
        return
    assert p == pytest.approx(stats.chi2_contingency(table, correction=False)[1], rel=1e-6, abs=1e-12)


@settings(max_examples=50)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30))
def test_holm_is_never_stricter_than_bonferroni_and_both_stay_between_p_and_1(p: list[float]) -> None:
    holm = drift.adjust_p_values(p, "holm")
    bonferroni = drift.adjust_p_values(p, "bonferroni")
    for raw, h, b in zip(p, holm, bonferroni, strict=True):
        assert raw - 1e-12 <= h <= b + 1e-12 <= 1.0 + 1e-12


def test_holm_adjusts_a_known_example() -> None:
    assert drift.adjust_p_values([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    assert drift.adjust_p_values([0.01, 0.04, 0.03], "bonferroni") == pytest.approx([0.03, 0.12, 0.09])
    with pytest.raises(InvalidInputError, match="unknown correction"):
        drift.adjust_p_values([0.1], "fdr")


def test_the_method_follows_the_type_and_the_sample_size_unless_overridden() -> None:
    assert drift.choose_method("numeric", 500, 50_000) == "ks"
    assert drift.choose_method("numeric", drift.LARGE_SAMPLE, drift.LARGE_SAMPLE) == "wasserstein"
    assert drift.choose_method("categorical", 999, 10_000) == "chi2"
    assert drift.choose_method("categorical", 5_000, 10_000) == "js"
    assert drift.choose_method("numeric", 50, 50, override="psi") == "psi"
    assert drift.choose_method("categorical", 50_000, 50_000, override="chi2") == "chi2"
    with pytest.raises(InvalidInputError, match="does not suit a categorical column"):
        drift.choose_method("categorical", 10, 10, override="ks")


def test_higher_sensitivity_lowers_every_threshold() -> None:
    for method in (*drift.METHODS, "unseen", "missing"):
        assert drift.threshold(method, "low") > drift.threshold(method, "medium") > drift.threshold(method, "high")
    with pytest.raises(InvalidInputError, match="unknown sensitivity"):
        drift.threshold("ks", "paranoid")


def test_the_effect_size_of_chi_square_is_cramers_v_and_unseen_categories_are_counted() -> None:
    test = drift.categorical_test([90, 10, 0], [80, 10, 10], method="chi2")
    assert test.effect_size == pytest.approx(np.sqrt(test.statistic / 200))
    assert test.unseen_share == pytest.approx(0.1)
    assert drift.categorical_test([90, 10, 0], [80, 10, 10], method="js").effect_size == pytest.approx(
        spatial.distance.jensenshannon([0.9, 0.1, 0.0], [0.8, 0.1, 0.1], base=2)
    )


def test_normalised_wasserstein_of_a_mean_shift_is_the_shift_in_standard_deviations() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0, 2, 50_000)
    edges = np.quantile(values, np.linspace(0, 1, 101))
    ref = np.bincount(np.searchsorted(edges, values, side="right"), minlength=102)
    ref_sums = np.bincount(np.searchsorted(edges, values, side="right"), weights=values, minlength=102)
    shifted = values + 0.4  # 0.2 sd
    cur = np.bincount(np.searchsorted(edges, shifted, side="right"), minlength=102)
    cur_sums = np.bincount(np.searchsorted(edges, shifted, side="right"), weights=shifted, minlength=102)
    means_ref = np.where(ref > 0, ref_sums / np.maximum(ref, 1), 0.0)
    means_cur = np.where(cur > 0, cur_sums / np.maximum(cur, 1), 0.0)
    test = drift.numeric_test(ref, means_ref, cur, means_cur, scale=float(values.std(ddof=1)), method="wasserstein")
    assert test.effect_size == pytest.approx(0.2, abs=0.005)
    assert test.p_value < 1e-10


def test_counts_of_different_lengths_or_empty_sides_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="same bins"):
        drift.ks_counts([1, 2], [1, 2, 3])
    with pytest.raises(InvalidInputError, match="at least one value"):
        drift.chi_square_counts([0, 0], [1, 2])
