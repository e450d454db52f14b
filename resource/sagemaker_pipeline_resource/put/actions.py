"""The call and what follows it: start, stop or retry, describe the new execution, wait for it, stop it on a
timeout or an abort. Once the execution exists, every call rides out AWS's outages within
``params.outage_budget`` (:class:`Weather`), and every error names the execution."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore import exceptions as bex
from concoursetools import BuildMetadata

from sagemaker_pipeline_resource.abort import Aborted, deferred, trap
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.aws.transient import is_transient
from sagemaker_pipeline_resource.config.params import RUNNING_STATUSES, PutParams
from sagemaker_pipeline_resource.errors import ResourceError, printable
from sagemaker_pipeline_resource.execution.pipeline_steps import step_label
from sagemaker_pipeline_resource.execution.reading import failing_steps, list_steps
from sagemaker_pipeline_resource.execution.waiting import Outage, WaitResult, ride_out, wait
from sagemaker_pipeline_resource.put.request import Request
from sagemaker_pipeline_resource.put.tokens import request_token

T = TypeVar("T")


_OPERATIONS = {
    "start": "start_pipeline_execution",
    "stop": "stop_pipeline_execution",
    "retry": "retry_pipeline_execution",
}


STOP_ATTEMPTS = 3


def stop(client: Any, arn: str, token: str) -> dict[str, Any] | None:
    """Ask AWS to stop ``arn``, idempotent in effect: None when it is stopping, or the execution's description
    when it had already finished (nothing to stop, not an error).

    Whatever StopPipelineExecution answers when it fails (ConflictException for a finished execution, or
    while one changes state between steps; a lost answer; anything else), the execution's real status
    decides: finished or already Stopping is done; still Executing after a conflict is tried again a few
    times; otherwise the error stands.
    """
    for attempt in range(1, STOP_ATTEMPTS + 1):
        try:
            client.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token)
            return None
        except (bex.ClientError, bex.BotoCoreError) as error:
            try:
                description: dict[str, Any] = client.describe_pipeline_execution(PipelineExecutionArn=arn)
            except (bex.ClientError, bex.BotoCoreError):
                raise error from None
            status = description.get("PipelineExecutionStatus")
            if status not in RUNNING_STATUSES:
                print(f"put: {arn} had already finished ({status}): nothing to stop", file=sys.stderr)
                return description
            if status == "Stopping":
                print(f"put: {arn} is already stopping", file=sys.stderr)
                return None
            conflict = isinstance(error, bex.ClientError) and error.response.get("Error", {}).get("Code") == (
                "ConflictException"
            )
            if not conflict or attempt == STOP_ATTEMPTS:
                raise
            print(f"put: stop refused while the execution changes state; trying again ({attempt})", file=sys.stderr)
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def send(client: Any, request: Request) -> str:
    """Make the call (a stop through :func:`stop`, which takes an already finished execution in its stride)."""
    if request.action == "stop":
        arn = str(request.arguments["PipelineExecutionArn"])
        stop(client, arn, str(request.arguments["ClientRequestToken"]))
        return arn
    response = getattr(client, _OPERATIONS[request.action])(**request.arguments)
    arn = response.get("PipelineExecutionArn")
    if not isinstance(arn, str) or not arn:  # an answer that says nothing: not a crash (exit 70)
        raise ResourceError(f"AWS answered the {request.action} without the execution's ARN.")
    return arn


# How long the stop after an abort may take in all before the put gives up on it and exits.
ABORT_DEADLINE = 5.0


def stop_on_abort(aws: AWS, arn: str, build: BuildMetadata, deadline: float = ABORT_DEADLINE) -> None:
    """Stop the execution after an abort, quickly (Concourse kills the process soon): short timeouts and no
    retries (``aws.sagemaker(quick=True)``), at most ``deadline`` seconds in all whatever the network does
    (the stop runs in a thread that is abandoned then), and a failure is reported, not raised (the abort is
    what the build must show)."""

    def attempt() -> None:
        try:
            client = aws.sagemaker(quick=True)
            if stop(client, arn, request_token(build, "stop-on-abort", {"arn": arn})) is None:
                print(f"put: asked {arn} to stop (params.stop_on_abort)", file=sys.stderr)
        except (bex.ClientError, bex.BotoCoreError, ResourceError) as error:
            print(f"put: could not stop {arn} ({printable(str(error), 500)}): stop it by hand", file=sys.stderr)

    worker = threading.Thread(target=attempt, name="stop-on-abort", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        print(f"put: could not stop {arn}: AWS did not answer within {deadline:g} s: stop it by hand", file=sys.stderr)


# DescribePipelineExecution right after StartPipelineExecution: how often to ask, and the first pause.
VISIBLE_TRIES = 5


VISIBLE_PAUSE = 0.5


def _direct(call: Callable[[], T]) -> T:
    return call()


def describe_new(
    client: Any,
    arn: str,
    sleep: Callable[[float], None] = time.sleep,
    weather: Callable[[Callable[[], dict[str, Any]]], dict[str, Any]] = _direct,
) -> dict[str, Any]:
    """Describe a just-started execution, which may not be found for a moment.

    AWS's reads are eventually consistent: an ARN that StartPipelineExecution has just returned can be
    ResourceNotFound for a short while. That is not an error of the put, so it is asked again, with
    doubling pauses (0.5 + 1 + 2 + 4 s at most), before ResourceNotFound is believed. ``weather``: how
    each describe rides out an outage (:class:`Weather`).
    """
    for attempt in range(1, VISIBLE_TRIES + 1):
        try:
            description: dict[str, Any] = weather(lambda: client.describe_pipeline_execution(PipelineExecutionArn=arn))
            return description
        except client.exceptions.ResourceNotFound:
            if attempt == VISIBLE_TRIES:
                raise
            print(f"put: {arn} is not visible yet; asking again ({attempt})", file=sys.stderr)
            sleep(VISIBLE_PAUSE * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def failure(description: dict[str, Any], steps: list[dict[str, Any]]) -> str:
    lines = [f"{step_label(step)}: {step.get('FailureReason', 'no reason given')}" for step in failing_steps(steps)]
    reason = description.get("FailureReason")
    if reason and not lines:
        lines.append(str(reason))
    return "; ".join(lines) if lines else "no failure reason given"


# The first pause of a put without wait riding out an outage (then doubling, as a wait's backoff does).
NO_WAIT_PAUSE = 2.0


@dataclass(frozen=True)
class Weather:
    """The outage budget of every call after the execution exists (one :class:`waiter.Outage`, shared with
    the wait, so that an outage across several calls is logged and budgeted once): a failure there would
    fail the put while its execution runs on."""

    outage: Outage
    poll_interval: float
    is_transient: Callable[[BaseException], bool]

    @classmethod
    def of(cls, aws: AWS, params: PutParams) -> Weather:
        """Without ``wait`` (no poll_interval to start from) the backoff starts at :data:`NO_WAIT_PAUSE`."""
        outage = Outage(params.outage_budget, _log, who="wait" if params.wait else "put")
        pause = params.poll_interval if params.wait else NO_WAIT_PAUSE
        return cls(outage, pause, functools.partial(is_transient, refreshable=aws.refreshable))

    def __call__(self, call: Callable[[], T]) -> T:
        return ride_out(call, self.outage, poll_interval=self.poll_interval, is_transient=self.is_transient)


def _log(line: str) -> None:
    print(printable(line), file=sys.stderr, flush=True)  # AWS's words in it (an outage's error): escaped, masked


def wait_for(
    client: Any, params: PutParams, weather: Weather, *, action: str, arn: str, sent_at: dt.datetime
) -> WaitResult:
    return wait(
        client,
        arn,
        params.poll_interval,
        params.timeout,
        not_before=sent_at if action == "retry" else None,
        outage_budget=params.outage_budget,
        is_transient=weather.is_transient,
        outage=weather.outage,
    )


@contextlib.contextmanager
def abortable(aws: AWS, params: PutParams, *, action: str, arn: str, build: BuildMetadata) -> Iterator[None]:
    """From the moment the ARN is known until the wait ends: on an abort (a signal of abort.SIGNALS), say so and stop
    what this put started or retried (``stop_on_abort``), then let the abort end the process."""
    if not params.wait:
        yield  # no wait: the put ends in seconds, and an abort then is Python's default
        return
    try:
        with trap():
            yield
    except Aborted as aborted:
        print(f"put: {aborted.name}: the build was aborted while waiting for {arn}", file=sys.stderr)
        if action != "stop" and params.stop_on_abort:
            with deferred():
                stop_on_abort(aws, arn, build)
        elif action != "stop":
            print(f"put: {arn} keeps running (stop_on_abort is false)", file=sys.stderr)
        raise


def follow(
    aws: AWS,
    client: Any,
    params: PutParams,
    weather: Weather,
    *,
    request: Request,
    arn: str,
    sent_at: dt.datetime,
    build: BuildMetadata,
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, bool]:
    """After the call: describe the execution, wait for it (``wait``), stop it on a timeout. Every call rides
    out AWS's outages (``weather``). Returns its description, its steps (when listed) and whether it timed out.
    """
    action = request.action
    steps: list[dict[str, Any]] | None = None
    timed_out = False
    with abortable(aws, params, action=action, arn=arn, build=build):
        if action == "start":
            description = describe_new(client, arn, weather=weather)  # the wait's first read, too, must find it
        if params.wait:
            result = wait_for(client, params, weather, action=action, arn=arn, sent_at=sent_at)
            description, steps, timed_out = result.description, result.steps, result.timed_out
    if not params.wait:
        if action != "start":
            description = weather(lambda: client.describe_pipeline_execution(PipelineExecutionArn=arn))
        if description.get("PipelineExecutionStatus") in RUNNING_STATUSES:
            print(
                "put: not waiting here; the get that Concourse runs after this put waits for the execution "
                "to finish (get params wait: true by default). To skip that wait, set "
                "`get_params: {wait: false}` (writes its current state) or `no_get: true` on this step.",
                file=sys.stderr,
            )
    if timed_out and params.stop_on_timeout:
        token = request_token(build, "stop-on-timeout", {"arn": arn})
        finished = weather(lambda: stop(client, arn, token))
        if finished is None:
            print(f"put: timed out: asked {arn} to stop", file=sys.stderr)
        else:  # it finished as the time ran out: that is the outcome
            description, steps, timed_out = finished, weather(lambda: list_steps(client, arn)), False
    return description, steps, timed_out
