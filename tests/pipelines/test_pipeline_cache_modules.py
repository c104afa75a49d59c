"""The cache key follows the user's code through modules and classes: a helper in a separate
``helpers.py`` called as ``helpers.clean(x)``, edited, re-runs the step that calls it; an edit
elsewhere in that file re-runs nothing; an edited method of a user class (or of the class of
an instance the step uses) re-runs the step using it. The key is the same in every process, and modules that import each other end.

On SQLite only: what is tested is the key, not the store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward import Client, Settings
from steward.pipelines import code_hash, load_pipeline, run_pipeline

HELPERS = '''
def clean(v):
    return v + 1

def unrelated():
    return "not called by any step"

class Scaler:
    def __init__(self, c):
        self.c = c

    def apply(self, rows):
        return [self._one(r) for r in rows]

    def _one(self, r):
        return r * self.c
'''

PIPELINE = '''
import steward

import helpers

@steward.step
def prepare(n: int):
    return [helpers.clean(v) for v in range(n)]

@steward.step
def train(rows, c: float):
    return sum(helpers.Scaler(c).apply(rows))

@steward.pipeline
def modular(n: int = 3, c: float = 2.0):
    return train(prepare(n), c)
'''


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    c = Client(
        Settings(
            home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'steward.db'}", artifact_root=str(tmp_path / "artifacts"),
            user="tester", capture_git=False, capture_packages=False, auth="off",
        )
    )
    yield c
    c.close()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with train.py and helpers.py; each load imports helpers afresh, as a new
    ``steward pipeline run`` process would (no stale bytecode of an edit in the same second)."""
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "helpers.py").write_text(textwrap.dedent(HELPERS))
    (folder / "train.py").write_text(textwrap.dedent(PIPELINE))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.delitem(sys.modules, "helpers", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_pipeline puts the folder first
    return folder


def _run(client: Client, folder: Path) -> dict[str, str]:
    sys.modules.pop("helpers", None)
    result = run_pipeline(load_pipeline(folder / "train.py"), client, {"n": 3, "c": 2.0})
    return {s.name: s.status for s in result.steps}


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "helpers.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_an_edited_module_helper_or_method_reruns_its_step_and_an_unrelated_edit_does_not(
    client: Client, project: Path
) -> None:
    assert _run(client, project) == {"prepare": "ran", "train": "ran"}
    assert _run(client, project) == {"prepare": "cached", "train": "cached"}
    # a function of helpers.py no step calls: nothing re-runs
    _edit(project, '"not called by any step"', '"still not called by any step"')
    assert _run(client, project) == {"prepare": "cached", "train": "cached"}
    # the helper prepare calls as helpers.clean: prepare re-runs (and train, its input changed)
    _edit(project, "return v + 1", "return v + 10")
    assert _run(client, project) == {"prepare": "ran", "train": "ran"}
    # a method of the user's class train uses (reached through another method): only train re-runs
    _edit(project, "return r * self.c", "return r * self.c * 3")
    assert _run(client, project) == {"prepare": "cached", "train": "ran"}


KEY_SCRIPT = '''
import sys
sys.path.insert(0, sys.argv[1])
from steward.pipelines import code_hash, load_pipeline
pipe = load_pipeline(sys.argv[1] + "/train.py")
import importlib
train = importlib.import_module(pipe.fn.__module__).train
print(code_hash(train))
'''


def test_the_key_is_the_same_in_every_process_and_modules_importing_each_other_end(project: Path) -> None:
    # a cycle: helpers imports itself through another module of the user's, which imports helpers
    (project / "other.py").write_text("import helpers\n\ndef back():\n    return helpers.clean(1)\n")
    _edit(project, "def unrelated():", "import other\n\ndef unrelated():")
    _edit(project, "return r * self.c", "return r * self.c + other.back() * 0")
    keys = {
        subprocess.run(
            [sys.executable, "-c", KEY_SCRIPT, str(project)], capture_output=True, text=True, check=True, timeout=60,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(keys) == 1 and len(next(iter(keys))) == 64
    # the module reached through the class's method counts: editing other.back changes the key
    sys.modules.pop("helpers", None)
    sys.modules.pop("other", None)
    before = code_hash(_train(project))
    (project / "other.py").write_text("import helpers\n\ndef back():\n    return helpers.clean(2)\n")
    sys.modules.pop("helpers", None)
    sys.modules.pop("other", None)
    assert code_hash(_train(project)) != before
    sys.modules.pop("other", None)


def test_an_instance_of_a_user_class_held_in_a_module_counts_by_its_class(project: Path) -> None:
    (project / "train.py").write_text(
        textwrap.dedent(PIPELINE).replace("helpers.Scaler(c).apply(rows)", "helpers.SCALER.apply(rows) * c")
    )
    (project / "helpers.py").write_text(textwrap.dedent(HELPERS) + "\nSCALER = Scaler(2)\n")
    sys.modules.pop("helpers", None)
    before = code_hash(_train(project))
    _edit(project, "return r * self.c", "return r * self.c * 3")
    sys.modules.pop("helpers", None)
    assert code_hash(_train(project)) != before


def _train(folder: Path) -> object:
    pipe = load_pipeline(folder / "train.py")
    return vars(sys.modules[pipe.fn.__module__])["train"]
