"""``in`` (the get step): download one execution into the destination directory.

Files (each JSON file UTF-8, datetimes ISO 8601 with their time zone):

- ``execution.json``: DescribePipelineExecution, without boto3's ResponseMetadata.
- ``pipeline.json``: the pipeline definition this execution ran (``skip_definition`` to skip).
- ``steps.json``: every step of the execution, all pages (``skip_steps`` to skip).
- ``parameters.json``: the execution's parameters as ``{name: value}`` (``skip_parameters`` to skip).
- ``execution_arn`` and ``status``: plain text, for ``load_var``.
- ``model_package_arn``, ``training_job_name``... and ``artifacts.json``: what a deploy job needs, from the
  steps' metadata (see :mod:`artifacts`; not with ``skip_steps``).

Every file holds only what SageMaker answered about the execution (ResponseMetadata, the one part about
the HTTP exchange, is dropped): nothing from ``source``, the environment or the credentials is ever handed
to a writer here, so no file can hold a credential (the leak harness in the tests checks every file).

A running execution is waited for first (``params.wait``, default true, with :func:`waiter.wait`), so that
a job triggered by a put's version (the only time Concourse hands out a running execution) sees its outcome.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from pathlib import Path
from typing import Any

from sagemaker_pipeline_resource import inputs, jsonio
from sagemaker_pipeline_resource.aws.session import AWS, translate_errors
from sagemaker_pipeline_resource.aws.transient import is_transient
from sagemaker_pipeline_resource.config.arns import PipelineArn
from sagemaker_pipeline_resource.config.params import RUNNING_STATUSES, GetParams
from sagemaker_pipeline_resource.errors import ResourceError
from sagemaker_pipeline_resource.execution.pipeline_steps import failed_steps, step_label
from sagemaker_pipeline_resource.get.artifacts import write_artifacts
from sagemaker_pipeline_resource.versions import marker
from sagemaker_pipeline_resource.versions.version import ExecutionVersion

# Statuses whose executions may have failed steps: failed_step is shown for them even with skip_steps.
STATUSES_WITH_FAILED_STEPS = ("Failed", "CompletedWithFailures")
CONSOLE_DOMAINS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn"}


def console_url(pipeline: PipelineArn, execution_id: str | None = None) -> str:
    """A link to the pipeline, or to one of its executions, in the SageMaker console of its region and
    partition. The paths are modelled on the console's, not checked against AWS (unverified)."""
    domain = CONSOLE_DOMAINS.get(pipeline.partition, f"console.{pipeline.partition.replace('aws-', 'amazonaws-')}.com")
    home = f"https://{pipeline.region}.{domain}/sagemaker/home?region={pipeline.region}"
    if execution_id is None:
        return f"{home}#/pipelines/details/{pipeline.name}"
    return f"{home}#/pipelines/{pipeline.name}/executions/{execution_id}"


def list_steps(client: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every step of the execution, oldest first, across all pages."""
    steps: list[dict[str, Any]] = []
    paginator = client.get_paginator("list_pipeline_execution_steps")
    for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending"):
        steps.extend(page.get("PipelineExecutionSteps", []))
    return steps


def list_parameters(client: Any, execution_arn: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    paginator = client.get_paginator("list_pipeline_parameters_for_execution")
    for page in paginator.paginate(PipelineExecutionArn=execution_arn):
        for parameter in page.get("PipelineParameters", []):
            parameters[parameter["Name"]] = parameter["Value"]
    return parameters


def failing_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The failed step executions, each once (see :func:`steps.failed_steps`)."""
    return failed_steps(steps)


def format_duration(start: object, end: object) -> str | None:
    """``1h02m03s`` or ``2m03s`` between two datetimes, or None when either is missing."""
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        return None
    seconds = int((end - start).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def _who(identity: object) -> str | None:
    """``CreatedBy`` has no required members: an execution started with IAM credentials has no user profile."""
    if not isinstance(identity, dict):
        return None
    for key in ("UserProfileName", "IamIdentity", "UserProfileArn"):
        value = identity.get(key)
        if isinstance(value, dict):
            value = value.get("Arn")
        if isinstance(value, str) and value:
            return value
    return None


def _execution_id(description: dict[str, Any]) -> str | None:
    """The id at the end of the execution's ARN (``.../execution/ID``), if the description has one."""
    arn = description.get("PipelineExecutionArn")
    if not isinstance(arn, str) or "/execution/" not in arn:
        return None
    return arn.rsplit("/execution/", 1)[1] or None


def metadata(description: dict[str, Any], steps: list[dict[str, Any]] | None, pipeline: PipelineArn) -> dict[str, str]:
    """What the Concourse UI shows next to the version; optional fields are simply left out."""
    status = description.get("PipelineExecutionStatus")
    created = description.get("CreationTime")
    modified = description.get("LastModifiedTime")
    running = status in RUNNING_STATUSES
    items: dict[str, str | None] = {
        "status": status,
        "display_name": description.get("PipelineExecutionDisplayName"),
        "description": marker.strip(description.get("PipelineExecutionDescription")),
        "started": jsonio.iso(created),
        "last_modified": jsonio.iso(modified),
        "duration": None if running else format_duration(created, modified),
        "failure_reason": description.get("FailureReason"),
        "created_by": _who(description.get("CreatedBy")),
        "pipeline_version_id": str(description["PipelineVersionId"]) if description.get("PipelineVersionId") else None,
        "console": console_url(pipeline, _execution_id(description)),
        "console_pipeline": console_url(pipeline),
    }
    if steps:
        failed = failing_steps(steps)
        if failed:
            items["failed_step"] = ", ".join(step_label(step) for step in failed)
    return {key: value for key, value in items.items() if value}


def _wait(aws: AWS, client: Any, arn: str, params: GetParams) -> dict[str, Any]:
    """Wait for a running execution with put's waiter; a timeout fails the get rather than write a stale state."""
    from sagemaker_pipeline_resource.execution.waiting import wait  # noqa: PLC0415 - waiter imports this module (a cycle)

    print(
        f"get: {arn} is still running: waiting for it to finish (params.wait: false writes its current state).",
        file=sys.stderr,
        flush=True,
    )
    transient = functools.partial(is_transient, refreshable=aws.refreshable)  # as put's wait: ride out outages
    result = wait(client, arn, params.poll_interval, params.timeout, is_transient=transient)
    if result.timed_out:
        raise ResourceError(
            f"The execution {arn} was still {result.description.get('PipelineExecutionStatus')} after "
            f"params.timeout ({params.timeout:g} s).",
            "Raise params.timeout, or set params.wait: false to get its current state without waiting.",
        )
    return result.description


def download(aws: AWS, version: ExecutionVersion, destination: Path, params: GetParams) -> dict[str, str]:
    """Write the execution's files into ``destination`` and return the metadata for the UI."""
    config = aws.config
    execution = version.arn
    if not config.pipeline_arn.owns(execution):
        raise ResourceError(
            f"The version {version.execution_arn} is an execution of another pipeline, not of {config.pipeline}.",
            "Check that the get step and its version (or `version:` pin) belong to this resource.",
        )
    inputs.writable_directory(destination, "The destination directory")  # before any AWS call
    arn = version.execution_arn
    with translate_errors(f"describing the execution {arn}", config):
        client = aws.sagemaker()
        description = client.describe_pipeline_execution(PipelineExecutionArn=arn)
        if params.wait and description.get("PipelineExecutionStatus") in RUNNING_STATUSES:
            description = _wait(aws, client, arn, params)
        jsonio.write(destination / "execution.json", description)
        (destination / "execution_arn").write_text(arn + "\n", encoding="utf-8")
        (destination / "status").write_text(
            str(description.get("PipelineExecutionStatus", "")) + "\n", encoding="utf-8"
        )
        if not params.skip_definition:
            definition = client.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
            text = definition.get("PipelineDefinition", "")
            try:
                parsed: object = json.loads(text)
            except ValueError:
                parsed = text
            jsonio.write(destination / "pipeline.json", parsed)
        steps: list[dict[str, Any]] | None = None
        # With skip_steps the steps are still listed when the execution has failed steps, for the
        # failed_step metadata (one call); steps.json is not written.
        if not params.skip_steps or description.get("PipelineExecutionStatus") in STATUSES_WITH_FAILED_STEPS:
            steps = list_steps(client, arn)
        if not params.skip_steps:
            jsonio.write(destination / "steps.json", steps)
            write_artifacts(destination, steps or [])
        if not params.skip_parameters:
            jsonio.write(destination / "parameters.json", list_parameters(client, arn))
    return metadata(description, steps, config.pipeline_arn)
