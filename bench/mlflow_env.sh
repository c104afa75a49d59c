#!/usr/bin/env bash
# Create bench/.venv-mlflow with MLflow pinned, isolated from Steward's own deps.
# Idempotent: does nothing if the venv already has the pinned version.
# 3.17.2 is the newest 3.x that resolves: mlflow 3.18.0 is on PyPI but its
# mlflow-skinny==3.18.0 dependency is not (yet), so 3.18.0 cannot install.
set -euo pipefail

MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv-mlflow"
PY="$VENV/bin/python"

# One install at a time: .ci/run starts this in the background while mypy runs, and the
# tests' mlflow_python fixture runs it again (waiting here until the first one is done).
exec 9>"$HERE/.venv-mlflow.lock"
flock 9

if [ -x "$PY" ] && "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('mlflow') != '$MLFLOW_VERSION')" 2>/dev/null; then
    exit 0
fi

if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV"
fi
# Drop pip's warnings about absent local index folders some machines configure.
"$PY" -m pip install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION" \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
