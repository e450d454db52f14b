"""``check``: list the pipeline's executions and emit the finished ones as versions (rule: :mod:`history`).

Cost: ListPipelineExecutions, newest first, 100 per page, stopping as soon as the answer is known. When
the previous version is on the first page (the normal case, executions being few between two checks) a
check is one API call; at most ``max_pages`` calls otherwise.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any

from sagemaker_pipeline_resource.aws import AWS, translate_errors
from sagemaker_pipeline_resource.config import SourceConfig
from sagemaker_pipeline_resource.history import Execution, Frontier, Policy, frontier, select
from sagemaker_pipeline_resource.marker import scope_of
from sagemaker_pipeline_resource.version import ExecutionVersion

PAGE_SIZE = 100


def pages(client: Any, config: SourceConfig) -> Iterator[list[Execution]]:
    paginator = client.get_paginator("list_pipeline_executions")
    pages = paginator.paginate(
        PipelineName=str(config.pipeline_arn),
        SortBy="CreationTime",
        SortOrder="Descending",
        PaginationConfig={"PageSize": PAGE_SIZE, "MaxItems": PAGE_SIZE * config.max_pages},
    )
    for page in pages:
        yield [Execution.from_summary(summary) for summary in page.get("PipelineExecutionSummaries", [])]


def policy_of(config: SourceConfig) -> Policy:
    return Policy(
        statuses=frozenset(config.statuses),
        hold_back=dt.timedelta(hours=config.hold_back_hours),
        now=dt.datetime.now(dt.timezone.utc),
        scope=scope_of(config),
    )


def pending(client: Any, config: SourceConfig, own: str | None = None, request: str | None = None) -> Frontier:
    """For put: the first execution still pending now (its version will sit just before it), the summary of
    ``own`` and an execution an earlier attempt of the same put started (see :func:`history.frontier`)."""
    return frontier(pages(client, config), policy_of(config), own, request)


def check(aws: AWS, previous: ExecutionVersion | None) -> list[ExecutionVersion]:
    config = aws.config
    policy = policy_of(config)
    with translate_errors(f"listing the executions of {config.pipeline_arn}", config):
        client = aws.sagemaker()
        outcome = select(pages(client, config), previous.execution_arn if previous else None, policy)
    if previous is not None and not outcome.previous_found:
        print(
            f"check: the previous version {previous.execution_arn} was not among the newest "
            f"{outcome.scanned} executions (deleted, aged out, or beyond max_pages={config.max_pages}): "
            "starting again from the newest.",
            file=sys.stderr,
        )
    held = f"; held back by {outcome.held_by.arn} ({outcome.held_by.status})" if outcome.held_by else ""
    print(
        f"check: {outcome.pages} page(s), {outcome.scanned} execution(s) read, "
        f"{len(outcome.executions)} version(s){held}",
        file=sys.stderr,
    )
    return [ExecutionVersion(execution.arn) for execution in outcome.executions]
