"""Each flavor round-trips: log, register, package, then load in a fresh process (from the
registry and from the bundle) and predict exactly what the original model predicted."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from registry_testing import log_and_register, predict_in_fresh_process, store_env, training_frame

from steward import Client
from steward.errors import PermissionDeniedError
from steward.registry import RegistryService


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # flavors do not depend on the metadata backend; the store tests cover PostgreSQL
    return f"sqlite:///{tmp_path}/steward.db"


def _sklearn_model() -> tuple[Any, dict[str, Any]]:
    from sklearn.ensemble import RandomForestClassifier

    frame, target = training_frame()
    return RandomForestClassifier(n_estimators=10, random_state=0).fit(frame, target), {}


def _xgboost_model() -> tuple[Any, dict[str, Any]]:
    xgboost = pytest.importorskip("xgboost")
    frame, target = training_frame()
    return xgboost.XGBClassifier(n_estimators=10, max_depth=3).fit(frame, target), {}


def _lightgbm_model() -> tuple[Any, dict[str, Any]]:
    lightgbm = pytest.importorskip("lightgbm")
    frame, target = training_frame()
    return lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(frame, target), {}


def _onnx_model() -> tuple[Any, dict[str, Any]]:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from sklearn.linear_model import LogisticRegression

    frame, target = training_frame()
    return LogisticRegression(max_iter=500).fit(frame, target), {"flavor": "onnx"}


def _pickle_model() -> tuple[Any, dict[str, Any]]:
    model, _ = _sklearn_model()
    return model, {"trusted": True}


FLAVORS = {
    "sklearn": _sklearn_model,
    "sklearn-pickle": _pickle_model,
    "xgboost": _xgboost_model,
    "lightgbm": _lightgbm_model,
    "onnx": _onnx_model,
}

_FRESH = """
import json, sys
import pandas as pd
import steward.models
frame = pd.read_json({frame!r}, orient="split")
trusted = {trusted!r}
a = steward.models.load({ref!r}, trusted=trusted).predict(frame)
b = steward.models.load_bundle({bundle!r}, trusted=trusted).predict(frame)
print(json.dumps({{"registry": pd.Series(a.ravel() if hasattr(a, "ravel") else a).tolist(),
                  "bundle": pd.Series(b.ravel() if hasattr(b, "ravel") else b).tolist()}}))
"""


def _expected(model: Any, frame: Any, kwargs: dict[str, Any]) -> list[Any]:
    return np.asarray(model.predict(frame)).ravel().tolist()


@pytest.mark.slow  # two fresh interpreters importing the model library: 5-30 s on a busy machine
@pytest.mark.parametrize("flavor", list(FLAVORS))
def test_a_model_round_trips_through_registry_and_bundle_in_a_fresh_process(
    client: Client, registry: RegistryService, tmp_path: Path, flavor: str
) -> None:
    model, kwargs = FLAVORS[flavor]()
    frame, _ = training_frame(rows=40, seed=7)
    version = log_and_register(client, model, frame, **kwargs)
    assert version.flavor == ("sklearn" if flavor.startswith("sklearn") else flavor)
    registry.set_alias("fraud", "champion", version.version)
    bundle = tmp_path / "bundle"
    registry.package("fraud@champion", bundle)
    assert {"Dockerfile", "MANIFEST.json", "requirements.txt", "steward-model.json", "registered.json"} <= {
        p.name for p in bundle.iterdir()
    }
    assert "==" in (bundle / "requirements.txt").read_text()
    frame.to_json(tmp_path / "frame.json", orient="split")
    code = _FRESH.format(frame=str(tmp_path / "frame.json"), trusted=bool(kwargs.get("trusted")), ref="models:/fraud@champion", bundle=str(bundle))
    got = predict_in_fresh_process(code, store_env(client))
    expected = _expected(model, frame, kwargs)
    assert got["registry"] == expected
    assert got["bundle"] == expected


def test_a_pickled_model_does_not_load_unless_trusted(client: Client, registry: RegistryService) -> None:
    model, kwargs = _pickle_model()
    frame, _ = training_frame(rows=10)
    log_and_register(client, model, frame, **kwargs)
    with pytest.raises(PermissionDeniedError, match="pickle"):
        registry.load("fraud:1")


@pytest.mark.slow
def test_a_pyfunc_model_with_artifacts_round_trips_in_a_fresh_process(
    client: Client, registry: RegistryService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module_dir = tmp_path / "userpkg"
    module_dir.mkdir()
    (module_dir / "scaler_model.py").write_text(
        textwrap.dedent(
            """
            import json
            from steward.pyfunc import PythonModel

            class Scaler(PythonModel):
                def load_context(self, context):
                    with open(context.artifacts["weights"]) as f:
                        self.weights = json.load(f)

                def predict(self, model_input):
                    return (model_input["amount"] * self.weights["a"] + model_input["count"]).to_numpy()
            """
        )
    )
    monkeypatch.syspath_prepend(str(module_dir))
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"a": 0.5}))
    import scaler_model

    try:
        frame, _ = training_frame(rows=20)
        frame = frame[["amount", "count"]]
        version = log_and_register(client, scaler_model.Scaler(), frame, artifacts={"weights": str(weights)})
    finally:
        sys.modules.pop("scaler_model", None)
    assert version.flavor == "pyfunc"
    bundle = tmp_path / "bundle"
    registry.package("fraud:1", bundle)
    frame.to_json(tmp_path / "frame.json", orient="split")
    code = _FRESH.format(frame=str(tmp_path / "frame.json"), trusted=False, ref="fraud:1", bundle=str(bundle))
    got = predict_in_fresh_process(code, store_env(client), extra_path=str(module_dir))
    expected = (frame["amount"] * 0.5 + frame["count"]).tolist()
    assert got["registry"] == pytest.approx(expected)
    assert got["bundle"] == pytest.approx(expected)


def test_a_skops_file_with_types_not_recorded_at_logging_is_refused_unless_trusted(tmp_path: Path) -> None:
    from steward.registry.flavors import get_flavor

    model, _ = _sklearn_model()  # a forest holds sklearn.tree._tree.Tree, not on skops' default list
    flavor = get_flavor("sklearn")
    options = flavor.save(model, tmp_path, trusted=False, example=None)
    assert "sklearn.tree._tree.Tree" in options["untrusted_types"]
    assert flavor.load(tmp_path, options, trusted=False) is not None
    with pytest.raises(PermissionDeniedError, match=r"sklearn\.tree\._tree\.Tree"):
        flavor.load(tmp_path, {**options, "untrusted_types": []}, trusted=False)
    assert flavor.load(tmp_path, {**options, "untrusted_types": []}, trusted=True) is not None
