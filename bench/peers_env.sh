#!/usr/bin/env bash
# Build bench/.venv-peers: the peer libraries (Great Expectations 1.x, pandera on polars,
# BentoML for bench/serving.py) live in a venv of their own so they never pin Steward's dependencies.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$here/.venv-peers/bin/python" ] && "$here/.venv-peers/bin/python" -c "import great_expectations, pandera, bentoml, sklearn" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$here/.venv-peers"
"$here/.venv-peers/bin/pip" install --quiet --upgrade pip
"$here/.venv-peers/bin/pip" install --quiet "great-expectations>=1,<2" "pandera[polars]" polars pandas pyarrow psutil "bentoml>=1.4,<2" scikit-learn
echo "peers venv ready: $here/.venv-peers"
