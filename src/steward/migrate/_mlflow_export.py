"""Export an MLflow tracking store to a folder Steward can import.

A standalone script: it imports only ``mlflow`` and the standard library, and runs with
the python of an environment that has MLflow (never Steward's own)::

    /path/to/mlflow-venv/bin/python _mlflow_export.py TRACKING_URI OUT_DIR

``OUT_DIR/dump.jsonl`` holds one JSON document per line (``experiment``, ``run``,
``model``, ``model_version``); files go to ``OUT_DIR/runs/<run_id>/`` and
``OUT_DIR/model_versions/<n>/``. The last stdout line is a JSON summary.
"""

# mypy: ignore-errors
# (runs under another interpreter that has mlflow; Steward never imports it)

from __future__ import annotations

import json
import math
import os
import sys


def _value(v):
    # JSON has no NaN/inf; keep them as strings the importer turns back into floats
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def _pages(fetch):
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def main(uri, out):
    import mlflow
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mlflow.set_tracking_uri(uri)
    os.makedirs(out, exist_ok=True)
    counts = {"experiments": 0, "runs": 0, "models": 0, "model_versions": 0}
    with open(os.path.join(out, "dump.jsonl"), "w", encoding="utf-8") as dump:

        def write(doc):
            dump.write(json.dumps(doc, sort_keys=True) + "\n")

        for exp in _pages(lambda t: client.search_experiments(view_type=ViewType.ALL, max_results=1000, page_token=t)):
            counts["experiments"] += 1
            write({"type": "experiment", "experiment_id": exp.experiment_id, "name": exp.name, "tags": dict(exp.tags),
                   "lifecycle_stage": exp.lifecycle_stage, "creation_time": exp.creation_time})
            runs = _pages(lambda t, e=exp.experiment_id: client.search_runs([e], run_view_type=ViewType.ALL, max_results=1000, page_token=t))
            for run in sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id)):
                counts["runs"] += 1
                rid = run.info.run_id
                history = {}
                for key in run.data.metrics:
                    points = client.get_metric_history(rid, key)
                    history[key] = [[m.step, _value(m.value), m.timestamp] for m in points]
                files = []
                if client.list_artifacts(rid):
                    dest = os.path.join(out, "runs", rid)
                    os.makedirs(dest, exist_ok=True)
                    mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="", dst_path=dest)
                    for root, _dirs, names in os.walk(dest):
                        for name in names:
                            files.append(os.path.relpath(os.path.join(root, name), dest).replace(os.sep, "/"))
                write({"type": "run", "run_id": rid, "experiment_id": run.info.experiment_id, "run_name": run.info.run_name,
                       "status": run.info.status, "start_time": run.info.start_time, "end_time": run.info.end_time,
                       "user_id": run.info.user_id, "lifecycle_stage": run.info.lifecycle_stage,
                       "params": dict(run.data.params), "tags": dict(run.data.tags), "metrics": history, "files": sorted(files)})
        n = 0
        for model in _pages(lambda t: client.search_registered_models(max_results=1000, page_token=t)):
            counts["models"] += 1
            write({"type": "model", "name": model.name, "description": model.description or "", "tags": dict(model.tags),
                   "aliases": dict(model.aliases or {}), "creation_timestamp": model.creation_timestamp})
            versions = _pages(lambda t, m=model.name: client.search_model_versions(f"name='{m}'", max_results=1000, page_token=t))
            for mv in sorted(versions, key=lambda v: int(v.version)):
                counts["model_versions"] += 1
                n += 1
                folder = str(n)
                dest = os.path.join(out, "model_versions", folder)
                os.makedirs(dest, exist_ok=True)
                files = []
                try:
                    location = client.get_model_version_download_uri(mv.name, mv.version)
                    local = mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=dest)
                    # the files land in a subfolder named after the source (e.g. "artifacts")
                    folder = os.path.relpath(local, os.path.join(out, "model_versions")).replace(os.sep, "/")
                    for root, _dirs, names in os.walk(local):
                        for name in names:
                            files.append(os.path.relpath(os.path.join(root, name), local).replace(os.sep, "/"))
                    error = None
                except Exception as exc:  # noqa: BLE001 - a version whose files are gone still has metadata worth keeping
                    error = f"{type(exc).__name__}: {exc}"[:500]
                write({"type": "model_version", "name": mv.name, "version": int(mv.version), "run_id": mv.run_id,
                       "source": mv.source, "description": mv.description or "", "tags": dict(mv.tags),
                       "stage": mv.current_stage, "status": mv.status, "creation_timestamp": mv.creation_timestamp,
                       "folder": folder, "files": sorted(files), "download_error": error})
    print(json.dumps(counts))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: _mlflow_export.py TRACKING_URI OUT_DIR", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
