#!/usr/bin/env bash
# Build bench/.venv-feast for bench/features.py: Feast 0.67 with its default local provider
# (file offline store, SQLite online store), in a venv of its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$here/.venv-feast/bin/python" ] && "$here/.venv-feast/bin/python" -c "import feast, pyarrow" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$here/.venv-feast"
"$here/.venv-feast/bin/pip" install --quiet --upgrade pip
"$here/.venv-feast/bin/pip" install --quiet "feast==0.67.0"
echo "feast venv ready: $here/.venv-feast"
