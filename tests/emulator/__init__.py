"""A local, faithful SageMaker Pipelines emulator built on moto (see README.md in this directory).

Importing this package stays cheap and dependency-free (no moto, no boto3): tests and the demo import
:class:`~tests.emulator.client.EmulatorClient` and :func:`~tests.emulator.fixture.run_emulator` from here,
and the server runs in its own process (``python -m tests.emulator``).
"""

from tests.emulator.client import EmulatorClient, EmulatorError

__all__ = ["EmulatorClient", "EmulatorError"]
