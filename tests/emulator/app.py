"""The emulator's WSGI application: control API, request log and faults, our pipeline operations, then moto.

A request takes this path:

1. ``/_emulator/...`` goes to the control API (never logged or faulted).
2. Everything else is an AWS call: it is counted under its operation name (``X-Amz-Target`` for JSON
   services such as SageMaker, ``Action`` for query services such as STS) and may be hit by an injected
   fault.
3. SageMaker pipeline operations are answered by :mod:`tests.emulator.sagemaker_api`.
4. The rest is moto's server application, unchanged, except that an HTML error page moto produces for
   a JSON-protocol call (an operation it does not implement, a crash) is turned into an AWS JSON error,
   since botocore cannot parse HTML and reports a confusing bare "500".
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from moto.iam.models import get_account_id_from
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sts.models import sts_backends

from tests.emulator.control_api import PREFIX, ControlApi
from tests.emulator.credentials import IssuedCredentials
from tests.emulator.errors import ApiError
from tests.emulator.faults import Faults, RequestLog, fault_error, rewrite_answer
from tests.emulator.model import DEFAULT_ACCOUNT, DEFAULT_PAGE_SIZE, DEFAULT_REGION, partition_of
from tests.emulator.permissions import Call, Permissions, request_params
from tests.emulator.sagemaker_api import Caller, PipelinesApi
from tests.emulator.store import Store

StartResponse = Callable[..., Any]
_JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass(frozen=True)
class AwsRequest:
    """What the emulator needs to know about an incoming AWS call."""

    operation: str
    service: str  # SigV4 signing name, e.g. "sagemaker", "sts"
    json_protocol: bool
    target_prefix: str  # "SageMaker" for X-Amz-Target "SageMaker.ListPipelineExecutions"
    access_key: str
    region: str


def parse_request(environ: dict[str, Any], body: bytes) -> AwsRequest:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    access_key, region, service = "", DEFAULT_REGION, ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            access_key, region, service = scope[0], scope[2], scope[3]
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, operation = target.partition(".")
        return AwsRequest(operation or target, service, True, prefix, access_key, region)
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    operation = action[0] if action else f"{service or 'unknown'}:{environ.get('REQUEST_METHOD', 'GET')}"
    return AwsRequest(operation, service, False, "", access_key, region)


def account_for(environ: dict[str, Any], access_key: str) -> str:
    """The caller's account, decided as moto decides it, so STS AssumeRole into another account works."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    if not access_key:
        return DEFAULT_ACCOUNT
    return get_account_id_from(access_key)


class DropConnection(ConnectionAbortedError):
    """Raised after the socket is shut down; werkzeug treats it as a dropped connection and moves on."""


class EmulatorApp:
    """The whole emulator as one WSGI callable."""

    def __init__(self, *, default_page_size: int = DEFAULT_PAGE_SIZE) -> None:
        self.store = Store()
        self.pipelines = PipelinesApi(self.store, default_page_size=default_page_size)
        self.faults = Faults()
        self.requests = RequestLog()
        self.credentials = IssuedCredentials()
        self.permissions = Permissions()
        self.control = ControlApi(
            self.store,
            self.faults,
            self.requests,
            reset_moto,
            credentials=self.credentials,
            permissions=self.permissions,
        )
        self.moto = DomainDispatcherApplication(create_backend_app)

    def warm_up(self) -> None:
        """Build moto's per-service Flask apps now, so the first real call is not slowed by it."""
        for service in ("sts", "sagemaker", "iam", "s3"):
            self.moto.app_instances.setdefault(service, create_backend_app(service))
        self.pipelines.validator.operation("ListPipelineExecutions")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        body = _read_body(environ)
        if path.startswith(PREFIX):
            status, document = self.control.handle(path[len(PREFIX) :].strip("/"), body)
            return _respond(start_response, status, json.dumps(document).encode(), "application/json")
        request = parse_request(environ, body)
        self.requests.record(request.operation)
        answer = self.faults.take_answer(request.operation) if request.json_protocol else None
        if answer is None and not (self.faults.hostile_strings and request.json_protocol):
            return self._aws(environ, start_response, request, body)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = b"".join(self._aws(environ, capture, request, body))
        status, headers = captured["status"], captured["headers"]
        hostile = self.faults.hostile_strings and (not self.faults.hostile_errors_only or int(status[:3]) >= 300)
        chunks, content_type = rewrite_answer(chunks, answer, hostile)
        if answer is not None and answer.kind == "html":
            status = "200 OK"
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(chunks)))]
        if content_type is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"] + [("Content-Type", content_type)]
        start_response(status, headers)
        return [chunks]

    def _aws(
        self, environ: dict[str, Any], start_response: StartResponse, request: AwsRequest, body: bytes
    ) -> Iterable[bytes]:
        """An AWS call after the request log: credential faults, then faults, then the answer."""
        refused = self.faults.credentials.error_for(
            request.access_key, request.operation, request.service, request.json_protocol
        )
        if refused is not None:
            return _error(start_response, refused, request)
        refused = self._permission_error(environ, request, body)
        if refused is not None:
            return _error(start_response, refused, request, front_layer=True)
        fault = self.faults.take(request.operation)
        if fault is not None:
            if fault.latency_seconds:
                time.sleep(fault.latency_seconds)
            if fault.kind == "drop":
                _drop(environ)
            if fault.kind in ("throttle", "server_error"):
                return _error(start_response, fault_error(fault), request)
            if fault.kind == "lose_response":
                self._handle(environ, lambda *_args: lambda _data: None, request, body)
                _drop(environ)
        return self._handle(environ, start_response, request, body)

    def _permission_error(self, environ: dict[str, Any], request: AwsRequest, body: bytes) -> ApiError | None:
        """AccessDenied when the permission mode is on and the call needs an action it does not allow."""
        if self.permissions.allowed() is None:
            return None
        account = account_for(environ, request.access_key)
        call = Call(
            request.service,
            request.operation,
            request_params(body, request.json_protocol, environ.get("QUERY_STRING", "")),
            principal_of(account, request),
            account,
            request.region,
        )
        return self.permissions.error_for(call, request.json_protocol)

    def _handle(
        self, environ: dict[str, Any], start_response: StartResponse, request: AwsRequest, body: bytes
    ) -> Iterable[bytes]:
        if request.target_prefix == "SageMaker":
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                return _error(start_response, ApiError("SerializationException", "Malformed JSON body."), request)
            if isinstance(params, dict) and self.pipelines.handles(request.operation, params):
                return self._pipelines(start_response, request, params, environ)
        return self._moto(environ, start_response, request)

    def _pipelines(
        self, start_response: StartResponse, request: AwsRequest, params: dict[str, Any], environ: dict[str, Any]
    ) -> Iterable[bytes]:
        caller = Caller(account=account_for(environ, request.access_key), region=request.region)
        try:
            document = self.pipelines.call(request.operation, params, caller)
        except ApiError as error:
            return _error(start_response, error, request)
        except Exception:  # never an HTML page: log it and answer like AWS's internal failure
            traceback.print_exc(file=sys.stderr)
            failure = ApiError("InternalFailure", "The request processing has failed because of an unknown error.", 500)
            return _error(start_response, failure, request)
        return _respond(start_response, 200, json.dumps(document).encode(), _JSON_CONTENT_TYPE)

    def _moto(self, environ: dict[str, Any], start_response: StartResponse, request: AwsRequest) -> Iterable[bytes]:
        """Pass to moto; turn its crashes and HTML error pages into AWS errors in the request's protocol.

        moto's Flask apps run in debug mode, so an unimplemented operation raises straight through to
        the server, which would answer with an HTML page botocore cannot parse.
        """
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        try:
            result = self.moto(environ, capture)
            try:
                chunks = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except NotImplementedError:
            message = f"moto does not implement {request.target_prefix or request.service}.{request.operation}."
            return _error(start_response, ApiError("InternalFailure", message, 500), request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            failure = ApiError("InternalFailure", "The request processing has failed because of an unknown error.", 500)
            return _error(start_response, failure, request)
        status, headers = captured["status"], captured["headers"]
        if not request.json_protocol:
            self.credentials.record(chunks)  # STS answers in XML
            start_response(status, headers)
            return [chunks]
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
        if int(status.split()[0]) >= 500 and "html" in content_type:
            text = chunks.decode("utf-8", "replace")
            message = (
                f"moto does not implement {request.target_prefix}.{request.operation}."
                if "NotImplementedError" in text or "has not been implemented" in text
                else "The request processing has failed because of an unknown error."
            )
            return _error(start_response, ApiError("InternalFailure", message, 500), request)
        start_response(status, headers)
        return [chunks]


def principal_of(account: str, request: AwsRequest) -> str:
    """Who is asking, as moto's STS GetCallerIdentity names it: the assumed role's session, else a user (whom
    moto names ``arn:aws:sts::ACCOUNT:user/moto``; AWS names users in IAM's namespace)."""
    backend = sts_backends[account][partition_of(request.region)]
    _user_id, arn, _account = backend.get_caller_identity(request.access_key, request.region)
    service, _, rest = str(arn).partition("::")
    return f"{service.removesuffix(':sts')}:iam::{rest}" if rest.split(":", 1)[-1].startswith("user/") else str(arn)


def reset_moto() -> None:
    moto_api_backend.reset()


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the whole body once and put it back, so moto can read it again."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    return bytes(body)


def _drop(environ: dict[str, Any]) -> None:
    """Close the connection without answering: the client sees it reset before any response."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise DropConnection("emulator fault: connection dropped without a response")


def _respond(
    start_response: StartResponse,
    status: int,
    body: bytes,
    content_type: str,
    headers: tuple[tuple[str, str], ...] = (),
) -> list[bytes]:
    reasons = {
        200: "OK",
        400: "Bad Request",
        403: "Forbidden",
        404: "Not Found",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
            *headers,
        ],
    )
    return [body]


def _error(
    start_response: StartResponse, error: ApiError, request: AwsRequest, *, front_layer: bool = False
) -> list[bytes]:
    """An AWS error in the request's protocol: JSON for SageMaker and friends, XML for query services.

    ``front_layer``: an error of AWS's request layer (authorization) rather than the service's, which JSON
    services send with a namespaced ``__type``, a capital ``Message`` and an ``x-amzn-ErrorType`` header.
    """
    if request.json_protocol and front_layer:
        document = {"__type": f"com.amazon.coral.service#{error.code}", "Message": error.message}
        header = (("x-amzn-ErrorType", f"{error.code}:http://internal.amazon.com/coral/com.amazon.coral.service/"),)
        return _respond(start_response, error.status, json.dumps(document).encode(), _JSON_CONTENT_TYPE, header)
    if request.json_protocol:
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        return _respond(start_response, error.status, body, _JSON_CONTENT_TYPE)
    code = "Throttling" if error.code == "ThrottlingException" else error.code
    kind = "Sender" if error.status < 500 else "Receiver"
    xml = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{error.message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return _respond(start_response, error.status, xml.encode(), "text/xml")
