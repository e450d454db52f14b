"""AWS's answers, read defensively: a body that is not JSON (a proxy's HTML page, ``null``) or that lacks
a field every caller relies on is one error paragraph naming the operation and the endpoint, never a crash
or an empty result (botocore event hooks on every SageMaker client)."""

from __future__ import annotations

import json
import re
from typing import Any

from sagemaker_pipeline_resource.errors import ResourceError

# Values the resource prints or parses, which must have their documented form (not any text).
_FORMS = {
    "PipelineExecutionArn": re.compile(
        r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:pipeline/[A-Za-z0-9-]{1,256}/execution/[A-Za-z0-9]{1,64}"
    ),
    "PipelineExecutionStatus": re.compile(r"[A-Za-z]{1,32}"),
    "StepStatus": re.compile(r"[A-Za-z]{1,32}"),
}


def body_problem(status: int, body: bytes) -> str | None:
    """What makes an answer's body unreadable as a JSON service's answer (None if nothing): never its text.

    An error status with a body that is not JSON (a proxy's HTML page for a 431) is left to botocore, which
    makes an error of the status and the page's title.
    """
    if not body.strip():
        return None
    try:
        document = json.loads(body)
    except ValueError:
        if status >= 300:
            return None
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "not JSON"
        return f"it is {kind} ({len(body)} bytes), with HTTP status {status}"
    if not isinstance(document, dict):
        return f"it is {'null' if document is None else 'not a JSON object'}, with HTTP status {status}"
    return None


def answer_problem(operation: str, parsed: object) -> str | None:
    """What makes a parsed answer unusable (None if nothing): a field missing, or not of its form."""
    if not isinstance(parsed, dict):
        return "it is not a JSON object"
    listed, keys = _REQUIRED.get(operation, (None, ()))
    items: object = [parsed] if listed is None else parsed.get(listed)
    if not isinstance(items, list):
        return f"it has no {listed} list"
    for number, item in enumerate(items, start=1):
        where = "" if listed is None else f"entry {number} of {listed} "
        if not isinstance(item, dict):
            return f"{where}is not an object"
        missing = [key for key in keys if item.get(key) in (None, "")]
        if missing:
            return f"{where}has no {', '.join(missing)}"
        for key, form in _FORMS.items():
            if key in item and not (isinstance(item[key], str) and form.fullmatch(item[key])):
                return f"{where}has a {key} that is not of its form"
    return None


def _unreadable(operation: str, endpoint: str, problem: str) -> ResourceError:
    return ResourceError(
        f"The answer of SageMaker's {operation} from {endpoint} could not be read: {problem}.",
        f"Check that {endpoint} is the SageMaker API (not a proxy's or another service's page); if it is, try "
        "again later.",
    )


def check_body(endpoint: str, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's ``before-parse`` hook: refuse a body that is not a JSON object (``null``, a proxy's HTML page
    with 200) before botocore's parser fails on it or reads it as an empty answer."""
    problem = body_problem(int(response_dict.get("status_code") or 0), bytes(response_dict.get("body") or b""))
    if problem:
        raise _unreadable(operation_model.name, endpoint, problem)


def check_answer(endpoint: str, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    """botocore's ``after-call`` hook: refuse an answer the resource cannot read, as one error paragraph
    naming the operation and the endpoint (rather than a crash, or an empty answer taken for a real one)."""
    problem = answer_problem(model.name, parsed) if http_response.status_code < 300 else None
    if problem:
        raise _unreadable(model.name, endpoint, problem)


# What the resource reads from each answer: (list key, or None for the answer itself; keys each item must have).
# A missing list is an empty one to botocore, so an answer that is not what it seems (an HTML page with 200:
# botocore parses it as an empty answer) would look like "no executions" if the list were not required.
_REQUIRED: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "ListPipelineExecutions": ("PipelineExecutionSummaries", ("PipelineExecutionArn",)),
    "ListPipelineExecutionSteps": ("PipelineExecutionSteps", ()),
    "ListPipelineParametersForExecution": ("PipelineParameters", ("Name", "Value")),
    "ListPipelineVersions": ("PipelineVersionSummaries", ("PipelineVersionId",)),
    "DescribePipelineExecution": (None, ("PipelineExecutionArn", "PipelineExecutionStatus")),
    "StartPipelineExecution": (None, ("PipelineExecutionArn",)),
    "RetryPipelineExecution": (None, ("PipelineExecutionArn",)),
    "DescribePipeline": (None, ("PipelineArn",)),
}
