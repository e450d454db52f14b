"""Keeping secrets out of every output.

The secret access key, the session token, the external id and any credentials that come back from STS
must never reach stdout, stderr or a file, not even with ``debug: true`` and botocore's debug logging on
(which prints request headers, ``X-Amz-Security-Token`` included). Rather than trusting every log call,
the dispatcher wraps stdout and stderr in :class:`RedactingStream`, and whoever learns a secret registers it
with :func:`register`; every write then has each registered value replaced by ``***``.
"""

from __future__ import annotations

import io
from typing import TextIO

MASK = "***"
_secrets: set[str] = set()


def register(*values: str | None) -> None:
    """Redact these values from everything written from now on (short values are ignored: too common)."""
    for value in values:
        if value and len(value) >= 4:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for value in sorted(_secrets, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingStream(io.TextIOBase):
    """A text stream that redacts registered secrets before writing to the stream it wraps."""

    def __init__(self, wrapped: TextIO) -> None:
        super().__init__()
        self.wrapped = wrapped

    def write(self, text: str) -> int:
        self.wrapped.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.wrapped.flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.wrapped, "encoding", "utf-8")
