"""How a long-running command (`sync_events`, `cleanup_events`) is asked to stop.

Inside `stop_on_signals(stop)`, the first SIGTERM or SIGINT only sets `stop`, so
the command finishes the unit of work in hand (a page, a batch) and exits
cleanly; a second one acts as usual. Outside the main thread (a command called
from a test's thread) signals cannot be handled, and nothing changes.
"""

import signal
import threading
from contextlib import contextmanager


@contextmanager
def stop_on_signals(stop: threading.Event):
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}

    def request_stop(signum, frame) -> None:
        stop.set()
        signal.signal(signum, previous[signum])

    for signum in previous:
        signal.signal(signum, request_stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
