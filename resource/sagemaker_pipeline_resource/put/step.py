"""``out`` (the put step): start, stop or retry an execution, and optionally wait for it to finish.

This module only wires the parts: the request (:mod:`request`, validated before any AWS call), a deploy
(:mod:`deploy`), the token (:mod:`tokens`), the marker that places the version (:mod:`placement`) and the
call with what follows it (:mod:`actions`).
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path
from typing import TypeVar

from concoursetools import BuildMetadata

from sagemaker_pipeline_resource.aws.errors import translate_errors
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.config.params import PutParams
from sagemaker_pipeline_resource.errors import ResourceError
from sagemaker_pipeline_resource.execution.reading import metadata
from sagemaker_pipeline_resource.put.actions import Weather, failure, follow, send
from sagemaker_pipeline_resource.put.deploy import deploy, load_definition
from sagemaker_pipeline_resource.put.placement import held_to_the_end, mark_saved, mark_start, placement
from sagemaker_pipeline_resource.put.request import build_request, cover_the_version
from sagemaker_pipeline_resource.put.tokens import in_concourse, request_token
from sagemaker_pipeline_resource.versions.version import ExecutionVersion

T = TypeVar("T")


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
        cover_the_version(request, params, build)
    target = request.arguments.get("PipelineExecutionArn", str(config.pipeline_arn))
    with translate_errors(f"the put action '{request.action}' on {target}", config):
        client = aws.sagemaker()
        if request.action == "start":
            attempts = params.client_request_token is None and in_concourse(build)
            mark_start(client, request, config, saved=not params.wait, attempts=attempts)
        mark_existing: str | None = None
        holds = False
        if request.action in ("stop", "retry"):
            mark_existing, holds = placement(client, config, request.arguments["PipelineExecutionArn"], request.action)
        sent_at = dt.datetime.now(dt.timezone.utc)
        arn = send(client, request)
    print(f"put: {request.action} {arn}", file=sys.stderr)
    weather = Weather.of(aws, params)
    with translate_errors(f"following up on the execution {arn} that this put {_DONE[request.action]}", config):
        description, steps, timed_out = follow(
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
            f"The execution {arn} ended {status}: {failure(description, steps or [])}.",
            "See the step list above and steps.json from a get of this version; "
            "params.fail_on chooses which statuses fail the build.",
        )
    if (params.wait and request.action == "start") or mark_existing:
        # a waiting start, or a stop or retry of an execution that is not a version yet: Concourse saves it on top
        # until now, a waiting start's execution held the rest back if inside the window, a stopped one if it
        # did before the stop; a retried one had finished, and the history went on past it
        own_holds = (
            held_to_the_end(description, config) if request.action == "start" else holds and request.action == "stop"
        )
        with translate_errors(f"marking {arn} as this put's version", config):
            weather(
                lambda: mark_saved(
                    client, arn, description, config, own_holds=own_holds, in_place=mark_existing == "in_place"
                )
            )
    items = metadata(description, steps, config.pipeline_arn)
    items["action"] = request.action
    items.update(deployment.metadata() if deployment else {})
    return ExecutionVersion(arn), items
