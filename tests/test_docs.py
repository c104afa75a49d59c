"""Documentation stays true: every setting is documented, README starts with the two commands."""

from __future__ import annotations

from pathlib import Path

from steward.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_in_the_configuration_page() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"STEWARD_{name.upper()}" not in page]
    assert missing == []


def test_every_setting_has_a_description() -> None:
    assert [name for name, f in Settings.model_fields.items() if not f.description] == []


def test_the_readme_starts_with_make_demo_and_make_test() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block


def test_every_cli_command_is_in_the_cli_reference() -> None:
    import re

    from typer.testing import CliRunner

    from steward.cli import app

    runner = CliRunner()
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    nouns = ["db", "config", "experiments", "runs", "audit", "models", "data", "users", "roles", "tokens",
             "secrets", "deploy", "labels", "predictions", "monitor", "alerts", "features", "webhooks", "ci"]
    missing = []
    for noun in nouns:
        out = runner.invoke(app, [noun, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).output
        # a command's row starts one space inside the box; wrapped help lines are indented further
        verbs = re.findall(r"^[│|] ([a-z][a-z0-9-]*) ", out.split("Commands")[-1], flags=re.MULTILINE)
        assert verbs, noun
        missing += [f"steward {noun} {v}" for v in verbs if f"`steward {noun} {v}`" not in reference]
    assert missing == []
