"""The one exception a user of the resource sees.

Everything that goes wrong because of the user's input or the user's AWS account (bad JSON, a wrong key,
a name where an ARN belongs, AccessDenied, an unreachable endpoint) becomes a :class:`ResourceError`: the
dispatcher prints its message as one paragraph on stderr and exits non-zero, without a traceback unless
``debug`` is on. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

# Set to anything but "" or "0", the same as ``debug: true`` in every source: tracebacks and botocore's log.
DEBUG_ENV = "SAGEMAKER_PIPELINE_RESOURCE_DEBUG"


class ResourceError(Exception):
    """A problem the user can fix: ``message`` says what is wrong, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message
