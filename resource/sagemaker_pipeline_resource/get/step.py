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

import functools
import json
import sys
from pathlib import Path
from typing import Any

from sagemaker_pipeline_resource import inputs, jsonio
from sagemaker_pipeline_resource.aws.errors import translate_errors
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.aws.transient import is_transient
from sagemaker_pipeline_resource.config.params import RUNNING_STATUSES, GetParams
from sagemaker_pipeline_resource.errors import ResourceError
from sagemaker_pipeline_resource.execution.reading import (
    STATUSES_WITH_FAILED_STEPS,
    list_parameters,
    list_steps,
    metadata,
)
from sagemaker_pipeline_resource.get.artifacts import write_artifacts
from sagemaker_pipeline_resource.versions.version import ExecutionVersion


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
