"""Fault injection and the request log.

Resilience tests need the failures real AWS produces now and then: throttling, 5xx, slow answers,
connections that die without an answer ("drop": before the request is handled) and answers that are lost
after the request took effect ("lose_response": what makes idempotency tokens necessary). Each injected
fault applies to the next ``count`` requests that match it (optionally one operation only), in the order
faults were added, and is then used up, so a test states exactly how many failures its retry logic must
absorb.

Every AWS request (faulted or not; control-API calls excepted) is counted by operation name, which is how
benchmarks measure the API calls a resource makes.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from tests.emulator.errors import ApiError, validation_error

FAULT_KINDS = ("throttle", "server_error", "latency", "drop", "lose_response")


@dataclass
class Fault:
    kind: str
    remaining: int
    operation: str | None = None
    latency_seconds: float = 0.0
    status_code: int = 503


class Faults:
    """Pending faults, consumed one matching request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(
        self,
        kind: str,
        *,
        count: int = 1,
        operation: str | None = None,
        latency_seconds: float = 0.0,
        status_code: int = 503,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise validation_error(f"Unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}.")
        if count < 1:
            raise validation_error("count must be at least 1.")
        if latency_seconds < 0:
            raise validation_error("latency_seconds must not be negative.")
        if kind == "server_error" and not 500 <= status_code <= 599:
            raise validation_error("status_code must be a 5xx status for server_error faults.")
        with self._lock:
            self._pending.append(Fault(kind, count, operation, latency_seconds, status_code))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault that applies to this request, if any (using up one of its ``count``)."""
        with self._lock:
            for fault in self._pending:
                if fault.operation in (None, operation):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._pending.remove(fault)
                    return fault
        return None


def fault_error(fault: Fault) -> ApiError:
    """The AWS error a throttle or server_error fault answers with."""
    if fault.kind == "throttle":
        return ApiError("ThrottlingException", "Rate exceeded", 400)
    if fault.status_code == 503:
        return ApiError("ServiceUnavailable", "Service is unavailable. Please try again later.", 503)
    return ApiError(
        "InternalFailure", "The request processing has failed because of an unknown error.", fault.status_code
    )


class RequestLog:
    """Calls per operation name since the last reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
