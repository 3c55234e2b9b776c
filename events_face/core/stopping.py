"""How a long-running command (`worker`, `sync_events`, `cleanup_events`) is asked to stop.

Inside `stop_on_signals(stop)`, the first SIGTERM or SIGINT only sets `stop`, so
the command finishes the unit of work in hand (a page, a batch, the requests in
flight) and exits cleanly; a second one, of either kind, does what it did before
the block: SIGTERM ends the process at once, SIGINT raises KeyboardInterrupt.
Outside the main thread (a command called from a test's thread) signals cannot
be handled, and nothing changes.

The handler stays installed for the whole block and does the second signal's
work itself. Swapping handlers inside a handler, while the other signal is
already pending (Ctrl-C under `make run` used to bring the terminal's SIGINT,
then devstack's SIGTERM), made Python print "OSError: Signal 15 ignored due to
race condition".
"""

import logging
import signal
import threading
from contextlib import contextmanager

logger = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(stop: threading.Event, *, what: str = "the work in hand"):
    """`what` names the work in hand in the log line the first signal writes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}

    def request_stop(signum, frame) -> None:
        if not stop.is_set():
            logger.info("%s: finishing %s", signal.Signals(signum).name, what)
            stop.set()
        else:
            _as_before(previous[signum], signum, frame)

    for signum in previous:
        signal.signal(signum, request_stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _as_before(handler, signum: int, frame) -> None:
    """What `signum` did before the block: a Python handler runs; the default action is taken."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)
