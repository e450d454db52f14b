"""``doctor``: check a source configuration without touching a pipeline's executions.

Reads a ``source``, then reports each step that a real check depends on: the configuration is valid, where
the credentials come from, who AWS says they are (sts:GetCallerIdentity), and that the pipeline can be
described and its executions listed. Stops at the first failure with the same message a step would give.
"""

from __future__ import annotations

import sys
from typing import Any

from sagemaker_pipeline_resource.aws.errors import translate_errors
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.config.params import SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError, printable


def doctor(source: dict[str, Any]) -> str:
    lines: list[str] = []

    def step(name: str, detail: str) -> None:
        lines.append(f"ok   {name}: {detail}")

    try:
        config = SourceConfig.from_json(source)
        step("configuration", f"pipeline {config.pipeline_arn.name} in {config.effective_region}")
        aws = AWS(config)
        aws.resolved_credentials()
        step("credentials", aws.credential_source)
        with translate_errors("calling sts:GetCallerIdentity", config, service="sts"):
            identity = aws.sts().get_caller_identity()
        step("identity", f"{identity.get('Arn')} (account {identity.get('Account')})")
        with translate_errors(f"describing {config.pipeline_arn}", config):
            client = aws.sagemaker()
            pipeline = client.describe_pipeline(PipelineName=str(config.pipeline_arn))
            step("pipeline", f"{pipeline.get('PipelineName')} is {pipeline.get('PipelineStatus', 'present')}")
            listed = client.list_pipeline_executions(PipelineName=str(config.pipeline_arn), MaxResults=1)
        newest = listed.get("PipelineExecutionSummaries", [])
        step(
            "executions",
            f"newest is {newest[0]['PipelineExecutionArn']} ({newest[0].get('PipelineExecutionStatus')})"
            if newest
            else "none yet",
        )
    except ResourceError as error:
        # The steps that passed go to stderr first; the failure is then the one error paragraph.
        for line in lines:
            print(printable(line), file=sys.stderr)
        raise ResourceError(f"doctor found a problem: FAIL {error.message}", error.hint) from error
    return "\n".join(lines)
