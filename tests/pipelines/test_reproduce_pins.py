"""What ``steward reproduce`` exports to the command it re-runs, read back: a bare dataset name
pinned by ``STEWARD_PINNED_DATASETS`` resolves to the recorded version (an explicit version or
hash prefix is left alone; of several recorded versions of one name, the highest); the seed
of ``STEWARD_SEED`` replaces the one asked for only while reproducing."""

from __future__ import annotations

import pytest

from steward.data._pins import PINS_ENV, pinned_ref, pins_value
from steward.errors import InvalidInputError
from steward.tracking._seed import reproduced_seed


def test_a_bare_name_resolves_to_its_pinned_version_and_nothing_else_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PINS_ENV, raising=False)
    assert pinned_ref("toy") == "toy"  # not reproducing: the latest, as ever
    pins = pins_value(["datasets:/toy/2", "datasets:/toy/1", "datasets:/other/3", "not a ref!", "other"])
    assert pins == "datasets:/other/3 datasets:/toy/2"
    monkeypatch.setenv(PINS_ENV, pins)
    assert pinned_ref("toy") == "datasets:/toy/2"
    assert pinned_ref("datasets:/toy") == "datasets:/toy/2"
    assert pinned_ref(" other ") == "datasets:/other/3"
    for explicit in ("toy:1", "datasets:/toy/1", "toy@abcdef12", "abcdef1234", "unpinned", "bad name!"):
        assert pinned_ref(explicit) == explicit


def test_the_recorded_seed_replaces_the_asked_one_only_while_reproducing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEWARD_REPRODUCES", raising=False)
    monkeypatch.setenv("STEWARD_SEED", "7")
    assert reproduced_seed(123) == 123  # STEWARD_SEED alone changes nothing
    monkeypatch.setenv("STEWARD_REPRODUCES", "0" * 32)
    assert reproduced_seed(123) == 7
    monkeypatch.setenv("STEWARD_SEED", "")
    assert reproduced_seed(123) == 123  # the original run recorded no seed
    for bad in ("seven", "-1", str(2**32)):
        monkeypatch.setenv("STEWARD_SEED", bad)
        with pytest.raises(InvalidInputError):
            reproduced_seed(123)
