"""Distribution distances: properties (hypothesis) and agreement with scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import spatial, stats

from steward.core import drift
from steward.errors import InvalidInputError

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
numeric_samples = st.lists(finite, min_size=2, max_size=200)
labels = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=200)


@given(numeric_samples)
def test_identical_numeric_samples_have_zero_distance(sample: list[float]) -> None:
    assert drift.psi(sample, sample).statistic == pytest.approx(0.0, abs=1e-12)
    assert drift.ks(sample, sample).statistic == 0.0
    assert drift.ks(sample, sample).p_value == pytest.approx(1.0)
    assert drift.wasserstein(sample, sample).statistic == pytest.approx(0.0, abs=1e-9)
    assert drift.jensen_shannon(sample, sample).statistic == pytest.approx(0.0, abs=1e-6)


@given(labels)
def test_identical_categorical_samples_have_zero_distance(sample: list[str]) -> None:
    assert drift.psi(sample, sample).statistic == pytest.approx(0.0, abs=1e-12)
    chi = drift.chi_square(sample, sample)
    assert chi.statistic == pytest.approx(0.0, abs=1e-9)
    assert chi.p_value == pytest.approx(1.0)
    assert drift.jensen_shannon(sample, sample).statistic == pytest.approx(0.0, abs=1e-6)


@given(numeric_samples, numeric_samples)
def test_numeric_distances_are_non_negative_and_symmetric_where_the_maths_is(a: list[float], b: list[float]) -> None:
    for kind in drift.DISTANCE_KINDS:
        assert drift.distance(a, b, kind).statistic >= 0.0
    assert drift.ks(a, b).statistic == pytest.approx(drift.ks(b, a).statistic)
    assert drift.wasserstein(a, b).statistic == pytest.approx(drift.wasserstein(b, a).statistic, rel=1e-9, abs=1e-6)
    assert drift.jensen_shannon(a, b).statistic == pytest.approx(drift.jensen_shannon(b, a).statistic, abs=1e-9)
    assert 0.0 <= drift.jensen_shannon(a, b).statistic <= 1.0
    p = drift.ks(a, b).p_value
    assert p is not None and 0.0 <= p <= 1.0


@given(labels, labels)
def test_categorical_distances_are_non_negative_and_symmetric(a: list[str], b: list[str]) -> None:
    assert drift.psi(a, b).statistic >= 0.0
    assert drift.chi_square(a, b).statistic == pytest.approx(drift.chi_square(b, a).statistic)
    assert drift.jensen_shannon(a, b).statistic == pytest.approx(drift.jensen_shannon(b, a).statistic, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_a_larger_shift_gives_a_larger_distance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = rng.normal(0, 1, 2000)
    base = rng.normal(0, 1, 2000)
    small, large = base + 0.5, base + 2.0
    for kind in ("psi", "ks", "js", "wasserstein"):
        assert drift.distance(reference, large, kind).statistic > drift.distance(reference, small, kind).statistic, kind
    assert drift.ks(reference, large).p_value < 1e-6  # type: ignore[operator]


@given(numeric_samples, numeric_samples)
def test_ks_matches_scipy(a: list[float], b: list[float]) -> None:
    ours = drift.ks(a, b)
    theirs = stats.ks_2samp(a, b, method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=1e-9)


@given(numeric_samples, numeric_samples)
def test_wasserstein_matches_scipy(a: list[float], b: list[float]) -> None:
    assert drift.wasserstein(a, b).statistic == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-6)


@given(labels, labels)
def test_chi_square_matches_scipy_including_unseen_categories(a: list[str], b: list[str]) -> None:
    cats = sorted(set(a) | set(b))
    table = np.array([[a.count(c) for c in cats], [b.count(c) for c in cats]])
    ours = drift.chi_square(a, b)
    if len(cats) == 1:
        assert ours.statistic == 0.0 and ours.p_value == 1.0
        return
    theirs = stats.chi2_contingency(table, correction=False)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-9, abs=1e-9)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-6, abs=1e-12)


@given(labels, labels)
def test_jensen_shannon_matches_scipy(a: list[str], b: list[str]) -> None:
    cats = sorted(set(a) | set(b))
    p = np.array([a.count(c) for c in cats], dtype=float)
    q = np.array([b.count(c) for c in cats], dtype=float)
    expected = spatial.distance.jensenshannon(p / p.sum(), q / q.sum(), base=2)
    assert drift.jensen_shannon(a, b).statistic == pytest.approx(expected, abs=1e-7)


def test_psi_bins_at_reference_quantiles_and_floors_empty_bins() -> None:
    reference = np.arange(1000, dtype=float)
    # everything above the reference's range: all current mass lands in the top bin
    result = drift.psi(reference, reference + 10_000)
    assert math.isfinite(result.statistic)
    assert result.statistic > 1.0
    # textbook value: 10 equal reference bins, current all in one, empty bins floored at 1e-4
    r, c = 0.1, np.array([1e-4] * 9 + [1.0])
    assert result.statistic == pytest.approx(float(np.sum((c - r) * np.log(c / r))))


def test_chi_square_handles_a_category_only_the_current_sample_has() -> None:
    result = drift.chi_square(["a"] * 50 + ["b"] * 50, ["a"] * 50 + ["b"] * 40 + ["new"] * 10)
    assert result.p_value is not None and result.p_value < 0.01


def test_missing_values_are_dropped_before_comparing() -> None:
    assert drift.ks([1.0, 2.0, float("nan")], [1.0, 2.0]).statistic == 0.0
    assert drift.psi(["a", None, "b"], ["a", "b"]).statistic == pytest.approx(0.0)


def test_an_all_missing_sample_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="no non-missing values"):
        drift.ks([float("nan")] * 3, [1.0])


def test_the_dispatcher_refuses_unknown_kinds_and_numeric_distances_on_categories() -> None:
    with pytest.raises(InvalidInputError, match="unknown distance"):
        drift.distance([1.0], [1.0], "hellinger")
    with pytest.raises(InvalidInputError, match="needs numeric"):
        drift.distance(["a"], ["b"], "ks")
    assert drift.distance(["a", "b"], ["a", "b"]).kind == "psi"
