"""``python -m steward`` runs the CLI."""

from __future__ import annotations

from steward.cli import main

main()
