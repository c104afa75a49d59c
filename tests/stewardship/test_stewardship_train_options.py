"""``steward.yaml``'s ``retrain.<model>.train_timeout`` and ``train_retries``: the training
step's time limit (seconds or a duration; 1 h by default) and retries (none by default);
a bad value is refused naming its line before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.errors import InvalidInputError
from steward.stewardship.lifecycle import TRAIN_TIMEOUT_S, load_spec

BASE = "retrain:\n  fraud:\n    train: fraud_training:train\n    data: fraud-train\n    target: label\n    gate: 'min: {accuracy: 0.8}'\n"


def _file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "steward.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path


def test_the_training_steps_time_limit_and_retries_come_from_steward_yaml(tmp_path: Path) -> None:
    spec = load_spec("fraud", _file(tmp_path))
    assert spec.train_timeout_s == TRAIN_TIMEOUT_S == 3600 and spec.train_retries == 0
    spec = load_spec("fraud", _file(tmp_path, "    train_timeout: 30m\n    train_retries: 2\n    timeout: 120\n"))
    assert spec.train_timeout_s == 1800 and spec.train_retries == 2 and spec.timeout_s == 120  # timeout: the rollout's
    assert load_spec("fraud", _file(tmp_path, "    train_timeout: 90\n")).train_timeout_s == 90
    assert load_spec("fraud", _file(tmp_path), train_timeout="5s").train_timeout_s == 5  # an override on top


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("    train_timeout: soon\n", "steward.yaml:7: retrain.fraud.train_timeout: 'soon' is not a duration"),
        ("    train_timeout: 0\n", "steward.yaml:7: retrain.fraud.train_timeout: 0 is less than or equal to the minimum of 0"),
        ("    train_retries: -1\n", "steward.yaml:7: retrain.fraud.train_retries: -1 is less than the minimum of 0"),
        ("    train_retries: many\n", "steward.yaml:7: retrain.fraud.train_retries: 'many' is not of type 'integer'"),
    ],
)
def test_a_bad_time_limit_or_retry_count_is_refused_naming_its_line(tmp_path: Path, extra: str, says: str) -> None:
    with pytest.raises(InvalidInputError) as bad:
        load_spec("fraud", _file(tmp_path, extra))
    assert says in str(bad.value)


def test_a_bad_override_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as bad:
        load_spec("fraud", _file(tmp_path), train_timeout="0s")
    assert bad.value.field == "train_timeout"
    with pytest.raises(InvalidInputError) as bad:
        load_spec("fraud", _file(tmp_path), train_retries=-1)
    assert bad.value.field == "train_retries"
