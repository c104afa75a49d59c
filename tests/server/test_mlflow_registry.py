"""MLflow's model-registry REST API on Steward's registry, and MLflow-format models as
Steward versions.

In process (fast, SQLite and PostgreSQL): the wire shapes, the stage mapping, deletion
rules, errors in MLflow's shape, the permission table (another project's contributor, a
viewer) and the audit rows. An MLflow-format folder is written here the way
``mlflow.sklearn.save_model`` writes it (this venv has no mlflow); the tests against the
real mlflow client are in ``test_mlflow_registry_client.py``.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml

from steward import errors
from steward.models import load_bundle
from steward.registry import parse_source
from steward.wiring import Services

MLFLOW = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def wine() -> tuple[Any, Any]:  # Any: a DataFrame and a Series
    from sklearn.datasets import load_wine

    x, y = load_wine(return_X_y=True, as_frame=True)
    return x, y


def mlflow_folder(folder: Path, *, fmt: str = "skops") -> Any:  # Any: the fitted estimator
    """An ElasticNet saved as ``mlflow.sklearn.save_model`` (3.x) lays it out."""
    from sklearn.linear_model import ElasticNet

    x, y = wine()
    model = ElasticNet(alpha=0.5, l1_ratio=0.5, random_state=42).fit(x, y)
    folder.mkdir(parents=True)
    file = "model.skops" if fmt == "skops" else "model.pkl"
    if fmt == "skops":
        import skops.io as sio

        sio.dump(model, folder / file)
    else:
        (folder / file).write_bytes(pickle.dumps(model))
    inputs = [{"type": "double", "name": c, "required": True} for c in x.columns]
    mlmodel = {
        "flavors": {
            "python_function": {
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn", "model_path": file, "predict_fn": "predict", "python_version": "3.11.7",
            },
            "sklearn": {"code": None, "pickled_model": file, "serialization_format": fmt, "sklearn_version": "1.9.1", "skops_trusted_types": None},
        },
        "mlflow_version": "3.17.2",
        "signature": {
            "inputs": json.dumps(inputs),
            "outputs": json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]),
            "params": None,
        },
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (folder / "requirements.txt").write_text("mlflow==3.17.2\nscikit-learn==1.9.1\nskops==0.16.0\n")
    (folder / "conda.yaml").write_text("name: mlflow-env\n")
    (folder / "python_env.yaml").write_text("python: 3.11.7\n")
    return model


def _run(api: httpx.Client, experiment: str = "wine") -> tuple[str, str]:
    found = api.get(f"{MLFLOW}/experiments/get-by-name", params={"experiment_name": experiment})
    if found.status_code == 200:
        experiment_id = found.json()["experiment"]["experiment_id"]
    else:
        experiment_id = api.post(f"{MLFLOW}/experiments/create", json={"name": experiment}).json()["experiment_id"]
    run = api.post(f"{MLFLOW}/runs/create", json={"experiment_id": experiment_id}).json()["run"]["info"]
    return experiment_id, run["run_id"]


def _upload(api: httpx.Client, experiment_id: str, run_id: str, folder: Path, prefix: str = "model") -> None:
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = file.relative_to(folder).as_posix()
        response = api.put(f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts/{prefix}/{rel}", content=file.read_bytes())
        assert response.status_code == 200, response.text


def _registered(api: httpx.Client, tmp_path: Path, name: str = "ElasticnetWineModel", experiment: str = "wine") -> tuple[str, str, Any]:
    """A run holding an MLflow folder at ``model/``, registered as the next version of ``name``."""
    model = mlflow_folder(tmp_path / f"saved-{name}-{experiment}")
    experiment_id, run_id = _run(api, experiment)
    _upload(api, experiment_id, run_id, tmp_path / f"saved-{name}-{experiment}")
    api.post(f"{MLFLOW}/runs/update", json={"run_id": run_id, "status": "FINISHED"})
    created = api.post(f"{MLFLOW}/registered-models/create", json={"name": name})
    assert created.status_code in (200, 400), created.text
    source = f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model"
    version = api.post(f"{MLFLOW}/model-versions/create", json={"name": name, "source": source, "run_id": run_id})
    assert version.status_code == 200, version.text
    return run_id, version.json()["model_version"]["version"], model


def test_a_version_registered_through_mlflow_is_a_steward_version_that_loads_packages_and_predicts(
    api: httpx.Client, services: Services, tmp_path: Path
) -> None:
    run_id, number, model = _registered(api, tmp_path)
    got = api.get(f"{MLFLOW}/model-versions/get", params={"name": "ElasticnetWineModel", "version": number}).json()
    mv = got["model_version"]
    assert mv["name"] == "ElasticnetWineModel" and mv["version"] == "1" and mv["status"] == "READY"
    assert mv["current_stage"] == "None" and mv["run_id"] == run_id and mv["source"] == f"runs:/{run_id}/model"
    assert mv["user_id"] == "tester" and isinstance(mv["creation_timestamp"], int)

    # Steward's own view: case kept, flavor mlflow, the signature and requirements read from MLmodel
    steward_view = api.get("/api/v1/models/ElasticnetWineModel/versions/1").json()
    assert steward_view["flavor"] == "mlflow" and steward_view["state"] == "candidate"
    assert steward_view["requirements"][1] == "scikit-learn==1.9.1"
    assert [c["name"] for c in steward_view["signature"]["inputs"]][:2] == ["alcohol", "malic_acid"]
    files = api.get("/api/v1/models/ElasticnetWineModel/versions/1/files").json()["files"]
    assert sorted(f["path"] for f in files) == ["MLmodel", "conda.yaml", "model.skops", "python_env.yaml", "requirements.txt"]
    assert all(len(f["digest"]) == 64 for f in files)

    x, _ = wine()
    registry = services.registry("tester")
    predictor = registry.load("models:/ElasticnetWineModel/1")  # skops: no trust needed for plain estimators
    assert predictor.flavor == "mlflow"
    np.testing.assert_allclose(predictor.predict(x), model.predict(x))
    with pytest.raises(errors.InvalidInputError, match="missing columns: alcohol"):
        predictor.predict(x.drop(columns=["alcohol"]))
    bundle = registry.package("ElasticnetWineModel:1", tmp_path / "bundle")
    assert (bundle / "Dockerfile").exists() and (bundle / "MANIFEST.json").exists()
    np.testing.assert_allclose(load_bundle(bundle).predict(x), model.predict(x))
    (bundle / "model.skops").write_bytes(b"tampered")
    with pytest.raises(errors.IntegrityError, match="model.skops"):
        load_bundle(bundle)


def test_a_gate_evaluates_an_mlflow_version_and_a_passed_gate_lets_mlflow_promote_it(
    api: httpx.Client, services: Services, tmp_path: Path
) -> None:
    _registered(api, tmp_path)
    x, y = wine()
    services.data("tester").register("wine-holdout", x.assign(quality=y.astype(float)))
    evaluation = services.evaluation("tester")
    gate = evaluation.gate(
        "ElasticnetWineModel:1", "wine-holdout:1", "min: {r2: 0.5}\n", target="quality", task="regression", measure_latency=False
    )
    assert gate.passed, gate
    failing = evaluation.gate(
        "ElasticnetWineModel:1", "wine-holdout:1", "min: {r2: 0.99}\n", target="quality", task="regression", measure_latency=False
    )
    assert not failing.passed
    api.post("/api/v1/models/ElasticnetWineModel/versions/1/approvals", json={"comment": "holdout checked"})
    blocked = api.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": "ElasticnetWineModel", "version": "1", "stage": "Production"})
    assert blocked.status_code == 400 and "gate" in blocked.json()["message"]
    evaluation.gate(
        "ElasticnetWineModel:1", "wine-holdout:1", "min: {r2: 0.5}\n", target="quality", task="regression", measure_latency=False
    )
    promoted = api.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": "ElasticnetWineModel", "version": "1", "stage": "Production"})
    assert promoted.status_code == 200 and promoted.json()["model_version"]["current_stage"] == "Production"


def test_a_pickled_mlflow_model_needs_trust_to_load(api: httpx.Client, services: Services, tmp_path: Path) -> None:
    model = mlflow_folder(tmp_path / "pickled", fmt="cloudpickle")
    experiment_id, run_id = _run(api)
    _upload(api, experiment_id, run_id, tmp_path / "pickled", prefix="sk")
    api.post(f"{MLFLOW}/registered-models/create", json={"name": "Pickled"})
    response = api.post(f"{MLFLOW}/model-versions/create", json={"name": "Pickled", "source": f"runs:/{run_id}/sk"})
    assert response.status_code == 200, response.text
    registry = services.registry("tester")
    with pytest.raises(errors.PermissionDeniedError, match="trusted=True"):
        registry.load("Pickled:1")
    x, _ = wine()
    np.testing.assert_allclose(registry.load("Pickled@latest", trusted=True).predict(x), model.predict(x))


def test_registered_models_aliases_tags_search_and_latest_versions_in_mlflow_shapes(api: httpx.Client, tmp_path: Path) -> None:
    _registered(api, tmp_path)
    _registered(api, tmp_path, experiment="wine-2")
    _registered(api, tmp_path, name="other.model", experiment="wine-3")
    name = "ElasticnetWineModel"
    assert api.post(f"{MLFLOW}/registered-models/alias", json={"name": name, "alias": "champion", "version": "1"}).json() == {}
    assert api.post(f"{MLFLOW}/registered-models/set-tag", json={"name": name, "key": "team", "value": "wine"}).json() == {}
    assert api.post(f"{MLFLOW}/model-versions/set-tag", json={"name": name, "version": "2", "key": "validated", "value": True}).json() == {}
    by_alias = api.get(f"{MLFLOW}/registered-models/alias", params={"name": name, "alias": "champion"}).json()["model_version"]
    assert by_alias["version"] == "1" and by_alias["aliases"] == ["champion"]
    model = api.get(f"{MLFLOW}/registered-models/get", params={"name": name}).json()["registered_model"]
    assert model["aliases"] == [{"alias": "champion", "version": "1"}]
    assert model["tags"] == [{"key": "team", "value": "wine"}]
    assert [v["version"] for v in model["latest_versions"]] == ["2"]  # the newest in stage None
    updated = api.patch(f"{MLFLOW}/registered-models/update", json={"name": name, "description": "wine quality"})
    assert updated.json()["registered_model"]["description"] == "wine quality"
    mv = api.patch(f"{MLFLOW}/model-versions/update", json={"name": name, "version": "2", "description": "v2"}).json()
    assert mv["model_version"]["description"] == "v2" and mv["model_version"]["tags"] == [{"key": "validated", "value": "True"}]

    found = api.get(f"{MLFLOW}/registered-models/search", params={"filter": "name LIKE 'Elastic%'"}).json()
    assert [m["name"] for m in found["registered_models"]] == [name]
    everything = api.get(f"{MLFLOW}/registered-models/search", params={"max_results": 1, "order_by": ["name DESC"]}).json()
    assert [m["name"] for m in everything["registered_models"]] == ["other.model"] and everything["next_page_token"] == "1"
    second = api.get(f"{MLFLOW}/registered-models/search", params={"max_results": 1, "order_by": ["name DESC"], "page_token": "1"})
    assert [m["name"] for m in second.json()["registered_models"]] == [name] and "next_page_token" not in second.json()
    by_tag = api.get(f"{MLFLOW}/registered-models/search", params={"filter": "tags.team = 'wine'"}).json()
    assert [m["name"] for m in by_tag["registered_models"]] == [name]
    versions = api.get(f"{MLFLOW}/model-versions/search", params={"filter": f"name = '{name}'"}).json()["model_versions"]
    assert [v["version"] for v in versions] == ["2", "1"]
    tagged = api.get(f"{MLFLOW}/model-versions/search", params={"filter": "tags.validated = 'True' AND version_number >= 2"})
    assert [(v["name"], v["version"]) for v in tagged.json()["model_versions"]] == [(name, "2")]

    # stages: None -> Staging (approved) -> Production needs an approval in Steward
    staged = api.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": name, "version": "1", "stage": "staging"})
    assert staged.json()["model_version"]["current_stage"] == "Staging"
    refused = api.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": name, "version": "1", "stage": "Production"})
    assert refused.status_code == 400 and "approval" in refused.json()["message"]
    api.post(f"/api/v1/models/{name}/versions/1/approvals", json={"comment": "checked on the holdout"})
    api.post(f"/api/v1/models/{name}/versions/2/approvals", json={"comment": "checked on the holdout"})
    prod = api.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": name, "version": "1", "stage": "Production"})
    assert prod.json()["model_version"]["current_stage"] == "Production"
    both = api.post(
        f"{MLFLOW}/model-versions/transition-stage",
        json={"name": name, "version": "2", "stage": "Production", "archive_existing_versions": True},
    )
    assert both.json()["model_version"]["current_stage"] == "Production"
    assert api.get("/api/v1/models/ElasticnetWineModel/versions/1").json()["state"] == "deprecated"
    latest = api.post(f"{MLFLOW}/registered-models/get-latest-versions", json={"name": name, "stages": ["Production", "Archived"]})
    assert [(v["version"], v["current_stage"]) for v in latest.json()["model_versions"]] == [("1", "Archived"), ("2", "Production")]
    back = api.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": name, "version": "2", "stage": "None"})
    assert back.status_code == 400 and back.json()["error_code"] == "INVALID_PARAMETER_VALUE" and "Archived" in back.json()["message"]

    uri = api.get(f"{MLFLOW}/model-versions/get-download-uri", params={"name": name, "version": "1"}).json()["artifact_uri"]
    assert uri.startswith("mlflow-artifacts:/") and uri.endswith("/artifacts/model")
    assert api.request("DELETE", f"{MLFLOW}/registered-models/alias", json={"name": name, "alias": "champion"}).json() == {}
    assert api.request("DELETE", f"{MLFLOW}/model-versions/delete-tag", json={"name": name, "version": "2", "key": "validated"}).json() == {}
    assert api.request("DELETE", f"{MLFLOW}/registered-models/delete-tag", json={"name": name, "key": "team"}).json() == {}
    assert api.get("/ajax-api/2.0/mlflow/registered-models/get", params={"name": name}).json()["registered_model"]["tags"] == []


def test_only_candidate_versions_are_deleted_and_numbers_are_never_reused(
    api: httpx.Client, services: Services, tmp_path: Path
) -> None:
    _registered(api, tmp_path, name="Scratch")
    _registered(api, tmp_path, name="Scratch", experiment="wine-2")
    api.post("/api/v1/models/Scratch/versions/2/approvals", json={"comment": "ok"})
    kept = api.request("DELETE", f"{MLFLOW}/model-versions/delete", json={"name": "Scratch", "version": "2"})
    assert kept.status_code == 400 and "only candidate versions" in kept.json()["message"]
    assert api.request("DELETE", f"{MLFLOW}/registered-models/delete", json={"name": "Scratch"}).status_code == 400
    api.post("/api/v1/models/Scratch/versions/2/transitions", json={"state": "retired"})
    assert api.request("DELETE", f"{MLFLOW}/model-versions/delete", json={"name": "Scratch", "version": "1"}).json() == {}
    gone = api.get(f"{MLFLOW}/model-versions/get", params={"name": "Scratch", "version": "1"})
    assert gone.status_code == 404 and gone.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    _registered(api, tmp_path, name="Served", experiment="wine-5")
    # with approvals off a candidate may take traffic: deleting it must not pull it from under the deployment
    lenient = Services(services.settings.model_copy(update={"require_approval": False}), services.store, services.blobs)
    lenient.deployments("tester").create_deployment("served-api", "Served:1")
    serving = api.request("DELETE", f"{MLFLOW}/model-versions/delete", json={"name": "Served", "version": "1"})
    assert serving.status_code == 400 and "served-api" in serving.json()["message"]
    assert api.request("DELETE", f"{MLFLOW}/registered-models/delete", json={"name": "Served"}).status_code == 400

    _registered(api, tmp_path, name="Temp", experiment="wine-3")
    assert api.request("DELETE", f"{MLFLOW}/registered-models/delete", json={"name": "Temp"}).json() == {}
    assert api.get(f"{MLFLOW}/registered-models/get", params={"name": "Temp"}).status_code == 404
    _, again, _ = _registered(api, tmp_path, name="Temp", experiment="wine-4")
    assert again == "2"  # Temp:1 named the deleted model's version; it never names another
    actions = [e["action"] for e in api.get("/api/v1/audit", params={"max_results": 10000}).json()["entries"]]
    assert {"models.delete", "models.delete_version", "models.create_version", "models.transition"} <= set(actions)


def test_bad_registry_requests_answer_mlflow_errors_naming_the_field(api: httpx.Client, tmp_path: Path) -> None:
    missing = api.get(f"{MLFLOW}/registered-models/get", params={"name": "Nope"})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api.get(f"{MLFLOW}/registered-models/get").json()["error_code"] == "INVALID_PARAMETER_VALUE"
    spaced = api.post(f"{MLFLOW}/registered-models/create", json={"name": "my model"})
    assert spaced.status_code == 400 and "model name" in spaced.json()["message"]
    api.post(f"{MLFLOW}/registered-models/create", json={"name": "Dup"})
    dup = api.post(f"{MLFLOW}/registered-models/create", json={"name": "Dup"})
    assert dup.status_code == 400 and dup.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    _, run_id = _run(api)
    for source in ["s3://bucket/model", "runs:/nothex/model", f"runs:/{run_id}/../x", f"runs:/{run_id}"]:
        bad = api.post(f"{MLFLOW}/model-versions/create", json={"name": "Dup", "source": source})
        assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE", source
    empty = api.post(f"{MLFLOW}/model-versions/create", json={"name": "Dup", "source": f"runs:/{run_id}/model"})
    assert empty.status_code == 404 and "no model" in empty.json()["message"]
    other = api.post(f"{MLFLOW}/model-versions/create", json={"name": "Dup", "source": f"runs:/{run_id}/model", "run_id": "a" * 32})
    assert other.status_code == 400 and "run_id" in other.json()["message"]
    no_model = api.post(f"{MLFLOW}/model-versions/create", json={"name": "Absent", "source": f"runs:/{run_id}/model"})
    assert no_model.status_code == 404
    assert api.get(f"{MLFLOW}/model-versions/get", params={"name": "Dup", "version": "x"}).status_code == 400
    assert api.get(f"{MLFLOW}/registered-models/search", params={"filter": "name = 'a' OR name = 'b'"}).status_code == 400
    assert api.get(f"{MLFLOW}/registered-models/search", params={"filter": "owner = 'a'"}).json()["error_code"] == "INVALID_PARAMETER_VALUE"
    stage = api.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": "Dup", "version": "1", "stage": "Live"})
    assert stage.status_code == 400 and "stage" in stage.json()["message"]
    rename = api.post(f"{MLFLOW}/registered-models/rename", json={"name": "Dup", "new_name": "Dup2"})
    assert rename.status_code == 404 and rename.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    alias = api.post(f"{MLFLOW}/registered-models/alias", json={"name": "Dup", "alias": "Champion", "version": "1"})
    assert alias.status_code in (400, 404) and "error_code" in alias.json()


def test_sources_name_one_run_whatever_their_spelling() -> None:
    rid = "ab" * 16
    assert parse_source(f"runs:/{rid}/model").run_id == rid
    found = parse_source(f"mlflow-artifacts://host:5000/3/{rid}/artifacts/a/b")
    assert (found.experiment_id, found.run_id, found.path) == ("3", rid, "a/b")
    assert parse_source("models:/m-" + "c" * 32).logged_model_id == "m-" + "c" * 32
    for bad in [f"runs:/{rid}/a/../../x", f"mlflow-artifacts:/3/{rid}/other/x", "file:///etc/passwd", ""]:
        with pytest.raises(errors.InvalidInputError):
            parse_source(bad)


# -- permissions: another project's contributor, a viewer ----------------------------------


@pytest.fixture
def secured(settings: Any, services: Services, asgi_client: Any) -> Iterator[dict[str, httpx.Client]]:  # Any: fixtures
    from steward.server import create_app

    app = create_app(settings.model_copy(update={"auth": "on"}), services)
    gov = services.governance("setup")
    tokens = {"root": gov.bootstrap_admin("root", "root@example.com").secret}
    for user, project, role in [("alice", "wine", "contributor"), ("mallory", "other", "contributor"), ("victor", "wine", "viewer")]:
        gov.create_user(user, f"{user}@example.com")
        gov.grant_role(user, project, role)
        tokens[user] = gov.create_token(user).secret
    clients = {}
    for user, token in tokens.items():
        client = asgi_client(app)
        client.headers["Authorization"] = f"Bearer {token}"
        clients[user] = client
    yield clients


def test_another_projects_contributor_and_a_viewer_cannot_change_a_projects_models(
    secured: dict[str, httpx.Client], tmp_path: Path
) -> None:
    alice, mallory, victor = secured["alice"], secured["mallory"], secured["victor"]
    tag = [{"key": "steward.project", "value": "wine"}]
    assert alice.post(f"{MLFLOW}/experiments/create", json={"name": "wine-runs", "tags": tag}).status_code == 200
    assert alice.post(f"{MLFLOW}/registered-models/create", json={"name": "WineModel", "tags": tag}).status_code == 200
    mlflow_folder(tmp_path / "saved")
    experiment_id, run_id = _run(alice, "wine-runs")
    _upload(alice, experiment_id, run_id, tmp_path / "saved")
    source = f"runs:/{run_id}/model"
    assert alice.post(f"{MLFLOW}/model-versions/create", json={"name": "WineModel", "source": source}).status_code == 200

    # mallory contributes to "other": her own model may not take wine's run files ...
    assert mallory.post(f"{MLFLOW}/registered-models/create", json={"name": "Stolen", "tags": [{"key": "steward.project", "value": "other"}]}).status_code == 200
    stolen = mallory.post(f"{MLFLOW}/model-versions/create", json={"name": "Stolen", "source": source})
    assert stolen.status_code == 403 and stolen.json()["error_code"] == "PERMISSION_DENIED"
    smuggled = mallory.post(
        f"{MLFLOW}/model-versions/create", json={"name": "Stolen", "source": f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts/model"}
    )
    assert smuggled.status_code == 403
    # ... nor register into, tag, alias, stage or delete wine's model, nor read it
    denied = [
        mallory.post(f"{MLFLOW}/model-versions/create", json={"name": "WineModel", "source": source}),
        mallory.post(f"{MLFLOW}/registered-models/set-tag", json={"name": "WineModel", "key": "k", "value": "v"}),
        mallory.post(f"{MLFLOW}/registered-models/alias", json={"name": "WineModel", "alias": "champion", "version": "1"}),
        mallory.post(f"{MLFLOW}/model-versions/transition-stage", json={"name": "WineModel", "version": "1", "stage": "Staging"}),
        mallory.request("DELETE", f"{MLFLOW}/model-versions/delete", json={"name": "WineModel", "version": "1"}),
        mallory.request("DELETE", f"{MLFLOW}/registered-models/delete", json={"name": "WineModel"}),
        mallory.get(f"{MLFLOW}/registered-models/get", params={"name": "WineModel"}),
        mallory.get(f"{MLFLOW}/model-versions/get-download-uri", params={"name": "WineModel", "version": "1"}),
    ]
    assert [r.status_code for r in denied] == [403] * len(denied), [r.text for r in denied]
    assert mallory.get(f"{MLFLOW}/registered-models/search").json()["registered_models"][0]["name"] == "Stolen"
    assert mallory.get(f"{MLFLOW}/model-versions/search").json() == {"model_versions": []}

    # victor views wine: he reads, he never writes
    assert victor.get(f"{MLFLOW}/registered-models/get", params={"name": "WineModel"}).status_code == 200
    assert [m["name"] for m in victor.get(f"{MLFLOW}/registered-models/search").json()["registered_models"]] == ["WineModel"]
    writes = [
        victor.post(f"{MLFLOW}/model-versions/create", json={"name": "WineModel", "source": source}),
        victor.patch(f"{MLFLOW}/registered-models/update", json={"name": "WineModel", "description": "x"}),
        victor.post(f"{MLFLOW}/model-versions/set-tag", json={"name": "WineModel", "version": "1", "key": "k", "value": "v"}),
        victor.request("DELETE", f"{MLFLOW}/registered-models/delete", json={"name": "WineModel"}),
        victor.post(f"{MLFLOW}/registered-models/alias", json={"name": "WineModel", "alias": "champion", "version": "1"}),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    # a contributor registers and tags, but moving stages and aliases is a deployer's
    assert alice.post(f"{MLFLOW}/model-versions/set-tag", json={"name": "WineModel", "version": "1", "key": "k", "value": "v"}).json() == {}
    assert alice.post(f"{MLFLOW}/registered-models/alias", json={"name": "WineModel", "alias": "champion", "version": "1"}).status_code == 403
    root = secured["root"]
    assert root.post(f"{MLFLOW}/registered-models/alias", json={"name": "WineModel", "alias": "champion", "version": "1"}).json() == {}
    events = root.get("/api/v1/audit", params={"max_results": 10000}).json()["entries"]
    by_action = {(e["action"], e["actor"]) for e in events}
    assert {("models.create", "alice"), ("models.create_version", "alice"), ("models.set_version_tag", "alice"), ("models.set_alias", "root")} <= by_action
