"""Permission mode: an allow-list of IAM actions, and AWS's AccessDenied for every call outside it.

An IAM policy in a README is a promise that nothing else proves: a missing action shows up in production,
often after the pipeline already ran (a put that started an execution and then cannot mark it). With the
mode on (``set_permissions``), every AWS call is checked against the allow-list before it is answered:

* the action is ``<signing name>:<operation>`` (``sagemaker:ListPipelineExecutions``, ``sts:AssumeRole``),
  matched as IAM matches actions: case-insensitively, ``*`` and ``?`` as wildcards;
* CreatePipeline and UpdatePipeline with a ``RoleArn`` also need ``iam:PassRole`` (SageMaker checks it
  for the caller, and reports it under the SageMaker call); CreatePipeline with ``Tags`` needs
  ``sagemaker:AddTags``;
* ``sts:GetCallerIdentity`` is always allowed: AWS documents that it needs no permission;
* a refused SageMaker call answers HTTP 400 with the body AWS's front layer sends,
  ``{"__type": "com.amazon.coral.service#AccessDeniedException", "Message": "User: ARN is not authorized
  to perform: ACTION on resource: ARN because no identity-based policy allows the ACTION action"}``; STS
  (query protocol) answers 403 with an XML ErrorResponse, code ``AccessDenied``.

What the mode does not model: resources (every allowed action is allowed on every ARN), conditions (the
``iam:PassedToService`` condition on PassRole is not evaluated), explicit denies, permission boundaries,
SCPs, and which identity holds which policy (one allow-list covers the base credentials and an assumed
role alike). The mode is off by default and after ``reset``.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tests.emulator.errors import ApiError, validation_error
from tests.emulator.model import pipeline_arn

# Needs no permission in AWS ("No permissions are required to perform this operation").
ALWAYS_ALLOWED = frozenset({"sts:getcalleridentity"})


@dataclass(frozen=True)
class Call:
    """One AWS request, as the permission check sees it."""

    service: str  # SigV4 signing name: "sagemaker", "sts"
    operation: str
    params: dict[str, Any]
    principal: str  # who is asking, as AWS names it in the message
    account: str
    region: str

    @property
    def action(self) -> str:
        return f"{self.service or 'unknown'}:{self.operation}"


def request_params(body: bytes, json_protocol: bool, query_string: str = "") -> dict[str, Any]:
    """The request's parameters: the JSON body (SageMaker) or the form/query fields (STS), first values."""
    if json_protocol:
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}
    fields = parse_qs(query_string)
    fields.update(parse_qs(body.decode("utf-8", "replace")))
    return {key: values[0] for key, values in fields.items() if values}


class Permissions:
    """The allow-list (None: the mode is off) and the check every AWS request goes through."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._allowed: tuple[str, ...] | None = None

    def set(self, actions: Iterable[str] | None) -> None:
        """Turn the mode on with exactly ``actions`` allowed, or off with None."""
        if actions is None:
            allowed = None
        else:
            allowed = tuple(str(action).lower() for action in actions)
            bad = [action for action in allowed if ":" not in action and action != "*"]
            if bad:
                raise validation_error(f"IAM actions look like service:Operation, got {bad!r}.")
        with self._lock:
            self._allowed = allowed

    def allowed(self) -> list[str] | None:
        with self._lock:
            return None if self._allowed is None else list(self._allowed)

    def allows(self, action: str) -> bool:
        with self._lock:
            allowed = self._allowed
        if allowed is None or action.lower() in ALWAYS_ALLOWED:
            return True
        return any(fnmatch.fnmatchcase(action.lower(), pattern) for pattern in allowed)

    def error_for(self, call: Call, json_protocol: bool) -> ApiError | None:
        """AccessDenied for the first action this call needs and the allow-list lacks; None when allowed."""
        for action, resource in _needed(call):
            if not self.allows(action):
                return denied(call.principal, action, resource, json_protocol)
        return None


def _needed(call: Call) -> list[tuple[str, str | None]]:
    """The actions a call needs, each with the resource AWS names: the call's own first, then implied ones."""
    needed = [(call.action, _resource(call))]
    if call.service == "sagemaker" and call.operation in ("CreatePipeline", "UpdatePipeline"):
        role = call.params.get("RoleArn")
        if isinstance(role, str) and role:
            needed.append(("iam:PassRole", role))
        if call.operation == "CreatePipeline" and call.params.get("Tags"):
            needed.append(("sagemaker:AddTags", _resource(call)))
    return needed


def _resource(call: Call) -> str | None:
    """The ARN AWS names in the message: the role to assume (STS), the execution, else the pipeline."""
    params = call.params
    key = "RoleArn" if call.service == "sts" else "PipelineExecutionArn"
    if isinstance(params.get(key), str) and params[key]:
        return str(params[key])
    name = params.get("PipelineName")
    if isinstance(name, str) and name:
        return name if name.startswith("arn:") else pipeline_arn(call.region, call.account, name)
    return None


def denied(principal: str, action: str, resource: str | None, json_protocol: bool) -> ApiError:
    """AWS's message for an action no policy allows, with the code of the protocol's front layer."""
    on = f" on resource: {resource}" if resource else ""
    message = (
        f"User: {principal} is not authorized to perform: {action}{on} "
        f"because no identity-based policy allows the {action} action"
    )
    if json_protocol:
        return ApiError("AccessDeniedException", message, 400)
    return ApiError("AccessDenied", message, 403)
