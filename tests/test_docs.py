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
