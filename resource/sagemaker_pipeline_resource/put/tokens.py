"""Idempotency: the ClientRequestToken of a put, derived from the Concourse build and the request, and
numbered per attempt.

boto3 fills in a random token when none is given, which protects nothing across a retried step. Here it is
derived from the build (team, pipeline, instance vars, job, build name and id) and from the request itself
(with ``definition_file``, the pipeline version deployed), so a put step that runs again after its response
was lost gets back the execution the first attempt started; two different puts in one build still differ.
Concourse's ``attempts:`` runs the same step again after a failure and says nothing about which attempt it
is, so a start numbers its attempts itself (:func:`attempt`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from concoursetools import BuildMetadata

from sagemaker_pipeline_resource.versions.marker import request_of
from sagemaker_pipeline_resource.versions.ordering import Execution

T = TypeVar("T")


def in_concourse(build: BuildMetadata) -> bool:
    """False when run by hand (``BUILD_ID`` unset): no build to name, link to, or derive a token from."""
    return bool(build.BUILD_ID)


def request_token(build: BuildMetadata, action: str, arguments: dict[str, Any]) -> str:
    """The ClientRequestToken: the same build making the same request always gets the same token."""
    if not in_concourse(build):
        print("put: no Concourse build environment (BUILD_ID...): the request is not idempotent.", file=sys.stderr)
        return uuid.uuid4().hex
    identity = {
        "team": build.BUILD_TEAM_NAME,
        "pipeline": build.BUILD_PIPELINE_NAME,
        "instance_vars": build.BUILD_PIPELINE_INSTANCE_VARS,
        "job": build.BUILD_JOB_NAME,
        "build_name": build.BUILD_NAME,
        "build_id": build.BUILD_ID,
        "action": action,
        "request": arguments,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def attempt_token(base: str, attempt: int) -> str:
    """The token of the ``attempt``-th execution one put step starts: ``base`` itself first, then a hash of
    it and the number, so that every run of the step computes the same sequence and can find each one."""
    if attempt == 1:
        return base
    return hashlib.sha256(f"{base}/attempt {attempt}".encode()).hexdigest()


# An earlier attempt's execution in one of these is spent: a step that runs again starts the next one. It
# failed (or ended with failures), or was stopped (stop_on_timeout, an abort, by hand) or is being stopped.
SPENT = frozenset({"Failed", "CompletedWithFailures", "Stopped", "Stopping"})


def attempt(base: str, by_request: Mapping[str, Execution]) -> tuple[str, Execution | None]:
    """The token this run of a start sends, and the execution of an earlier attempt it re-attaches to.

    ``by_request``: the listed executions by their marker's request hash. Attempt 1's token is ``base``;
    while the execution that attempt n started is spent, attempt n + 1 is looked for; the first attempt with
    no execution starts one, one whose execution runs or succeeded is re-attached to (the same token and
    request: AWS hands back that execution).
    """
    for attempt in itertools.count(1):
        token = attempt_token(base, attempt)
        earlier = by_request.get(request_of(token))
        if earlier is None or earlier.status not in SPENT:
            return token, earlier
        print(f"put: {earlier.arn}, started by an earlier attempt of this step, is {earlier.status}: this attempt "
              "starts another", file=sys.stderr)  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover
