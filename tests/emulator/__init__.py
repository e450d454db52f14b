"""A local, faithful SageMaker Pipelines emulator built on moto (see README.md in this directory).

Importing this package stays cheap and dependency-free (no moto, no boto3): tests and the demo use
:class:`~tests.emulator.client.EmulatorClient` (re-exported here) and
:func:`tests.emulator.fixture.run_emulator`, while the server runs in its own process
(``python -m tests.emulator``).
"""

from tests.emulator.client import EmulatorClient, EmulatorError

__all__ = ["EmulatorClient", "EmulatorError"]
