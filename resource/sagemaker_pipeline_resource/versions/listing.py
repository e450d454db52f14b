"""The executions as check and put list them: ListPipelineExecutions newest first, one page of 100 at a time,
read lazily; the ordering policy of a ``source``; and where a version saved now sits (for put)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sagemaker_pipeline_resource.config.params import SourceConfig
from sagemaker_pipeline_resource.versions.marker import scope_of
from sagemaker_pipeline_resource.versions.ordering import Execution, Frontier, Policy, frontier

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
