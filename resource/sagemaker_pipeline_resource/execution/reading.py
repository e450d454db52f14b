"""Reading one execution as every step shows it: its steps and parameters (all pages), the failing steps,
durations, who started it, console links, and the metadata Concourse shows for a version."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sagemaker_pipeline_resource import jsonio
from sagemaker_pipeline_resource.config.arns import PipelineArn
from sagemaker_pipeline_resource.config.params import RUNNING_STATUSES
from sagemaker_pipeline_resource.execution.pipeline_steps import failed_steps, step_label
from sagemaker_pipeline_resource.versions import marker

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
