"""Bundles refuse tampered files; predict refuses input that does not match the signature."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from registry_testing import fitted_logistic, log_and_register

import steward.models
from steward import Client
from steward.errors import IntegrityError, InvalidInputError
from steward.registry import Predictor, RegistryService, parse_ref


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/steward.db"


@pytest.fixture
def bundle(client: Client, registry: RegistryService, tmp_path: Path) -> Path:
    model, frame = fitted_logistic()
    log_and_register(client, model, frame)
    return registry.package("fraud:1", tmp_path / "bundle")


@pytest.fixture
def predictor(bundle: Path) -> Predictor:
    return steward.models.load_bundle(bundle)


def test_a_bundle_with_a_changed_model_file_is_refused_naming_the_file(bundle: Path) -> None:
    target = bundle / "data" / "model.skops"
    target.write_bytes(target.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match="data/model.skops") as info:
        steward.models.load_bundle(bundle)
    assert info.value.field == "data/model.skops"


def test_a_bundle_with_an_added_or_missing_file_is_refused(bundle: Path) -> None:
    (bundle / "data" / "evil.py").write_text("print('hi')")
    with pytest.raises(IntegrityError, match="evil.py"):
        steward.models.load_bundle(bundle)
    (bundle / "data" / "evil.py").unlink()
    (bundle / "requirements.txt").unlink()
    with pytest.raises(IntegrityError, match="requirements.txt"):
        steward.models.load_bundle(bundle)


def test_a_bundle_holds_signature_pins_hashes_and_a_dockerfile(bundle: Path) -> None:
    meta = json.loads((bundle / "steward-model.json").read_text())
    assert meta["flavor"] == "sklearn"
    assert [c["name"] for c in meta["signature"]["inputs"]] == ["amount", "count", "score"]
    manifest = json.loads((bundle / "MANIFEST.json").read_text())["files"]
    assert "Dockerfile" in manifest and "data/model.skops" in manifest
    assert all(line.count("==") == 1 for line in (bundle / "requirements.txt").read_text().splitlines())
    assert "pip install" in (bundle / "Dockerfile").read_text()
    assert json.loads((bundle / "registered.json").read_text())["uri"] == "models:/fraud/1"


def test_predict_names_missing_and_extra_columns(predictor: Predictor) -> None:
    _, frame = fitted_logistic()
    bad = frame.drop(columns=["score"]).assign(colour="red")
    with pytest.raises(InvalidInputError, match="missing columns: score; unexpected columns: colour") as info:
        predictor.predict(bad)
    assert info.value.field == "score"


def test_predict_names_columns_of_the_wrong_dtype(predictor: Predictor) -> None:
    _, frame = fitted_logistic()
    with pytest.raises(InvalidInputError, match=r"wrong dtypes: amount \(expected float64, got string\)"):
        predictor.predict(frame.assign(amount=frame["amount"].astype(str)))
    with pytest.raises(InvalidInputError, match=r"count \(expected int64, got float64\)"):
        predictor.predict(frame.assign(count=frame["count"] + 0.5))


def test_predict_widens_integers_where_floats_are_expected_and_reorders_columns(predictor: Predictor) -> None:
    model, frame = fitted_logistic()
    as_ints = frame.assign(amount=frame["amount"].round().astype("int64"))[["score", "count", "amount"]]
    expected = model.predict(as_ints[["amount", "count", "score"]].astype({"amount": "float64"}))
    assert np.array_equal(predictor.predict(as_ints), expected)


def test_predict_refuses_input_that_is_not_a_table(predictor: Predictor) -> None:
    with pytest.raises(InvalidInputError, match="DataFrame"):
        predictor.predict("amount=3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/fraud/3", ("fraud", 3, None, None)),
        ("models:/fraud@champion", ("fraud", None, "champion", None)),
        ("fraud:3", ("fraud", 3, None, None)),
        ("fraud@champion", ("fraud", None, "champion", None)),
        ("fraud/production", ("fraud", None, None, "production")),
        ("fraud", ("fraud", None, None, None)),
        ("fraud@latest", ("fraud", None, None, None)),
        # MLflow's names keep their case (issue 11)
        ("models:/ElasticnetWineModel/1", ("ElasticnetWineModel", 1, None, None)),
    ],
)
def test_every_reference_spelling_parses(text: str, expected: tuple[object, ...]) -> None:
    ref = parse_ref(text)
    assert (ref.name, ref.version, ref.alias, ref.state.value if ref.state else None) == expected


@pytest.mark.parametrize("text", ["", "Fraud Model:1", "fraud:0", "fraud:x", "fraud/shipped", "fraud@1x"])
def test_malformed_references_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_ref(text)
