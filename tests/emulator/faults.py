"""Fault injection and the request log.

Resilience tests need the failures real AWS produces now and then: throttling, 5xx, slow answers,
connections that die without an answer ("drop": before the request is handled) and answers that are lost
after the request took effect ("lose_response": what makes idempotency tokens necessary). Each injected
fault applies to the next ``count`` requests that match it (optionally one operation only), in the order
faults were added, and is then used up, so a test states exactly how many failures its retry logic must
absorb. An outage (:class:`Outage`) is the time-based kind: every request fails for N seconds.

Every AWS request (faulted or not; control-API calls excepted) is counted by operation name, which is how
benchmarks measure the API calls a resource makes.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

from tests.emulator.errors import ApiError, validation_error

FAULT_KINDS = ("throttle", "server_error", "latency", "drop", "lose_response")
# Answers that cannot be read (JSON services only): the request is handled, then its answer is replaced by
# `null`, by a proxy's HTML page with status 200, or has the `fields` taken out wherever they occur.
ANSWER_KINDS = ("null", "html", "missing")
# Appended to every string of every JSON answer (errors too) while `hostile_strings` is on: a newline and a
# forged error line, ESC (colours), BEL, a C1 control, a bidi override.
HOSTILE = "\nerror: forged by AWS \x1b[31mred\x07\x85\u202eevil"


@dataclass
class AnswerFault:
    kind: str
    remaining: int
    operation: str | None = None
    fields: tuple[str, ...] = ("PipelineExecutionArn",)


@dataclass
class Fault:
    kind: str
    remaining: int
    operation: str | None = None
    latency_seconds: float = 0.0
    status_code: int = 503


OUTAGE_KINDS = ("throttle", "server_error", "drop")


class Outage:
    """A time-based fault: every AWS request (STS included) fails until ``until`` (time.monotonic), with the
    ``kinds`` taken in turn, request after request (e.g. throttle, 503, dropped connection, throttle...).

    Count-based faults cannot stage "AWS is down for 45 seconds" for a client whose retries and backoff
    decide how many requests it sends; this can.
    """

    def __init__(self, until: float, kinds: tuple[str, ...]) -> None:
        self.until = until
        self.kinds = kinds
        self._next = itertools.cycle(kinds)
        self._lock = threading.Lock()

    @classmethod
    def starting(cls, seconds: float, kinds: tuple[str, ...]) -> Outage:
        if seconds <= 0:
            raise validation_error("seconds must be positive.")
        if not kinds or any(kind not in OUTAGE_KINDS for kind in kinds):
            raise validation_error(f"Outage kinds are some of {', '.join(OUTAGE_KINDS)}, got {list(kinds)!r}.")
        return cls(time.monotonic() + seconds, tuple(kinds))

    def fault(self) -> Fault | None:
        """The failure for one request while the outage lasts; None once it is over."""
        if time.monotonic() >= self.until:
            return None
        with self._lock:
            kind = next(self._next)
        return Fault(kind, 1)


class Faults:
    """Pending faults, consumed one matching request at a time (and the credential faults, per access key)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self.credentials = CredentialFaults()
        self.outage: Outage | None = None
        self._answers: list[AnswerFault] = []
        self.hostile_strings = False
        self.hostile_errors_only = False  # with hostile_strings: only error answers (AWS's error messages)

    def add_answer(
        self, kind: str, *, count: int = 1, operation: str | None = None, fields: tuple[str, ...] = ()
    ) -> None:
        """The next ``count`` matching answers cannot be read (see :data:`ANSWER_KINDS`)."""
        if kind not in ANSWER_KINDS:
            raise validation_error(f"Unknown answer fault {kind!r}; expected one of {', '.join(ANSWER_KINDS)}.")
        if count < 1:
            raise validation_error("count must be at least 1.")
        with self._lock:
            self._answers.append(AnswerFault(kind, count, operation, fields or ("PipelineExecutionArn",)))

    def take_answer(self, operation: str) -> AnswerFault | None:
        """The answer fault for this request, if any (using up one of its ``count``)."""
        with self._lock:
            for fault in self._answers:
                if fault.operation in (None, operation):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._answers.remove(fault)
                    return fault
        return None

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
            self._answers.clear()
        self.credentials.clear()
        self.outage = None
        self.hostile_strings = self.hostile_errors_only = False

    def start_outage(self, seconds: float, kinds: tuple[str, ...]) -> None:
        """Every AWS request fails for the next ``seconds`` (see :class:`Outage`)."""
        self.outage = Outage.starting(seconds, kinds)

    def take(self, operation: str) -> Fault | None:
        """The fault that applies to this request, if any (using up one of its ``count``)."""
        outage = self.outage
        if outage is not None:
            fault = outage.fault()
            if fault is not None:
                return fault
            self.outage = None
        with self._lock:
            for fault in self._pending:
                if fault.operation in (None, operation):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._pending.remove(fault)
                    return fault
        return None


def _without(value: object, fields: tuple[str, ...]) -> object:
    if isinstance(value, dict):
        return {key: _without(item, fields) for key, item in value.items() if key not in fields}
    if isinstance(value, list):
        return [_without(item, fields) for item in value]
    return value


def _hostile(value: object) -> object:
    if isinstance(value, str):
        return value + HOSTILE
    if isinstance(value, dict):
        return {key: item if key == "__type" else _hostile(item) for key, item in value.items()}  # codes stay
    if isinstance(value, list):
        return [_hostile(item) for item in value]
    return value


HTML_PAGE = b"<html><head><title>Login</title></head><body><h1>Please sign in</h1></body></html>\n"


def rewrite_answer(body: bytes, fault: AnswerFault | None, hostile: bool) -> tuple[bytes, str | None]:
    """A JSON answer as a fault makes it: (new body, new content type or None to keep it)."""
    if fault is not None and fault.kind == "null":
        return b"null", None
    if fault is not None and fault.kind == "html":
        return HTML_PAGE, "text/html"
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return body, None
    if fault is not None:
        document = _without(document, fault.fields)
    if hostile:
        document = _hostile(document)
    return json.dumps(document).encode(), None


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


# Credential faults: kind -> (code on JSON services such as SageMaker, code on query services such as STS,
# HTTP status on JSON, on query, message). The codes and messages are the ones AWS answers with.
_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
CREDENTIAL_FAULTS: dict[str, tuple[str, str, int, int, str]] = {
    "access_denied": ("AccessDeniedException", "AccessDenied", 400, 403, ""),
    "expired_token": (
        "ExpiredTokenException", "ExpiredToken", 400, 400, "The security token included in the request is expired"
    ),
    "invalid_client_token_id": (
        "UnrecognizedClientException", "InvalidClientTokenId", 400, 403,
        "The security token included in the request is invalid.",
    ),
    "signature_mismatch": ("InvalidSignatureException", "SignatureDoesNotMatch", 400, 403, _SIGNATURE_MESSAGE),
}  # fmt: skip


@dataclass(frozen=True)
class CredentialFault:
    kind: str
    operation: str | None = None  # None: every operation


class CredentialFaults:
    """Faults tied to an access key, not a count: every request signed with that key meets them until cleared.

    Real credential failures are properties of the credentials (expired, unknown, wrong secret, no
    permission for one action), so they are keyed by the access key the request was signed with. That lets
    one test give the resource a bad key and the emulator's own admin calls a good one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, list[CredentialFault]] = {}

    def add(self, access_key: str, kind: str, operation: str | None = None) -> None:
        if kind not in CREDENTIAL_FAULTS:
            raise validation_error(
                f"Unknown credential fault {kind!r}; expected one of {', '.join(CREDENTIAL_FAULTS)}."
            )
        if not access_key:
            raise validation_error("access_key must not be empty.")
        with self._lock:
            self._by_key.setdefault(access_key, []).append(CredentialFault(kind, operation))

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()

    def error_for(self, access_key: str, operation: str, service: str, json_protocol: bool) -> ApiError | None:
        """The error a request signed with ``access_key`` meets, if any."""
        with self._lock:
            faults = list(self._by_key.get(access_key, ()))
        for fault in faults:
            if fault.operation not in (None, operation):
                continue
            json_code, query_code, json_status, query_status, message = CREDENTIAL_FAULTS[fault.kind]
            if fault.kind == "access_denied":
                action = f"{service or 'sagemaker'}:{operation}"
                message = (
                    f"User: arn:aws:iam::123456789012:user/emulator is not authorized to perform: {action} "
                    f"because no identity-based policy allows the {action} action"
                )
            if json_protocol:
                return ApiError(json_code, message, json_status)
            return ApiError(query_code, message, query_status)
        return None
