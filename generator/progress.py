"""Progress bars for commands that work through many repos (`mlopsgen fleet ...`).

Drawn on stderr with `rich`, and only when stderr is a terminal: piped or redirected output,
CI logs and `--json` documents on stdout stay exactly as they are. The bar is transient (it is
gone when the command prints its table). Safe to advance from worker threads.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:  # rich is imported only when a bar is drawn
    from rich.progress import Progress, TaskID


class Tracker(Protocol):
    def advance(self, label: str = "") -> None:
        """One more item done; `label` names it (the repo)."""

    def extend(self, count: int) -> None:
        """`count` more items than announced (work found on the way)."""


class _Quiet:
    def advance(self, label: str = "") -> None:
        return None

    def extend(self, count: int) -> None:
        return None


class _Bar:
    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar = bar
        self._task = task

    def advance(self, label: str = "") -> None:
        self._bar.update(self._task, advance=1, item=label)

    def extend(self, count: int) -> None:
        total = self._bar.tasks[self._task].total or 0
        self._bar.update(self._task, total=total + count)


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real file
        return False


@contextlib.contextmanager
def progress(total: int, description: str, *, stream: TextIO | None = None) -> Iterator[Tracker]:
    """A bar of `total` items on `stream` (stderr) when it is a terminal, else nothing."""
    out = sys.stderr if stream is None else stream
    if not is_terminal(out):
        yield _Quiet()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[item]}", style="dim"))
    with RichProgress(*columns, console=Console(file=out), transient=True) as bar:
        task = bar.add_task(description, total=total, item="")
        yield _Bar(bar, task)
