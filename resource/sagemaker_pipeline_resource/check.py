"""``check``: list the pipeline's executions and emit the finished ones as versions (rule: :mod:`history`).

Cost: ListPipelineExecutions, newest first, 100 per page, stopping as soon as the answer is known. When
the previous version is on the first page (the normal case, executions being few between two checks) a
check is one API call; at most ``max_pages`` calls otherwise.
"""

from __future__ import annotations

import sys

from sagemaker_pipeline_resource.aws.errors import translate_errors
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.versions import listing
from sagemaker_pipeline_resource.versions.ordering import select
from sagemaker_pipeline_resource.versions.version import ExecutionVersion


def check(aws: AWS, previous: ExecutionVersion | None) -> list[ExecutionVersion]:
    config = aws.config
    policy = listing.policy_of(config)
    with translate_errors(f"listing the executions of {config.pipeline_arn}", config):
        client = aws.sagemaker()
        outcome = select(
            listing.pages(client, config), previous.execution_arn if previous else None, policy, listing.locator(client)
        )
    if outcome.undecided and outcome.scanned >= listing.PAGE_SIZE * config.max_pages:
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
