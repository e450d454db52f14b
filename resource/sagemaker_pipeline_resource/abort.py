"""An aborted build: Concourse interrupts the step's process (SIGTERM, or SIGINT from a terminal).

Python's default for SIGTERM is to die on the spot, silently, leaving a running execution (and its instance
costs) behind. While a step waits, the signals that ask a process to end instead raise :class:`Aborted` in
the main thread, so that ``put`` can say so and stop the execution it started, and the process exits 128 +
the signal's number (143 for SIGTERM, 130 for SIGINT, 129 for SIGHUP, 131 for SIGQUIT), as a shell would
report it. Which signal Concourse sends, and how long it waits before SIGKILL, is unverified, so all four
are handled the same way: SIGHUP (the terminal or parent went away) and SIGQUIT (a terminal's Ctrl-\\, or a
runtime's stop signal) both mean "stop now", and dying on them by default would leave the execution running,
the one outcome an abort must not have. SIGQUIT's core dump is given up: a resource has no use for one.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


class Aborted(BaseException):
    """Raised by the signal handler; a BaseException so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Aborted(signum)


def _note(signum: int, frame: FrameType | None) -> None:
    print(f"{signal.Signals(signum).name} again: still stopping the execution, then exiting", file=sys.stderr)


@contextlib.contextmanager
def _handlers(handler: signal.Handlers | object) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only delivered to the main thread (tests may call from others)
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, handler)  # type: ignore[arg-type]
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def trap() -> contextlib.AbstractContextManager[None]:
    """Within this block, SIGTERM, SIGINT, SIGHUP and SIGQUIT raise :class:`Aborted`."""
    return _handlers(_raise)


def deferred() -> contextlib.AbstractContextManager[None]:
    """Within this block (cleaning up after an abort), another of those signals is noted, not obeyed."""
    return _handlers(_note)
