"""``out`` (the put step): start, stop or retry an execution, and optionally wait for it to finish.

Idempotency: StartPipelineExecution (like Stop and Retry) takes a ``ClientRequestToken``; boto3 fills in a
random one when none is given, which protects nothing across a retried step. Here it is derived from the
Concourse build (team, pipeline, instance vars, job, build name and id) and from the request itself (with
``definition_file``, the pipeline version deployed), so a put step that runs again after its response was
lost gets back the execution the first attempt started instead of starting a second one; two different puts
in one build still differ. Concourse's ``attempts:`` runs the same step again after a failure and says
nothing about which attempt it is, so a start numbers its attempts itself (:func:`_attempt`): the n-th
execution a step starts carries the n-th token of a fixed sequence in its marker, and a step that runs again
re-attaches to the newest one unless that one failed or was stopped, when it starts the next.

Once the execution exists, every call the put still makes rides out AWS's outages within
``params.outage_budget`` (:func:`waiter.ride_out`), and every error names the execution.

Every param is validated, and the execution to act on is resolved, before the first AWS call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import itertools
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from botocore import exceptions as bex
from concoursetools import BuildMetadata

from sagemaker_pipeline_resource import inputs
from sagemaker_pipeline_resource.abort import Aborted, deferred, trap
from sagemaker_pipeline_resource.aws.session import AWS, translate_errors
from sagemaker_pipeline_resource.aws.transient import is_transient
from sagemaker_pipeline_resource.config import paramfile
from sagemaker_pipeline_resource.config.arns import parse_execution_arn
from sagemaker_pipeline_resource.config.fields import bounds_of, check_length
from sagemaker_pipeline_resource.config.params import RUNNING_STATUSES, PutParams, SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError, printable, shown
from sagemaker_pipeline_resource.execution.pipeline_steps import step_label
from sagemaker_pipeline_resource.execution.reading import failing_steps, list_steps, metadata
from sagemaker_pipeline_resource.execution.waiting import Outage, WaitResult, ride_out, wait
from sagemaker_pipeline_resource.put.deploy import deploy, load_definition
from sagemaker_pipeline_resource.versions.listing import pending, policy_of
from sagemaker_pipeline_resource.versions.marker import Marker, attach, parse, request_of, scope_of
from sagemaker_pipeline_resource.versions.ordering import Execution, Frontier
from sagemaker_pipeline_resource.versions.version import ExecutionVersion

T = TypeVar("T")

PARAMETER_NAME = paramfile.PARAMETER_NAME
# AWS's PipelineExecutionName: letters and digits, any dashes between them (its pattern); the length (1 to 82)
# is the field's declared bounds in config.py, checked here because the name is templated first.
DISPLAY_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
MAX_PARAMETERS = 200
MAX_VALUE = 1024
MAX_DESCRIPTION = int(bounds_of(PutParams, "description").high or 0)


@dataclass(frozen=True)
class Request:
    """A validated put, ready to send: the API arguments and the token that makes it idempotent."""

    action: str
    arguments: dict[str, Any]


def in_concourse(build: BuildMetadata) -> bool:
    """False when run by hand (``BUILD_ID`` unset): no build to name, link to, or derive a token from."""
    return bool(build.BUILD_ID)


def _format(text: str, build: BuildMetadata) -> str:
    """Interpolate ``$BUILD_ID``, ``$BUILD_PIPELINE_NAME``... (unknown ``$NAMES`` are left as they are)."""
    return build.format_string(text, ignore_missing=True)


def pipeline_parameters(params: PutParams, sources: Path, build: BuildMetadata) -> list[dict[str, str]]:
    """``parameters_file`` merged with ``parameters`` (which win), templated and checked against AWS's limits."""
    merged: dict[str, object] = {}
    origin: dict[str, str] = {}  # each name's source, so that an error blames the file or the params
    if params.parameters_file is not None:
        from_file = paramfile.load(sources, params.parameters_file)
        merged.update(from_file)
        origin.update(dict.fromkeys(from_file, f"params.parameters_file ({Path(params.parameters_file).name[:80]})"))
    merged.update(params.parameters)
    origin.update(dict.fromkeys(params.parameters, "params.parameters"))
    if len(merged) > MAX_PARAMETERS:
        raise ResourceError(
            f"params.parameters and parameters_file give {len(merged)} parameters; AWS allows {MAX_PARAMETERS}."
        )
    result = []
    for name, value in merged.items():
        where = origin[name]
        if not PARAMETER_NAME.fullmatch(name):
            raise ResourceError(
                f"{where}: {shown(name)} is not a valid pipeline parameter name.",
                "Names are 1 to 256 letters, digits, '-' or '_', as declared in the pipeline definition.",
            )
        if value is None:
            raise ResourceError(
                f"params.parameters.{name} is null (JSON null; in YAML ~, null or nothing after the colon).",
                "Give it a value ('' for an empty string), or leave it out to use the pipeline's default.",
            )
        if isinstance(value, dict | list):
            raise ResourceError(
                f"{where}: {name} must be a string, number or boolean, not {shown(value)}.",
                "Pipeline parameters are strings: encode structured values as JSON text.",
            )
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        text = _format(text, build)
        if len(text) > MAX_VALUE:
            raise ResourceError(f"{where}: {name} is {len(text)} characters long; AWS allows {MAX_VALUE}.")
        result.append({"Name": name, "Value": text})
    return result


def default_display_name(build: BuildMetadata) -> str | None:
    """``concourse-PIPELINE-JOB-BUILD`` cleaned to AWS's pattern (letters, digits and dashes, 82 chars)."""
    if not in_concourse(build):
        return None
    parts = [build.BUILD_PIPELINE_NAME, build.BUILD_JOB_NAME, build.BUILD_NAME] if build.BUILD_JOB_NAME else [
        "build", build.BUILD_ID]  # fmt: skip
    name = re.sub(r"[^a-zA-Z0-9]+", "-", "-".join(["concourse", *(part for part in parts if part)]))
    name = name.strip("-")[:82].rstrip("-")
    return name or None


def default_description(build: BuildMetadata) -> str | None:
    if not in_concourse(build):
        return None
    if build.BUILD_JOB_NAME:
        what = f"{build.BUILD_TEAM_NAME}/{build.BUILD_PIPELINE_NAME}/{build.BUILD_JOB_NAME} #{build.BUILD_NAME}"
    else:
        what = f"one-off build {build.BUILD_ID}"
    return f"Started by Concourse build {what}: {build.build_url()}"[:MAX_DESCRIPTION]


def request_token(build: BuildMetadata, action: str, arguments: dict[str, Any]) -> str:
    """The ClientRequestToken: the same build making the same request always gets the same token."""
    if not in_concourse(build):
        print("put: no Concourse build environment (BUILD_ID...): the request is not idempotent.", file=sys.stderr)
        return uuid.uuid4().hex
    identity = {
        "team": build.BUILD_TEAM_NAME,
        "pipeline": build.BUILD_PIPELINE_NAME,
        "instance_vars": build.BUILD_PIPELINE_INSTANCE_VARS,
        "job": build.BUILD_JOB_NAME,
        "build_name": build.BUILD_NAME,
        "build_id": build.BUILD_ID,
        "action": action,
        "request": arguments,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def attempt_token(base: str, attempt: int) -> str:
    """The token of the ``attempt``-th execution one put step starts: ``base`` itself first, then a hash of
    it and the number, so that every run of the step computes the same sequence and can find each one."""
    if attempt == 1:
        return base
    return hashlib.sha256(f"{base}/attempt {attempt}".encode()).hexdigest()


# An earlier attempt's execution in one of these is spent: a step that runs again starts the next one. It
# failed (or ended with failures), or was stopped (stop_on_timeout, an abort, by hand) or is being stopped.
SPENT = frozenset({"Failed", "CompletedWithFailures", "Stopped", "Stopping"})


def _attempt(base: str, by_request: Mapping[str, Execution]) -> tuple[str, Execution | None]:
    """The token this run of a start sends, and the execution of an earlier attempt it re-attaches to.

    ``by_request``: the listed executions by their marker's request hash. Attempt 1's token is ``base``;
    while the execution that attempt n started is spent, attempt n + 1 is looked for; the first attempt with
    no execution starts one, one whose execution runs or succeeded is re-attached to (the same token and
    request: AWS hands back that execution).
    """
    for attempt in itertools.count(1):
        token = attempt_token(base, attempt)
        earlier = by_request.get(request_of(token))
        if earlier is None or earlier.status not in SPENT:
            return token, earlier
        print(f"put: {earlier.arn}, started by an earlier attempt of this step, is {earlier.status}: this attempt "
              "starts another", file=sys.stderr)  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover


def _cover_the_version(request: Request, params: PutParams, build: BuildMetadata) -> None:
    """After a deploy: the derived token covers the pipeline version it pinned, so that a second put of the
    same build that deployed another definition (or an attempt after the file changed) starts its own."""
    if params.client_request_token is None and in_concourse(build):
        arguments = {key: value for key, value in request.arguments.items() if key != "ClientRequestToken"}
        request.arguments["ClientRequestToken"] = request_token(build, request.action, arguments)


def _resolve_execution(params: PutParams, sources: Path, aws: AWS) -> str:
    """The ARN to stop or retry: ``execution_arn``, or read from ``execution_arn_file`` (a get's directory)."""
    if params.execution_arn is not None:
        arn = params.execution_arn.strip()
        key = "params.execution_arn"
    else:
        assert params.execution_arn_file is not None  # noqa: S101 - PutParams guarantees one of the two
        key = "params.execution_arn_file"
        path = inputs.confined(sources, params.execution_arn_file, key)
        if os.path.isdir(path):  # noqa: PTH112 - a get step's directory (os.path: never raises, e.g. for a too-long name)
            path = path / "execution_arn"
        arn = inputs.read_text(path, key, max_bytes=4096).strip()
        key = f"params.execution_arn_file ({path.name[:80]})"
    execution = parse_execution_arn(arn, key, quote=params.execution_arn is not None)  # a file is never quoted
    if not aws.config.pipeline_arn.owns(execution):
        raise ResourceError(f"{key}: {arn} is an execution of another pipeline, not of {aws.config.pipeline}.")
    return arn


def build_request(params: PutParams, sources: Path, build: BuildMetadata, aws: AWS) -> Request:
    """Validate everything and assemble the API call, without calling AWS."""
    arguments: dict[str, Any] = {}
    if params.action == "start":
        arguments["PipelineName"] = str(aws.config.pipeline_arn)
        arguments["PipelineParameters"] = pipeline_parameters(params, sources, build)
        display_name = _format(params.display_name, build) if params.display_name else default_display_name(build)
        if display_name is not None:
            check_length(display_name, "params.display_name", bounds_of(PutParams, "display_name"))
            if not DISPLAY_NAME.fullmatch(display_name):
                raise ResourceError(
                    f"params.display_name {shown(display_name)} is not a valid execution display name.",
                    "Use letters, digits and dashes, starting and ending with a letter or digit.",
                )
            arguments["PipelineExecutionDisplayName"] = display_name
        description = _format(params.description, build) if params.description else default_description(build)
        if description is not None:
            check_length(description, "params.description", bounds_of(PutParams, "description"))
            arguments["PipelineExecutionDescription"] = description
        selective = params.selective_execution_config()
        if selective is not None:
            source = selective.get("SourcePipelineExecutionArn")
            if source is not None and not aws.config.pipeline_arn.owns(parse_execution_arn(source)):
                raise ResourceError(
                    f"params.selective_execution.source_execution_arn: {source} is an execution of another "
                    f"pipeline, not of {aws.config.pipeline}.",
                    "A selective execution reuses the outputs of an execution of the same pipeline: give the ARN "
                    "of one of its executions.",
                )
            arguments["SelectiveExecutionConfig"] = selective
        if params.pipeline_version_id is not None:
            arguments["PipelineVersionId"] = params.pipeline_version_id
    else:
        arguments["PipelineExecutionArn"] = _resolve_execution(params, sources, aws)
    if params.parallelism is not None:
        arguments["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": params.parallelism}
    token = params.client_request_token or request_token(build, params.action, arguments)
    arguments["ClientRequestToken"] = token
    return Request(params.action, arguments)


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


def _send(client: Any, request: Request) -> str:
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


def _stop_on_abort(aws: AWS, arn: str, build: BuildMetadata, deadline: float = ABORT_DEADLINE) -> None:
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
    each describe rides out an outage (:class:`_Weather`).
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


def _failure(description: dict[str, Any], steps: list[dict[str, Any]]) -> str:
    lines = [f"{step_label(step)}: {step.get('FailureReason', 'no reason given')}" for step in failing_steps(steps)]
    reason = description.get("FailureReason")
    if reason and not lines:
        lines.append(str(reason))
    return "; ".join(lines) if lines else "no failure reason given"


# The first pause of a put without wait riding out an outage (then doubling, as a wait's backoff does).
NO_WAIT_PAUSE = 2.0


@dataclass(frozen=True)
class _Weather:
    """The outage budget of every call after the execution exists (one :class:`waiter.Outage`, shared with
    the wait, so that an outage across several calls is logged and budgeted once): a failure there would
    fail the put while its execution runs on."""

    outage: Outage
    poll_interval: float
    is_transient: Callable[[BaseException], bool]

    @classmethod
    def of(cls, aws: AWS, params: PutParams) -> _Weather:
        """Without ``wait`` (no poll_interval to start from) the backoff starts at :data:`NO_WAIT_PAUSE`."""
        outage = Outage(params.outage_budget, _log, who="wait" if params.wait else "put")
        pause = params.poll_interval if params.wait else NO_WAIT_PAUSE
        return cls(outage, pause, functools.partial(is_transient, refreshable=aws.refreshable))

    def __call__(self, call: Callable[[], T]) -> T:
        return ride_out(call, self.outage, poll_interval=self.poll_interval, is_transient=self.is_transient)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _wait(
    client: Any, params: PutParams, weather: _Weather, *, action: str, arn: str, sent_at: dt.datetime
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
def _abortable(aws: AWS, params: PutParams, *, action: str, arn: str, build: BuildMetadata) -> Iterator[None]:
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
                _stop_on_abort(aws, arn, build)
        elif action != "stop":
            print(f"put: {arn} keeps running (stop_on_abort is false)", file=sys.stderr)
        raise


def _placement(client: Any, config: SourceConfig, arn: str, action: str) -> tuple[str | None, bool]:
    """Before a stop or a retry of ``arn``: which marker it needs, and whether it holds the rest back now.

    - ``"on_top"``: its version is new to this history (running and not a version yet; finished but held
      back; an uncounted status; past ``hold_back_hours``): Concourse saves it on top, and the marker says
      where that is.
    - ``"in_place"``: a retry of a version already in the history: its place does not change, but the marker
      says it is saved, so that while it runs again it holds back no later put's version.
    - None: nothing to write (a stop of a version already in the history, or one already marked saved).
    """
    found = pending(client, config, arn, own_holds=True)
    own = found.own
    policy = policy_of(config)
    if own is None or policy.saved(own):
        return None, False
    if not found.in_history(policy):
        return "on_top", policy.holds(own)
    return ("in_place" if action == "retry" else None), False


def _mark_start(client: Any, request: Request, config: SourceConfig, saved: bool, *, attempts: bool = True) -> None:
    """Choose the attempt's token (:func:`_attempt`; ``attempts`` false: an explicit or random token, used as
    it is) and append the marker to the description.

    Without ``wait`` Concourse saves the version as soon as the put exits, so the marker says ``saved`` and
    where; with ``wait`` it says ``waiting`` until :func:`_mark_saved` (a wait that fails saves nothing).
    The request must be the same whenever the step runs again (AWS refuses a ClientRequestToken used with
    other parameters): ``waiting`` does not depend on the moment, and a ``saved`` marker is taken from the
    execution an earlier attempt started, when there is one.
    """
    arguments = request.arguments
    base = str(arguments["ClientRequestToken"])
    found = pending(client, config)
    if attempts:
        chosen, earlier = _attempt(base, found.requests)
    else:
        chosen, earlier = base, found.requests.get(request_of(base))
    arguments["ClientRequestToken"] = chosen
    scope, token = scope_of(config), request_of(chosen)
    if earlier is not None:
        print(
            f"put: {earlier.arn} was started by an earlier attempt of this step ({earlier.status}): re-attaching",
            file=sys.stderr,
        )
    if not saved:
        marker = Marker(scope, False, request=token)
    else:
        if earlier is not None:
            arguments["PipelineExecutionDescription"] = earlier.description
            return
        _say_where(found)
        marker = found.marker(scope, None, token)
    arguments["PipelineExecutionDescription"] = attach(arguments.get("PipelineExecutionDescription"), marker)


def _held_to_the_end(description: dict[str, Any], config: SourceConfig) -> bool:
    """Whether a waited execution held the rest back until it ended: it ran less than ``hold_back_hours``
    (AWS's creation and last-modified times; without them, counted from now)."""
    start, end = description.get("CreationTime"), description.get("LastModifiedTime")
    if not isinstance(start, dt.datetime):
        return True
    if not isinstance(end, dt.datetime):
        end = dt.datetime.now(dt.timezone.utc)
    start, end = (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc) for moment in (start, end))
    return end - start < dt.timedelta(hours=config.hold_back_hours)


def _say_where(found: Frontier) -> None:
    if found.holder is not None:
        holder = found.holder
        print(f"put: {holder.arn} ({holder.status}) is still pending: this version goes before it", file=sys.stderr)


# After marking an execution, how long to wait for the listing to show it (AWS's listing may lag an update).
VISIBLE_MARK_TRIES = 5


def _mark_saved(
    client: Any,
    arn: str,
    description: dict[str, Any],
    config: SourceConfig,
    *,
    own_holds: bool,
    in_place: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
) -> None:
    """Just before a put succeeds and Concourse saves ``arn`` on top: mark it saved, and where.

    If this call fails the put fails, so Concourse saves nothing and check emits the execution itself. The
    put then reads the listing until it shows the marker: a check handed this version that still saw the old
    description would place it at its start and lose what was pending before it.
    """
    previous = parse(description.get("PipelineExecutionDescription"))
    request = previous.request if previous else None  # it stays: a step run again finds this execution by it
    if in_place:
        marker = Marker(scope_of(config), True, request=request, at=clock())
    else:
        found = pending(client, config, arn, own_holds=own_holds)
        _say_where(found)
        marker = found.marker(scope_of(config), clock(), request)
    text = attach(description.get("PipelineExecutionDescription"), marker)
    client.update_pipeline_execution(PipelineExecutionArn=arn, PipelineExecutionDescription=text)
    for attempt in range(1, VISIBLE_MARK_TRIES + 1):
        own = pending(client, config, arn).own
        if own is None or own.marker == marker:
            return
        if attempt < VISIBLE_MARK_TRIES:
            sleep(2 ** (attempt - 1))
    print(
        f"put: warning: the listing of executions does not show the marker of {arn} yet; a check in the next "
        "seconds may place its version at its start (README: Ordering).",
        file=sys.stderr,
    )


_DONE = {"start": "started", "stop": "stopped", "retry": "retried"}


def publish(
    aws: AWS, params: PutParams, sources: Path, build: BuildMetadata
) -> tuple[ExecutionVersion, dict[str, str]]:
    request = build_request(params, sources, build, aws)
    definition = load_definition(params, sources)  # checked before any AWS call, like the request
    config = aws.config
    deployment = None
    if definition is not None:
        deployment = deploy(aws, params, definition, functools.partial(request_token, build))
        request.arguments["PipelineVersionId"] = deployment.version_id
        _cover_the_version(request, params, build)
    target = request.arguments.get("PipelineExecutionArn", str(config.pipeline_arn))
    with translate_errors(f"the put action '{request.action}' on {target}", config):
        client = aws.sagemaker()
        if request.action == "start":
            attempts = params.client_request_token is None and in_concourse(build)
            _mark_start(client, request, config, saved=not params.wait, attempts=attempts)
        mark_existing: str | None = None
        holds = False
        if request.action in ("stop", "retry"):
            mark_existing, holds = _placement(client, config, request.arguments["PipelineExecutionArn"], request.action)
        sent_at = dt.datetime.now(dt.timezone.utc)
        arn = _send(client, request)
    print(f"put: {request.action} {arn}", file=sys.stderr)
    weather = _Weather.of(aws, params)
    with translate_errors(f"following up on the execution {arn} that this put {_DONE[request.action]}", config):
        description, steps, timed_out = _follow(
            aws, client, params, weather, request=request, arn=arn, sent_at=sent_at, build=build
        )
        status = str(description.get("PipelineExecutionStatus"))
    if timed_out:
        raise ResourceError(
            f"The execution {arn} was still {status} after params.timeout ({params.timeout:g} s)"
            + (" and was asked to stop." if params.stop_on_timeout else "; it keeps running."),
            "Raise params.timeout, or set stop_on_timeout: true to stop it when the time is up.",
        )
    if params.wait and request.action != "stop" and status in params.fail_on:
        raise ResourceError(
            f"The execution {arn} ended {status}: {_failure(description, steps or [])}.",
            "See the step list above and steps.json from a get of this version; "
            "params.fail_on chooses which statuses fail the build.",
        )
    if (params.wait and request.action == "start") or mark_existing:
        # a waiting start, or a stop or retry of an execution that is not a version yet: Concourse saves it on top
        # until now, a waiting start's execution held the rest back if inside the window, a stopped one if it
        # did before the stop; a retried one had finished, and the history went on past it
        own_holds = (
            _held_to_the_end(description, config) if request.action == "start" else holds and request.action == "stop"
        )
        with translate_errors(f"marking {arn} as this put's version", config):
            weather(
                lambda: _mark_saved(
                    client, arn, description, config, own_holds=own_holds, in_place=mark_existing == "in_place"
                )
            )
    items = metadata(description, steps, config.pipeline_arn)
    items["action"] = request.action
    items.update(deployment.metadata() if deployment else {})
    return ExecutionVersion(arn), items


def _follow(
    aws: AWS,
    client: Any,
    params: PutParams,
    weather: _Weather,
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
    with _abortable(aws, params, action=action, arn=arn, build=build):
        if action == "start":
            description = describe_new(client, arn, weather=weather)  # the wait's first read, too, must find it
        if params.wait:
            result = _wait(client, params, weather, action=action, arn=arn, sent_at=sent_at)
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
