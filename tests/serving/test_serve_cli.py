"""``steward serve`` refuses bad invocations in one line, before any worker starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from serving_testing import store_env, store_settings
from typer.testing import CliRunner

from steward.cli._app import app


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        ([], 2, "model reference or --deployment"),
        (["fraud:1", "--deployment", "fraud-api"], 2, "not both"),
        (["fraud:1", "--server", "nginx"], 2, "uvicorn or granian"),
        (["fraud:1"], 3, "fraud"),
        (["--deployment", "nope"], 3, "nope"),
    ],
)
def test_bad_serve_invocations_exit_with_one_line(tmp_path: Path, args: list[str], code: int, words: str) -> None:
    result = CliRunner().invoke(app, ["serve", *args], env=store_env(store_settings(tmp_path)))
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and words in lines[0]
    assert "Traceback" not in result.output


def test_a_model_without_signature_is_refused_before_serving(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    from steward import Client

    settings = store_settings(tmp_path)
    client = Client(settings)
    with client.start_run("no-signature") as run:
        run.log_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), "bare", registered_model_name="bare")
    client.close()
    result = CliRunner().invoke(app, ["serve", "bare:1"], env=store_env(settings))
    assert result.exit_code == 2, result.output
    assert "has no signature" in result.output
