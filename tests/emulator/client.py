"""Typed client of the emulator's control API (standard library only: tests import it without moto).

Every method is one ``POST /_emulator/<action>`` with a JSON body. Datetimes are sent as epoch seconds
(a naive datetime is taken as UTC) and come back as timezone-aware UTC datetimes, comparable with the
ones boto3 returns.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any


class EmulatorError(RuntimeError):
    """The control API refused a request (unknown ARN, bad argument, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


class EmulatorClient:
    """Drives a running emulator: stage pipelines and executions, control their lifecycle, inject faults."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call_raw(action, {k: v for k, v in (payload or {}).items() if v is not None})

    def _call_raw(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """As :meth:`_call`, but None values are sent (as JSON null) rather than dropped."""
        data = json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{action}", data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                document = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read() or b"{}")
            except ValueError:
                detail = {}
            raise EmulatorError(
                str(detail.get("error", error.code)), str(detail.get("message", error.reason))
            ) from None
        return document if isinstance(document, dict) else {}

    def health(self) -> bool:
        """True when the server answers (used to wait for readiness)."""
        return bool(self._call("health").get("ok"))

    def reset(self) -> None:
        """Forget all pipelines, executions, faults, lifecycle defaults and the request log (moto's too)."""
        self._call("reset")

    def create_pipeline(
        self,
        name: str,
        *,
        region: str = "us-east-1",
        account: str = "123456789012",
        steps: list[dict[str, Any]] | None = None,
        parameters: dict[str, str] | None = None,
    ) -> str:
        """Create a pipeline (its definition lists ``steps`` and ``parameters`` defaults); returns its ARN."""
        payload = {"name": name, "region": region, "account": account, "steps": steps, "parameters": parameters}
        return str(self._call("create_pipeline", payload)["arn"])

    def seed_executions(
        self,
        pipeline_arn: str,
        count: int,
        *,
        status: str = "Succeeded",
        statuses: list[str] | None = None,
        start: datetime | None = None,
        interval_seconds: float = 60.0,
        created_by_user_profile: str | None = None,
    ) -> list[str]:
        """Add ``count`` historical executions, ``interval_seconds`` apart from ``start`` (default: so the
        newest is one interval ago); ``statuses`` is cycled and overrides ``status``. ARNs, oldest first."""
        payload = {
            "pipeline_arn": pipeline_arn,
            "count": count,
            "status": status,
            "statuses": statuses,
            "start": _epoch(start),
            "interval_seconds": interval_seconds,
            "created_by_user_profile": created_by_user_profile,
        }
        return [str(arn) for arn in self._call("seed_executions", payload)["arns"]]

    def start_execution(
        self,
        pipeline_arn: str,
        *,
        display_name: str | None = None,
        parameters: dict[str, str] | None = None,
        start_time: datetime | None = None,
        status: str = "Executing",
    ) -> str:
        """Stage an execution without AWS validation or lifecycle plan; returns its ARN."""
        payload = {
            "pipeline_arn": pipeline_arn,
            "display_name": display_name,
            "parameters": parameters,
            "start_time": _epoch(start_time),
            "status": status,
        }
        return str(self._call("start_execution", payload)["arn"])

    def finish(
        self,
        execution_arn: str,
        status: str = "Succeeded",
        *,
        failure_reason: str | None = None,
        at: datetime | None = None,
        failing_step: str | None = None,
    ) -> None:
        """Set an execution's status now (LastModifiedTime = ``at`` or now); cancels any pending plan.

        ``failing_step`` (for "Failed"): the step that failed; by default the one running at the time.
        """
        payload = {
            "arn": execution_arn,
            "status": status,
            "failure_reason": failure_reason,
            "at": _epoch(at),
            "failing_step": failing_step,
        }
        self._call("finish", payload)

    def set_strictness(self, **switches: Any) -> None:
        """Turn strictness switches on or off (tests/emulator/strict.py); unnamed ones go back to defaults.

        ``list_is_poll``, ``not_found_reads``, ``not_found_seconds``, ``token_mismatch`` ("reject" | "first"),
        ``token_ttl_seconds``, ``start_delay_seconds``, ``step_entries`` ("per_step" | "per_attempt").
        """
        self._call_raw("set_strictness", switches)

    def set_lifecycle(
        self,
        *,
        finish_after_polls: int | None = None,
        finish_after_seconds: float | None = None,
        final_status: str = "Succeeded",
        failure_reason: str | None = None,
        failing_step: str | None = None,
        stop_after_polls: int = 0,
    ) -> None:
        """How executions started through the AWS API behave from now on.

        With ``finish_after_polls=N`` the first N polls of an execution see it ``Executing`` and the next
        one sees ``final_status``; with ``finish_after_seconds`` it finishes that long after it started
        (whichever comes first when both are set); with neither it stays ``Executing``.
        StopPipelineExecution shows ``Stopping`` for ``stop_after_polls`` polls, then ``Stopped``.
        """
        payload = {
            "finish_after_polls": finish_after_polls,
            "finish_after_seconds": finish_after_seconds,
            "final_status": final_status,
            "failure_reason": failure_reason,
            "failing_step": failing_step,
            "stop_after_polls": stop_after_polls,
        }
        self._call("set_lifecycle", payload)

    def delete_execution(self, execution_arn: str) -> None:
        """Make an execution vanish, as AWS ages old executions out."""
        self._call("delete_execution", {"arn": execution_arn})

    def describe(self, execution_arn: str) -> dict[str, Any]:
        """The emulator's own view of an execution (not counted as a poll).

        Keys: arn, pipeline_arn, status, failure_reason, display_name, description, creation_time,
        start_time, last_modified_time (UTC datetimes), polls, attempts, pipeline_version_id,
        parameters (dict), steps ([{"name", "status"}]), pending_plan.
        """
        view = self._call("describe", {"arn": execution_arn})
        for key in ("creation_time", "start_time", "last_modified_time"):
            view[key] = datetime.fromtimestamp(view[key], tz=timezone.utc)
        return view

    def inject_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        operation: str | None = None,
        latency_seconds: float = 0.0,
        status_code: int = 503,
    ) -> None:
        """Make the next ``count`` matching AWS requests fail.

        ``kind``: "lose_response" (handle the request, then drop the connection: the client never hears that
        it took effect), "throttle" (400 ThrottlingException), "server_error" (``status_code``: 503
        ServiceUnavailable, other 5xx InternalFailure), "latency" (answer normally after
        ``latency_seconds``), "drop" (close the connection without answering). ``operation`` limits it
        to one operation name, e.g. "ListPipelineExecutions".
        """
        payload = {
            "kind": kind,
            "count": count,
            "operation": operation,
            "latency_seconds": latency_seconds,
            "status_code": status_code,
        }
        self._call("inject_fault", payload)

    def credential_fault(self, access_key: str, kind: str, *, operation: str | None = None) -> None:
        """From now on (until ``clear_faults``/``reset``), requests signed with ``access_key`` fail.

        ``kind``: "access_denied" (only ``operation`` if given: AccessDeniedException, STS AccessDenied),
        "expired_token" (ExpiredTokenException / ExpiredToken), "invalid_client_token_id"
        (UnrecognizedClientException / InvalidClientTokenId), "signature_mismatch" (InvalidSignatureException /
        SignatureDoesNotMatch). The first code is what JSON services such as SageMaker answer, the second STS's.
        """
        self._call("credential_fault", {"access_key": access_key, "kind": kind, "operation": operation})

    def inject_outage(self, seconds: float, *, kinds: tuple[str, ...] = ("server_error",)) -> None:
        """Make every AWS request fail for the next ``seconds`` (real time), whatever its operation.

        ``kinds`` are used in turn, request after request: "throttle" (400 ThrottlingException),
        "server_error" (503 ServiceUnavailable), "drop" (connection closed without an answer).
        ``clear_faults`` or ``reset`` end it early.
        """
        self._call("inject_outage", {"seconds": seconds, "kinds": list(kinds)})

    def set_permissions(self, actions: Iterable[str] | None) -> None:
        """Permission mode: from now on only these IAM actions are allowed (``sagemaker:StartPipelineExecution``,
        ``sts:AssumeRole``, ``iam:PassRole``; ``*`` wildcards, case-insensitive); every other AWS call answers
        AccessDenied as AWS does. None turns the mode off (as ``reset`` does). The control API is never checked.
        """
        self._call_raw("set_permissions", {"actions": None if actions is None else list(actions)})

    def answer_fault(
        self, kind: str, *, count: int = 1, operation: str | None = None, fields: tuple[str, ...] = ()
    ) -> None:
        """The next ``count`` matching SageMaker answers cannot be read: "null" (a body of ``null``), "html"
        (a proxy's HTML page with status 200), "missing" (``fields``, default PipelineExecutionArn, taken out
        wherever they occur). The request itself is handled as usual."""
        self._call("answer_fault", {"kind": kind, "count": count, "operation": operation, "fields": list(fields)})

    def hostile_strings(self, on: bool = True, *, errors_only: bool = False) -> None:
        """While on (until ``clear_faults``/``reset``), every string of every SageMaker answer, errors included
        (``errors_only``: errors only), ends with a newline, a forged ``error:`` line, ESC, BEL, a C1 control
        and a bidi override."""
        self._call("hostile_strings", {"on": on, "errors_only": errors_only})

    def clear_faults(self) -> None:
        """Drop pending faults and credential faults."""
        self._call("clear_faults")

    def request_counts(self) -> dict[str, int]:
        """AWS calls received per operation name (e.g. "ListPipelineExecutions") since the last clear."""
        return {str(k): int(v) for k, v in self._call("request_counts")["counts"].items()}

    def clear_requests(self) -> None:
        self._call("clear_requests")

    def issued_credentials(self) -> list[str]:
        """The secret access key and session token of every credential STS issued since the emulator started."""
        return [str(value) for value in self._call("issued_credentials")["values"]]
