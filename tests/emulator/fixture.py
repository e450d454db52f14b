"""Run the emulator in a subprocess for the length of a ``with`` block.

A subprocess (not a thread) keeps moto's global state and import cost out of the test process, and it
is the same way the demo and the container tests reach the emulator: over HTTP only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.emulator.client import EmulatorClient

REPO_ROOT = Path(__file__).resolve().parents[2]
_READY_PREFIX = "emulator listening on "
STARTUP_TIMEOUT = 60.0


@contextmanager
def run_emulator(port: int = 0) -> Iterator[EmulatorClient]:
    """Start ``python -m tests.emulator --port PORT``, wait until it answers, yield a client, stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=None,  # server errors show up in the test output
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = _wait_for_url(process)
        client = EmulatorClient(url)
        _wait_until_healthy(client, process)
        yield client
    finally:
        _stop(process)


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(_READY_PREFIX):
                found.append(line[len(_READY_PREFIX) :].strip())
                break
        # keep draining so the server never blocks on a full pipe
        for _ in process.stdout:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not found:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with status {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"emulator did not start within {STARTUP_TIMEOUT:.0f} s")
        time.sleep(0.02)
    return found[0]


def _wait_until_healthy(client: EmulatorClient, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            if client.health():
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("emulator is not answering")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()
