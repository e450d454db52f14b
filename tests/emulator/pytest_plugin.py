"""pytest fixtures for the emulator (register with ``pytest_plugins = ["tests.emulator.pytest_plugin"]``).

``emulator_server`` starts one emulator subprocess per test session (start-up imports moto and
botocore's SageMaker model, about a second); ``emulator`` hands each test the same client after a
``reset()``, so tests share the process but never each other's state. Under pytest-xdist each worker is a
session of its own: one emulator per worker, each on a port the system picked (port 0), so workers never
share one. AWS credentials are left alone: tests pass fake ones explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.client import EmulatorClient
from tests.emulator.fixture import run_emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorClient]:
    with run_emulator() as client:
        yield client


@pytest.fixture
def emulator(emulator_server: EmulatorClient) -> Iterator[EmulatorClient]:
    emulator_server.reset()
    yield emulator_server
