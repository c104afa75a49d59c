"""Progress bars for the demo's long phases (training, traffic, rollouts, the retraining).

Bars advance on real work only: an epoch or a boosting stage fitted, a request answered, a
rollout step reached. They are drawn on a terminal and silent otherwise (a pipe, a log file,
the tests that read the narration): rich draws nothing live off a terminal, and a bar left
after the fact would only repeat the narration's own lines, so off a terminal they are off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

__all__ = ["bars", "counting"]


class _Count(ProgressColumn):
    """``12/30 epochs``; ``412 requests`` when the total is open; nothing for a bare wait."""

    def render(self, task: Task) -> Text:
        unit = str(task.fields.get("unit", ""))
        done = f"{int(task.completed)}" if task.total is None else f"{int(task.completed)}/{int(task.total)}"
        return Text(f"{done} {unit}" if unit else ("" if task.total is None else done), style="progress.download")


def bars(console: Console, *, transient: bool = True) -> Progress:
    """A :class:`~rich.progress.Progress` on ``console`` (prints on it go above the bars), disabled off a terminal.

    ``transient``: the bars vanish when the block ends (the narration says what happened);
    ``False`` leaves them finished on screen as a record.
    """
    return Progress(
        SpinnerColumn(finished_text="[green]✓[/green]"),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        _Count(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal or console.is_dumb_terminal,
    )


@contextmanager
def counting(console: Console, description: str, total: int | None, *, unit: str = "requests") -> Iterator[Callable[[], None]]:
    """One transient bar for the block; the callable it yields counts one unit done (thread-safe)."""
    with bars(console) as progress:
        task = progress.add_task(description, total=total, unit=unit)
        yield lambda: progress.advance(task)
