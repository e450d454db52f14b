"""The put's request: every param validated and the API call assembled before the first AWS call (pipeline
parameters, display name, description, selective execution, the execution to stop or retry)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from concoursetools import BuildMetadata

from sagemaker_pipeline_resource import inputs
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.config import paramfile
from sagemaker_pipeline_resource.config.arns import parse_execution_arn
from sagemaker_pipeline_resource.config.fields import bounds_of, check_length
from sagemaker_pipeline_resource.config.params import PutParams
from sagemaker_pipeline_resource.errors import ResourceError, shown
from sagemaker_pipeline_resource.put.tokens import in_concourse, request_token

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


def cover_the_version(request: Request, params: PutParams, build: BuildMetadata) -> None:
    """After a deploy: the derived token covers the pipeline version it pinned, so that a second put of the
    same build that deployed another definition (or an attempt after the file changed) starts its own."""
    if params.client_request_token is None and in_concourse(build):
        arguments = {key: value for key, value in request.arguments.items() if key != "ClientRequestToken"}
        request.arguments["ClientRequestToken"] = request_token(build, request.action, arguments)


def resolve_execution(params: PutParams, sources: Path, aws: AWS) -> str:
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
        arguments["PipelineExecutionArn"] = resolve_execution(params, sources, aws)
    if params.parallelism is not None:
        arguments["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": params.parallelism}
    token = params.client_request_token or request_token(build, params.action, arguments)
    arguments["ClientRequestToken"] = token
    return Request(params.action, arguments)
