#!/usr/bin/env bash
# Build bench/.venv-evidently for bench/drift.py: Evidently 0.7 needs pandas < 3, which the
# peers venv (pandas 3 for pandera/Great Expectations) cannot hold, so it lives alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -x "$here/.venv-evidently/bin/python" ] && "$here/.venv-evidently/bin/python" -c "import evidently, pyarrow, psutil" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$here/.venv-evidently"
"$here/.venv-evidently/bin/pip" install --quiet --upgrade pip
"$here/.venv-evidently/bin/pip" install --quiet "evidently==0.7.23" "pandas<3" pyarrow psutil
echo "evidently venv ready: $here/.venv-evidently"
