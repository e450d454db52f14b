"""``check``: list the pipeline's executions and emit the finished ones as versions (rule: :mod:`history`).

Cost: ListPipelineExecutions, newest first, 100 per page, stopping as soon as the answer is known. When
the previous version is on the first page (the normal case, executions being few between two checks) a
check is one API call; at most ``max_pages`` calls otherwise.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from typing import Any

from sagemaker_pipeline_resource.aws.session import AWS, translate_errors
from sagemaker_pipeline_resource.config.params import SourceConfig
from sagemaker_pipeline_resource.versions.marker import scope_of
from sagemaker_pipeline_resource.versions.ordering import Execution, Frontier, Policy, frontier, select
from sagemaker_pipeline_resource.versions.version import ExecutionVersion

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


def utc_now() -> dt.datetime:
    """The clock of the hold-back window (the version property tests drive their own)."""
    return dt.datetime.now(dt.timezone.utc)


def policy_of(config: SourceConfig) -> Policy:
    return Policy(
        statuses=frozenset(config.statuses),
        hold_back=dt.timedelta(hours=config.hold_back_hours),
        now=utc_now(),
        scope=scope_of(config),
    )


def pending(
    client: Any,
    config: SourceConfig,
    own: str | None = None,
    request: str | None = None,
    own_holds: bool = False,
) -> Frontier:
    """For put: where a version saved now sits, the summary of ``own`` and an execution an earlier attempt of
    the same put started (see :func:`history.frontier`)."""
    return frontier(pages(client, config), policy_of(config), own, request, own_holds)


def locator(client: Any) -> Callable[[str], dt.datetime | None]:
    """The start time of an execution, or None when it no longer exists (for a previous version that is not
    on the first page: gone, or simply older)."""

    def locate(arn: str) -> dt.datetime | None:
        try:
            description = client.describe_pipeline_execution(PipelineExecutionArn=arn)
        except client.exceptions.ResourceNotFound:
            return None
        created = description.get("CreationTime")
        return created if isinstance(created, dt.datetime) else dt.datetime.now(dt.timezone.utc)

    return locate


def check(aws: AWS, previous: ExecutionVersion | None) -> list[ExecutionVersion]:
    config = aws.config
    policy = policy_of(config)
    with translate_errors(f"listing the executions of {config.pipeline_arn}", config):
        client = aws.sagemaker()
        outcome = select(pages(client, config), previous.execution_arn if previous else None, policy, locator(client))
    if outcome.undecided and outcome.scanned >= PAGE_SIZE * config.max_pages:
        print(
            f"check: warning: read max_pages={config.max_pages} pages ({outcome.scanned} executions) before the "
            "answer was certain: executions further back (a pending one, or where a put's version sits) were not "
            "read, so this answer may miss versions. Raise source.max_pages.",
            file=sys.stderr,
        )
    if outcome.lagging:
        print(
            "check: the listing does not show the previous version yet (AWS's listing lags): nothing new.",
            file=sys.stderr,
        )
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
