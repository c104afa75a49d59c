"""The subprocess of an isolated step (``python -m steward.pipelines._child IN OUT``): set
``sys.path`` as the parent's, unpickle the call, run it, write ``("ok", output)`` or
``("error", ("Type: message", traceback))`` to OUT. Not imported by the package, so ``-m`` runs it afresh."""

from __future__ import annotations

import pickle
import sys
import traceback
from pathlib import Path


def _child(request: Path, response: Path) -> int:
    import cloudpickle  # type: ignore[import-untyped]

    path = pickle.loads((request.parent / "path.pkl").read_bytes())  # written by our parent just now
    sys.path[:] = [p for p in path if p] + [p for p in sys.path if p not in path]
    fn, args, kwargs = cloudpickle.loads(request.read_bytes())
    try:
        output = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the step's own error, whatever it is
        # the traceback goes back to be stored with the step's run, not onto the terminal
        response.write_bytes(pickle.dumps(("error", (f"{type(exc).__name__}: {exc}", traceback.format_exc())), protocol=5))
        return 1
    try:
        data = cloudpickle.dumps(("ok", output), protocol=5)
    except Exception as exc:  # noqa: BLE001 - an output cloudpickle cannot take
        response.write_bytes(pickle.dumps(("error", (f"UnpicklableOutput: {type(exc).__name__}: {exc}", None)), protocol=5))
        return 1
    response.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(Path(sys.argv[1]), Path(sys.argv[2])))
