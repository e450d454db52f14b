"""Timing child processes: wall time, CPU time and peak RSS of each run, and medians over runs.

Peak RSS comes from ``os.wait4``'s rusage (``ru_maxrss``, KiB on Linux) of the child itself: the .pyz's
shebang (``/usr/bin/env -S python3 ...``) execs the interpreter in the same process, so that is Python's
peak.

A trap: ``os.wait4`` builds its result with the standard library's ``resource.struct_rusage``, which it
imports by name on first use, and the repository's ``resource/`` directory shadows that module whenever the
repository root is on ``sys.path`` (``python -m tests.bench`` puts it there). :func:`_stdlib_rusage` makes
sure the standard library's module is the one loaded, before the first ``os.wait4``.
"""

from __future__ import annotations

import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


def _stdlib_rusage() -> None:
    """Load the standard library's ``resource`` (for ``os.wait4``) with no shadowing directory on sys.path."""
    loaded = sys.modules.get("resource")
    if loaded is not None and hasattr(loaded, "struct_rusage"):
        return
    sys.modules.pop("resource", None)
    saved = list(sys.path)
    sys.path[:] = [
        entry
        for entry in saved
        if not (os.path.isfile(os.path.join(entry or ".", "resource", "__init__.py")) or
                os.path.isfile(os.path.join(entry or ".", "resource.py")))
    ]  # fmt: skip
    try:
        module = importlib.import_module("resource")
    finally:
        sys.path[:] = saved
    if not hasattr(module, "struct_rusage"):
        raise RuntimeError(f"the standard library's resource module is shadowed by {module.__file__}")


class RunFailed(RuntimeError):
    """A measured command exited with a non-zero status."""


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    max_rss: int  # bytes
    stdout: str


@dataclass
class Samples:
    runs: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(sample.wall for sample in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(sample.cpu for sample in self.runs)

    @property
    def max_rss(self) -> int:
        return max(sample.max_rss for sample in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        walls = [sample.wall for sample in self.runs]
        return min(walls), max(walls)


def run_once(
    command: Sequence[str], stdin: bytes, env: Mapping[str, str] | None = None, timeout: float = 120
) -> Sample:
    """Run ``command`` with ``stdin``; its wall time, CPU time, peak RSS and stdout (stderr is kept for errors)."""
    _stdlib_rusage()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as given:
        given.write(stdin)
        given.seek(0)
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=given, stdout=out, stderr=err, env=dict(env) if env else None)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        if process.returncode != 0:
            message = err.read().decode(errors="replace")[-2000:]
            raise RunFailed(f"{' '.join(command[:4])} ... exited with {process.returncode}:\n{message}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, stdout)


def measure(
    commands: Mapping[str, Sequence[str]],
    stdin: bytes,
    runs: int,
    env: Mapping[str, str] | None = None,
    warmup: int = 1,
    timeout: float = 120,
) -> dict[str, Samples]:
    """Run each command ``warmup + runs`` times, interleaved (A B A B ...: a load spike hits both alike)."""
    results = {name: Samples() for name in commands}
    for index in range(warmup + runs):
        for name, command in commands.items():
            sample = run_once(command, stdin, env, timeout)
            if index >= warmup:
                results[name].runs.append(sample)
    return results
