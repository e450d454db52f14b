"""Which AWS failures may pass on their own, so that a long wait rides them out instead of failing the build.

A wait may run for hours; in that time AWS throttles, answers 5xx, drops connections and times out now and
then, for longer than botocore's own retries of one call last (``source.max_attempts``, seconds). The
waiter polls again through such failures (within ``params.outage_budget``); anything else (access denied,
not found, validation) is permanent and fails at once. The classification is botocore's own, the checkers
its ``standard`` retry mode applies to each call (``StandardRetryConditions``: throttling codes, 429,
500/502/503/504, connection errors and timeouts), with two changes: a TLS failure is permanent (botocore
counts ``SSLError`` as a connection error, but a certificate that does not verify will not start to), and
expired credentials are transient when they refresh (an assumed role: the next call signs with a new
session).
"""

from __future__ import annotations

from collections.abc import Iterator

from botocore import exceptions as bex
from botocore.retries import standard
from botocore.retries.standard import (
    OrRetryChecker,
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)

EXPIRED_CREDENTIALS = frozenset({"ExpiredToken", "ExpiredTokenException"})
# The kind-of-failure half of botocore's StandardRetryConditions (its other half counts attempts; its
# service-specific checkers need the operation's model and concern other services).
_CONDITIONS = OrRetryChecker(
    [
        TransientRetryableChecker(),
        ThrottledRetryableChecker(),
        standard.ThrottlingStatusCodeChecker(),  # type: ignore[attr-defined,unused-ignore]  # newer than the stubs
    ]
)


class _HttpStatus:
    """The part of an HTTP response botocore's retry checkers read."""

    def __init__(self, status_code: int | None) -> None:
        self.status_code = status_code


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and its causes: a failure while refreshing credentials reaches us wrapped in a ResourceError."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_transient(error: BaseException, *, refreshable: bool = False) -> bool:
    """True when polling again later may succeed; ``refreshable``: the credentials renew themselves."""
    for link in _chain(error):
        if isinstance(link, bex.ClientError):
            code = link.response.get("Error", {}).get("Code")
            if code in EXPIRED_CREDENTIALS:
                return refreshable
            status = link.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            context = RetryContext(1, parsed_response=link.response, http_response=_HttpStatus(status))
            return bool(_CONDITIONS.is_retryable(context))
        if isinstance(link, bex.SSLError):
            return False
        if isinstance(link, bex.BotoCoreError):
            return bool(_CONDITIONS.is_retryable(RetryContext(1, caught_exception=link)))
    return False


def summary(error: BaseException) -> str:
    """A short name for the failure, for the one log line an outage gets."""
    for link in _chain(error):
        if isinstance(link, bex.ClientError):
            info = link.response.get("Error", {})
            return f"{info.get('Code', 'error')}: {str(info.get('Message', '')).strip() or 'no message'}"
        if isinstance(link, bex.BotoCoreError):
            return f"{type(link).__name__}: {link}"
    return f"{type(error).__name__}: {error}"
