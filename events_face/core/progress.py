"""The live progress display of a long command in a terminal (`sync_events`, `cleanup_events`).

One rich `Progress` with one task, written to the command's own output and gone
when the block ends (`transient`), so the summary line the command prints after
it is all a terminal keeps. Each command says what it shows (`columns`, the
task's fields); the callback updates them. rich is imported here, on first use:
a command run without a terminal never loads it.
"""

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def progress_display(
    stream, columns: Sequence, *, total: float | None = None, **fields: object
) -> Iterator[Callable[..., None]]:
    """Show `columns` on `stream` (stdout when None) for the block; yields `update(advance=..., **fields)`."""
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(*columns, console=Console(file=stream or sys.stdout), transient=True)
    task = progress.add_task("", total=total, **fields)
    with progress:
        yield lambda **changes: progress.update(task, **changes)
