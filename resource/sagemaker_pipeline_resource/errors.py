"""The one exception a user of the resource sees, and how values are shown in it.

Everything that goes wrong because of the user's input or the user's AWS account (bad JSON, a wrong key,
a name where an ARN belongs, AccessDenied, an unreachable endpoint) becomes a :class:`ResourceError`: the
dispatcher prints its message as one paragraph on stderr and exits non-zero, without a traceback unless
``debug`` is on. Anything else is a bug and keeps its traceback.

A message quotes what the user wrote, and what the user wrote can be anything: 100,000 characters, a
newline followed by a fake ``error:`` line, an ANSI escape that clears the build log, a lone surrogate
that cannot even be encoded. Text from AWS (answers, errors), from files and from the environment is as
hostile.

:func:`printable` is the one function every such text goes through on its way to stderr (error messages,
progress lines, warnings): it masks credentials (:func:`redact.redact`), escapes every control character,
masks again (a credential registered in an escaped form), and only then shortens, so that a credential cut
in two by the shortening is never half shown, and one message is one paragraph that says what it says and
no more. :func:`shown` quotes a value through it.
"""

from __future__ import annotations

from sagemaker_pipeline_resource import redact
from sagemaker_pipeline_resource.redact import escape

# Set to anything but "" or "0", the same as ``debug: true`` in every source: tracebacks and botocore's log.
DEBUG_ENV = "SAGEMAKER_PIPELINE_RESOURCE_DEBUG"

SHOWN_LENGTH = 80
MESSAGE_LENGTH = 2000


def printable(text: str, limit: int = MESSAGE_LENGTH) -> str:
    """Outside text made safe for stderr: credentials masked, control characters escaped, then (only then)
    cut in the middle to at most about ``limit`` characters."""
    text = redact.redact(escape(redact.redact(text)))
    if len(text) > limit:
        half = limit // 2
        text = f"{text[:half]} [... {len(text) - 2 * half} characters cut ...] {text[-half:]}"
    return text


def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """A value quoted for a message: ``'text'`` shortened and escaped, or its JSON type for anything else."""
    if isinstance(value, str):
        text = printable(value, limit=10**9)  # masked and escaped whole, before it is cut
        return f"'{text[:limit]}...'" if len(text) > limit else f"'{text}'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return text if len(text) <= limit else f"a {len(text)}-digit number"
    return f"a {type(value).__name__}"


class ResourceError(Exception):
    """A problem the user can fix: ``message`` says what is wrong, ``hint`` how to fix it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class UsageError(ResourceError):
    """The command line is wrong (a missing or extra argument): exit code 2, as for any usage error."""

    exit_code = 2
