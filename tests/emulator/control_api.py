"""The control API: how tests and the demo stage scenarios (``POST /_emulator/<action>``, JSON in and out).

It bypasses AWS validation on purpose: a test must be able to create an execution that started last
week, or make one fail right now, which no AWS call can do. :mod:`tests.emulator.client` is its typed
Python client; the actions mirror that client's methods one to one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.emulator import lifecycle
from tests.emulator.credentials import IssuedCredentials
from tests.emulator.errors import ApiError, validation_error
from tests.emulator.faults import Faults, RequestLog
from tests.emulator.model import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    EXECUTION_STATUSES,
    TERMINAL_STATUSES,
    Execution,
    Lifecycle,
    build_definition,
    now_ms,
    seconds,
)
from tests.emulator.permissions import Permissions
from tests.emulator.steps import render_steps
from tests.emulator.store import Store
from tests.emulator.strict import Strictness

PREFIX = "/_emulator/"

Action = Callable[["ControlApi", dict[str, Any]], dict[str, Any]]
_ACTIONS: dict[str, Action] = {}


def _action(name: str) -> Callable[[Action], Action]:
    def register(function: Action) -> Action:
        _ACTIONS[name] = function
        return function

    return register


class ControlApi:
    """Dispatches control actions against the emulator's state."""

    def __init__(
        self,
        store: Store,
        faults: Faults,
        requests: RequestLog,
        reset_moto: Callable[[], None],
        credentials: IssuedCredentials | None = None,
        permissions: Permissions | None = None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.requests = requests
        self.reset_moto = reset_moto
        self.credentials = credentials or IssuedCredentials()
        self.permissions = permissions or Permissions()

    def handle(self, action: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON document) for one control request."""
        function = _ACTIONS.get(action)
        if function is None:
            return 404, {"error": "UnknownAction", "message": f"No control action {action!r}."}
        try:
            payload = json.loads(body or b"{}")
            if not isinstance(payload, dict):
                raise validation_error("The request body must be a JSON object.")
            with self.store.lock:
                return 200, function(self, payload)
        except ApiError as error:
            return 400, {"error": error.code, "message": error.message}
        except (KeyError, TypeError, ValueError) as error:
            return 400, {"error": "BadRequest", "message": f"{type(error).__name__}: {error}"}


def _ms(value: Any) -> int | None:
    """Epoch seconds (what the client sends) to integer milliseconds."""
    return None if value is None else round(float(value) * 1000)


def _status(value: str, allowed: tuple[str, ...] | frozenset[str] = EXECUTION_STATUSES) -> str:
    if value not in allowed:
        raise validation_error(f"Unknown status {value!r}; expected one of {', '.join(sorted(allowed))}.")
    return value


def _execution(api: ControlApi, payload: dict[str, Any]) -> Execution:
    return api.store.find_execution(str(payload["arn"]))


@_action("health")
def _health(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True}


@_action("reset")
def _reset(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.store.reset()
    api.faults.clear()
    api.permissions.set(None)
    api.requests.clear()
    api.reset_moto()
    return {}


@_action("create_pipeline")
def _create_pipeline(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    account = str(payload.get("account") or DEFAULT_ACCOUNT)
    steps = payload.get("steps")
    for step in steps or []:
        if not isinstance(step, dict) or not step.get("name") or not step.get("type"):
            raise validation_error(f"Each step needs a name and a type, got {step!r}.")
    pipeline = api.store.create_pipeline(
        account=account,
        region=str(payload.get("region") or DEFAULT_REGION),
        name=str(payload["name"]),
        definition=build_definition(steps, payload.get("parameters")),
        role_arn=f"arn:aws:iam::{account}:role/emulator-pipeline-role",
    )
    return {"arn": pipeline.arn}


@_action("seed_executions")
def _seed(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    pipeline = api.store.pipeline_by_arn(str(payload["pipeline_arn"]))
    count = int(payload["count"])
    if count < 0:
        raise validation_error("count must not be negative.")
    statuses = [_status(s) for s in payload.get("statuses") or [payload.get("status") or "Succeeded"]]
    interval_ms = round(float(payload.get("interval_seconds", 60.0)) * 1000)
    start_ms = _ms(payload.get("start"))
    if start_ms is None:
        start_ms = now_ms() - count * interval_ms
    made = api.store.seed(
        pipeline,
        count=count,
        statuses=statuses,
        start_ms=start_ms,
        interval_ms=interval_ms,
        user_profile=payload.get("created_by_user_profile"),
    )
    return {"arns": [e.arn for e in made]}


@_action("start_execution")
def _start(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    pipeline = api.store.pipeline_by_arn(str(payload["pipeline_arn"]))
    start_ms = _ms(payload.get("start_time"))
    created = now_ms() if start_ms is None else start_ms
    execution = api.store.new_execution(
        pipeline,
        created_ms=created,
        display_name=payload.get("display_name"),
        parameters={str(k): str(v) for k, v in (payload.get("parameters") or {}).items()},
    )
    status = _status(str(payload.get("status") or "Executing"))
    if status != "Executing":
        lifecycle.transition(execution, status, at_ms=created)
    return {"arn": execution.arn}


@_action("finish")
def _finish(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    execution = _execution(api, payload)
    at = _ms(payload.get("at"))
    lifecycle.transition(
        execution,
        _status(str(payload.get("status") or "Succeeded")),
        at_ms=at if at is not None else max(now_ms(), execution.created_ms),
        failure_reason=payload.get("failure_reason"),
        failing_step=_step_name(execution, payload.get("failing_step")),
    )
    return {}


def _step_name(execution: Execution, name: Any) -> str | None:
    """A failing step named by a test must exist: a typo would silently fail another step."""
    if name is None:
        return None
    names = [s.name for s in execution.version.steps]
    if name not in names:
        raise validation_error(f"Unknown step {name!r}; the execution's steps are {names}.")
    return str(name)


@_action("set_strictness")
def _set_strictness(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    """Replace the strictness switches (those not given go back to their defaults); see strict.py."""
    api.store.strict = Strictness.from_payload(payload)
    return {}


@_action("set_lifecycle")
def _set_lifecycle(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    polls, after = payload.get("finish_after_polls"), payload.get("finish_after_seconds")
    stop_after = int(payload.get("stop_after_polls") or 0)
    if (polls is not None and int(polls) < 0) or (after is not None and float(after) < 0) or stop_after < 0:
        raise validation_error("Lifecycle counts and durations must not be negative.")
    api.store.lifecycle = Lifecycle(
        finish_after_polls=None if polls is None else int(polls),
        finish_after_seconds=None if after is None else float(after),
        final_status=_status(str(payload.get("final_status") or "Succeeded"), TERMINAL_STATUSES),
        failure_reason=payload.get("failure_reason"),
        failing_step=payload.get("failing_step"),
        stop_after_polls=stop_after,
    )
    return {}


@_action("delete_execution")
def _delete_execution(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.store.delete_execution(_execution(api, payload))
    return {}


@_action("describe")
def _describe(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    """The emulator's own view of an execution; reading it is not a poll (time plans still apply)."""
    execution = _execution(api, payload)
    now = now_ms()
    lifecycle.observe(execution, now, poll=False)
    return {
        "arn": execution.arn,
        "pipeline_arn": execution.pipeline.arn,
        "status": execution.status,
        "failure_reason": execution.failure_reason,
        "display_name": execution.display_name,
        "description": execution.description,
        "creation_time": seconds(execution.created_ms),
        "start_time": seconds(execution.start_ms),
        "last_modified_time": seconds(execution.modified_ms),
        "polls": execution.polls,
        "attempts": execution.attempts,
        "pipeline_version_id": execution.version.version_id,
        "parameters": {p["Name"]: p["Value"] for p in execution.parameters},
        "steps": [{"name": s["StepName"], "status": s["StepStatus"]} for s in render_steps(execution, now)],
        "pending_plan": None
        if execution.plan is None
        else {
            "status": execution.plan.status,
            "after_polls": execution.plan.after_polls,
            "at": None if execution.plan.at_ms is None else seconds(execution.plan.at_ms),
        },
    }


@_action("inject_fault")
def _inject_fault(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.faults.add(
        str(payload["kind"]),
        count=int(payload.get("count", 1)),
        operation=payload.get("operation"),
        latency_seconds=float(payload.get("latency_seconds", 0.0)),
        status_code=int(payload.get("status_code", 503)),
    )
    return {}


@_action("credential_fault")
def _credential_fault(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.faults.credentials.add(str(payload["access_key"]), str(payload["kind"]), payload.get("operation"))
    return {}


@_action("inject_outage")
def _inject_outage(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.faults.start_outage(float(payload["seconds"]), tuple(payload.get("kinds") or ("server_error",)))
    return {}


@_action("set_permissions")
def _set_permissions(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    """The permission mode (see permissions.py): ``actions`` is the allow-list, null turns the mode off."""
    actions = payload.get("actions")
    if actions is not None and (not isinstance(actions, list) or not all(isinstance(a, str) for a in actions)):
        raise validation_error("actions must be a list of IAM action names, or null to turn the mode off.")
    api.permissions.set(actions)
    return {"actions": api.permissions.allowed()}


@_action("answer_fault")
def _answer_fault(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.faults.add_answer(
        str(payload["kind"]),
        count=int(payload.get("count", 1)),
        operation=payload.get("operation"),
        fields=tuple(payload.get("fields") or ()),
    )
    return {}


@_action("hostile_strings")
def _hostile_strings(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.faults.hostile_strings = bool(payload.get("on", True))
    api.faults.hostile_errors_only = bool(payload.get("errors_only", False))
    return {}


@_action("clear_faults")
def _clear_faults(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.faults.clear()
    return {}


@_action("request_counts")
def _request_counts(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    return {"counts": api.requests.counts()}


@_action("clear_requests")
def _clear_requests(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    api.requests.clear()
    return {}


@_action("issued_credentials")
def _issued_credentials(api: ControlApi, payload: dict[str, Any]) -> dict[str, Any]:
    return {"values": api.credentials.values()}
