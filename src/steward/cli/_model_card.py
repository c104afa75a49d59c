"""``steward models card``: render a version's model card as Markdown and HTML, from the
embedded store or a server alike (the card document comes from the evaluation backend)."""

from __future__ import annotations

from pathlib import Path

import typer

from steward.errors import InvalidInputError

from ._evaluate import open_evaluation
from ._output import echo, print_json


def _pairs(values: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--set takes field=\"text\", got {item[:60]!r}", field="--set")
        fields[key.strip()] = value
    return fields


def register(models_app: typer.Typer) -> None:
    """Add ``card`` to ``steward models``."""

    @models_app.command("card")
    def card(
        ref: str = typer.Argument(..., help="The version: fraud:4, fraud@champion."),
        out: Path | None = typer.Option(None, "--out", help="Folder to write MODEL_CARD.md and model_card.html into."),  # noqa: B008 - typer idiom
        set_fields: list[str] = typer.Option([], "--set", help='Fill in a field: intended_use="...", limitations="..." (repeatable).'),  # noqa: B008
        as_json: bool = typer.Option(False, "--json", help="Print the card document as JSON."),
    ) -> None:
        """Render the model card (Markdown on stdout, or Markdown + self-contained HTML with --out)."""
        # imported here: the evaluation stage pulls in scikit-learn, which `steward --help` must not pay for
        from steward.evaluation import render_html, render_markdown

        fields = _pairs(set_fields)
        with open_evaluation() as service:
            if fields:
                service.set_card_fields(ref, fields)
            document = service.card(ref)
        if as_json:
            print_json(document)
            return
        markdown = render_markdown(document)
        if out is None:
            echo(markdown)
            return
        out.mkdir(parents=True, exist_ok=True)
        (out / "MODEL_CARD.md").write_text(markdown, encoding="utf-8")
        (out / "model_card.html").write_text(render_html(document), encoding="utf-8")
        echo(f"wrote {out / 'MODEL_CARD.md'} and {out / 'model_card.html'}")
