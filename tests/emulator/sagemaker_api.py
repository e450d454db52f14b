"""The SageMaker Pipelines operations the emulator answers itself instead of passing them to moto.

This module is the one place where the emulator departs from stock moto 5.2.5: every operation in
:data:`INTERCEPTED` is answered here, each with a comment saying what it corrects. Everything else
(other SageMaker operations, STS, S3, IAM, ...) goes to moto unchanged.

Pipelines are owned here too (not only executions): moto keeps pipelines by exact name, so it cannot
accept ARNs, lower-case the name in the ARN as SageMaker does, answer ``ResourceNotFound``, or report a
``LastRunTime`` for executions it does not know about. Every request is first checked against the
botocore service model (:mod:`tests.emulator.validation`), as AWS does before the service code runs.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.s3.models import s3_backends

from tests.emulator import lifecycle, strict
from tests.emulator.errors import conflict, not_found, validation_error
from tests.emulator.model import (
    DEFAULT_ACCOUNT,
    DEFAULT_PAGE_SIZE,
    Execution,
    Pipeline,
    PipelineVersion,
    now_ms,
    parse_pipeline_arn,
    partition_of,
    seconds,
)
from tests.emulator.paging import decode_token, encode_token
from tests.emulator.steps import entry_key, render_steps
from tests.emulator.store import Store
from tests.emulator.validation import RequestValidator


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the request's SigV4 scope and access key: pipelines are per account and region."""

    account: str = DEFAULT_ACCOUNT
    region: str = "us-east-1"


Handler = Callable[["PipelinesApi", dict[str, Any], Caller], dict[str, Any]]

# Operation -> handler. The comment on each says what it corrects versus stock moto 5.2.5.
INTERCEPTED: dict[str, Handler] = {}


def _handles(operation: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        INTERCEPTED[operation] = handler
        return handler

    return register


class PipelinesApi:
    """Answers the intercepted operations from the :class:`Store`."""

    def __init__(self, store: Store, *, default_page_size: int = DEFAULT_PAGE_SIZE) -> None:
        self.store = store
        self.validator = RequestValidator()
        self.default_page_size = default_page_size

    def handles(self, operation: str, params: dict[str, Any]) -> bool:
        """Whether ``operation`` is ours; tag calls are ours only for pipeline ARNs."""
        if operation in _TAG_OPERATIONS:
            return parse_pipeline_arn(str(params.get("ResourceArn", ""))) is not None
        return operation in INTERCEPTED

    def call(self, operation: str, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        self.validator.validate(operation, params, required=_ALSO_REQUIRED.get(operation, ()))
        with self.store.lock:
            return INTERCEPTED[operation](self, params, caller)

    def page_size(self, params: dict[str, Any]) -> int:
        return int(params.get("MaxResults") or self.default_page_size)


# Members the service needs although the model leaves them optional.
_ALSO_REQUIRED = {"ListPipelineExecutionSteps": ("PipelineExecutionArn",)}
_TAG_OPERATIONS = ("AddTags", "ListTags", "DeleteTags")


# Pipelines -----------------------------------------------------------------------------------------


# vs moto: idempotent on ClientRequestToken; rejects a definition that is not a JSON document (moto
# stores anything); ARN lower-cases the name as SageMaker does; names are unique case-insensitively.
@_handles("CreatePipeline")
def create_pipeline(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    token_key = ("CreatePipeline", caller.account, caller.region, params["ClientRequestToken"])
    known = api.store.tokens.get(token_key)
    if known is not None and any(p.arn == known for p in api.store.pipelines.values()):
        return {"PipelineArn": known}
    definition = _definition(params, caller)
    pipeline = api.store.create_pipeline(
        account=caller.account,
        region=caller.region,
        name=params["PipelineName"],
        definition=definition,
        role_arn=params["RoleArn"],
        display_name=params.get("PipelineDisplayName"),
        description=params.get("PipelineDescription"),
        parallelism=params.get("ParallelismConfiguration"),
        tags=params.get("Tags"),
    )
    api.store.tokens[token_key] = pipeline.arn
    return {"PipelineArn": pipeline.arn}


def _definition(params: dict[str, Any], caller: Caller) -> str:
    inline: str | None = params.get("PipelineDefinition")
    location: dict[str, Any] | None = params.get("PipelineDefinitionS3Location")
    if inline and location:
        raise validation_error("Both Pipeline Definition and Pipeline Definition S3 Location shouldn't be present")
    if not inline and not location:
        raise validation_error("Either Pipeline Definition or Pipeline Definition S3 location should be provided")
    text = inline if inline else _read_s3_definition(location or {}, caller)
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise validation_error("Pipeline definition is not a valid JSON object.")
    return str(text)


def _read_s3_definition(location: dict[str, Any], caller: Caller) -> str:
    """PipelineDefinitionS3Location: read the object from moto's S3 in this same process."""
    try:
        backend = s3_backends[caller.account][partition_of(caller.region)]
        key = backend.get_object(location["Bucket"], location["ObjectKey"])
    except Exception as error:  # moto raises its own S3 errors; SageMaker reports a validation error
        raise validation_error(
            f"Unable to read pipeline definition from s3://{location['Bucket']}/{location['ObjectKey']}."
        ) from error
    if key is None:
        raise validation_error(
            f"Unable to read pipeline definition from s3://{location['Bucket']}/{location['ObjectKey']}."
        )
    return bytes(key.value).decode()


# vs moto: accepts a name (any case) or an ARN (moto: exact name only); ResourceNotFound instead of
# ValidationException; omits CreatedBy/LastModifiedBy (moto invents a Studio user profile for IAM
# callers); honours PipelineVersionId; LastRunTime follows the executions.
@_handles("DescribePipeline")
def describe_pipeline(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    pipeline = api.store.find_pipeline(params["PipelineName"], caller.account, caller.region)
    version = pipeline.latest
    if params.get("PipelineVersionId") is not None:
        version = _version(pipeline, int(params["PipelineVersionId"]))
    out: dict[str, Any] = {
        "PipelineArn": pipeline.arn,
        "PipelineName": pipeline.name,
        "PipelineDisplayName": pipeline.display_name,
        "PipelineDefinition": version.definition,
        "RoleArn": pipeline.role_arn,
        "PipelineStatus": "Active",
        "CreationTime": seconds(pipeline.created_ms),
        "LastModifiedTime": seconds(pipeline.modified_ms),
    }
    if pipeline.description is not None:
        out["PipelineDescription"] = pipeline.description
    if pipeline.last_run_ms is not None:
        out["LastRunTime"] = seconds(pipeline.last_run_ms)
    if pipeline.parallelism:
        out["ParallelismConfiguration"] = pipeline.parallelism
    return out


def _version(pipeline: Pipeline, version_id: int) -> PipelineVersion:
    for version in pipeline.versions:
        if version.version_id == version_id:
            return version
    raise not_found(f"Pipeline version {version_id} of pipeline '{pipeline.arn}' does not exist.")


# vs moto: a new definition makes a new pipeline version (moto overwrites in place and returns no
# PipelineVersionId); executions keep the definition they started with.
@_handles("UpdatePipeline")
def update_pipeline(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    pipeline = api.store.find_pipeline(params["PipelineName"], caller.account, caller.region)
    if params.get("PipelineDefinition") or params.get("PipelineDefinitionS3Location"):
        api.store.add_version(pipeline, _definition(params, caller))
    for member, attribute in (
        ("PipelineDisplayName", "display_name"),
        ("PipelineDescription", "description"),
        ("RoleArn", "role_arn"),
        ("ParallelismConfiguration", "parallelism"),
    ):
        if params.get(member) is not None:
            setattr(pipeline, attribute, params[member])
    pipeline.modified_ms = now_ms()
    return {"PipelineArn": pipeline.arn, "PipelineVersionId": pipeline.latest.version_id}


# vs moto: refuses (ConflictException) while executions are running, as AWS documents; idempotent.
@_handles("DeletePipeline")
def delete_pipeline(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    token_key = ("DeletePipeline", caller.account, caller.region, params["ClientRequestToken"])
    if token_key in api.store.tokens:
        return {"PipelineArn": api.store.tokens[token_key]}
    pipeline = api.store.find_pipeline(params["PipelineName"], caller.account, caller.region)
    if pipeline.executions.running():
        raise conflict(
            f"Pipeline '{pipeline.arn}' has running executions. "
            "Stop them with StopPipelineExecution before deleting it."
        )
    api.store.delete_pipeline(pipeline)
    api.store.tokens[token_key] = pipeline.arn
    return {"PipelineArn": pipeline.arn}


# vs moto: the prefix filter is a prefix (moto: substring), filters apply before paging, opaque tokens.
@_handles("ListPipelines")
def list_pipelines(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    prefix = (params.get("PipelineNamePrefix") or "").lower()
    after_us, before_us = _time_us(params.get("CreatedAfter")), _time_us(params.get("CreatedBefore"))
    by_name = params.get("SortBy") == "Name"
    descending = params.get("SortOrder", "Descending") == "Descending"
    pipelines = [
        p
        for p in api.store.pipelines.values()
        if (p.account, p.region) == (caller.account, caller.region)
        and p.name.lower().startswith(prefix)
        and (after_us is None or p.created_ms * 1000 > after_us)
        and (before_us is None or p.created_ms * 1000 < before_us)
    ]
    pipelines.sort(key=lambda p: (p.name.lower(), p.created_ms) if by_name else (p.created_ms, p.name.lower()))
    if descending:
        pipelines.reverse()
    kind = f"pipelines:{params.get('SortBy', 'CreationTime')}:{descending}"
    page, token = _paged(api, params, pipelines, kind, key=lambda p: p.arn)
    out: dict[str, Any] = {
        "PipelineSummaries": [
            {
                "PipelineArn": p.arn,
                "PipelineName": p.name,
                "PipelineDisplayName": p.display_name,
                **({"PipelineDescription": p.description} if p.description is not None else {}),
                "RoleArn": p.role_arn,
                "CreationTime": seconds(p.created_ms),
                "LastModifiedTime": seconds(p.modified_ms),
                **({"LastExecutionTime": seconds(p.last_run_ms)} if p.last_run_ms is not None else {}),
            }
            for p in page
        ]
    }
    return _with_token(out, token)


def _resume_after(items: list[Any], cursor: Any, *, key: Callable[[Any], Any]) -> int:
    if cursor is None:
        return 0
    for index, item in enumerate(items):
        if key(item) == cursor:
            return index + 1
    raise validation_error("Invalid pagination token.")


def _paged(
    api: PipelinesApi, params: dict[str, Any], items: list[Any], kind: str, key: Callable[[Any], Any]
) -> tuple[list[Any], str | None]:
    """One page of ``items`` (already filtered and ordered) after the request's NextToken, and the next token."""
    start = _resume_after(items, decode_token(params.get("NextToken"), kind), key=key)
    size = api.page_size(params)
    page = items[start : start + size]
    return page, (encode_token(kind, key(page[-1])) if start + size < len(items) else None)


def _with_token(out: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token is not None:
        out["NextToken"] = token
    return out


# vs moto: not implemented there (HTTP 500). One version per CreatePipeline/UpdatePipeline definition.
@_handles("ListPipelineVersions")
def list_pipeline_versions(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    pipeline = api.store.find_pipeline(params["PipelineName"], caller.account, caller.region)
    after_us, before_us = _time_us(params.get("CreatedAfter")), _time_us(params.get("CreatedBefore"))
    versions = [
        v
        for v in pipeline.versions
        if (after_us is None or v.created_ms * 1000 > after_us)
        and (before_us is None or v.created_ms * 1000 < before_us)
    ]
    descending = params.get("SortOrder", "Descending") == "Descending"
    if descending:
        versions.reverse()
    kind = f"versions:{pipeline.arn}:{descending}"
    page, token = _paged(api, params, versions, kind, key=lambda v: v.version_id)
    last_runs: dict[int, Execution] = {}
    for execution in pipeline.executions:
        last_runs[execution.version.version_id] = execution  # creation order: the last one wins
    out: dict[str, Any] = {
        "PipelineVersionSummaries": [
            {
                "PipelineArn": pipeline.arn,
                "PipelineVersionId": v.version_id,
                "CreationTime": seconds(v.created_ms),
                **(
                    {"LastExecutionPipelineExecutionArn": last_runs[v.version_id].arn}
                    if v.version_id in last_runs
                    else {}
                ),
            }
            for v in page
        ]
    }
    return _with_token(out, token)


# Executions ----------------------------------------------------------------------------------------


# vs moto: name or ARN; idempotent on ClientRequestToken (moto starts a new execution per call);
# starts Executing (moto: Succeeded at once) and follows the lifecycle the test configured; honours
# PipelineVersionId and SelectiveExecutionConfig; unset display names default like AWS (execution-<ms>).
@_handles("StartPipelineExecution")
def start_pipeline_execution(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    pipeline = api.store.find_pipeline(params["PipelineName"], caller.account, caller.region)
    token_key = ("StartPipelineExecution", pipeline.arn, params["ClientRequestToken"])
    now = now_ms()
    known = strict.reuse(api.store.strict, api.store.token_uses.get(token_key), params, now)
    if known is not None and known in api.store.executions:
        return {"PipelineExecutionArn": known}
    version = pipeline.latest
    if params.get("PipelineVersionId") is not None:
        version = _version(pipeline, int(params["PipelineVersionId"]))
    selective = params.get("SelectiveExecutionConfig")
    if selective:
        _check_selective(api, selective, version, caller)
    parameters = {p["Name"]: p.get("Value", "") for p in params.get("PipelineParameters") or []}
    execution = api.store.new_execution(
        pipeline,
        created_ms=now,
        display_name=params.get("PipelineExecutionDisplayName"),
        description=params.get("PipelineExecutionDescription"),
        parameters=parameters,
        version=version,
        parallelism=params.get("ParallelismConfiguration"),
        selective=selective,
    )
    execution.plan = lifecycle.plan_for_start(api.store.lifecycle, now)
    execution.fresh = True
    if api.store.strict.start_delay_seconds:
        execution.started_ms = now + round(api.store.strict.start_delay_seconds * 1000)
    api.store.token_uses[token_key] = strict.TokenUse(execution.arn, strict.fingerprint(params), now)
    return {"PipelineExecutionArn": execution.arn}


def _check_selective(api: PipelinesApi, selective: dict[str, Any], version: PipelineVersion, caller: Caller) -> None:
    names = {s.name for s in version.steps}
    unknown = [s["StepName"] for s in selective.get("SelectedSteps", []) if s.get("StepName") not in names]
    if unknown:
        raise validation_error(f"Selected steps {unknown} are not part of the pipeline definition.")
    source = selective.get("SourcePipelineExecutionArn")
    if source:
        api.store.find_execution(source, caller.account, caller.region)


# vs moto: unknown/malformed ARNs answer ResourceNotFound/ValidationException (moto: HTML 500); the
# status follows the lifecycle (this call is a poll); FailureReason only when Failed (moto: always "");
# CreatedBy/LastModifiedBy omitted for IAM callers (moto invents a user profile); PipelineVersionId,
# SelectiveExecutionConfig and the resolved PipelineExperimentConfig are reported.
@_handles("DescribePipelineExecution")
def describe_pipeline_execution(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    execution = _read_execution(api, params, caller)
    lifecycle.observe(execution, now_ms(), poll=True)
    return describe(execution)


def _read_execution(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> Execution:
    """An execution read by its ARN, which a just-started one may not be yet (strict.not_found_*)."""
    execution = api.store.find_execution(params["PipelineExecutionArn"], caller.account, caller.region)
    if execution.fresh:
        execution.reads += 1
        strict.check_visible(api.store.strict, execution.arn, execution.created_ms, execution.reads - 1, now_ms())
        execution.fresh = False  # found once: found from now on
    return execution


def describe(execution: Execution) -> dict[str, Any]:
    """DescribePipelineExecution's answer (also used by the control API's own view)."""
    out: dict[str, Any] = {
        "PipelineArn": execution.pipeline.arn,
        "PipelineExecutionArn": execution.arn,
        "PipelineExecutionDisplayName": execution.display_name,
        "PipelineExecutionStatus": execution.status,
    }
    if execution.description is not None:
        out["PipelineExecutionDescription"] = execution.description
    experiment = _experiment_config(execution)
    if experiment:
        out["PipelineExperimentConfig"] = experiment
    if execution.status == "Failed":
        out["FailureReason"] = execution.failure_reason
    out["CreationTime"] = seconds(execution.created_ms)
    out["LastModifiedTime"] = seconds(execution.modified_ms)
    if execution.created_by:
        out["CreatedBy"] = execution.created_by
        out["LastModifiedBy"] = execution.created_by
    if execution.parallelism:
        out["ParallelismConfiguration"] = execution.parallelism
    if execution.selective:
        out["SelectiveExecutionConfig"] = execution.selective
    out["PipelineVersionId"] = execution.version.version_id
    return out


def _experiment_config(execution: Execution) -> dict[str, str]:
    """Resolve the definition's PipelineExperimentConfig the way SageMaker does at run time."""
    config = execution.version.experiment_config or {}
    values = {
        "Execution.PipelineName": execution.pipeline.name.lower(),
        "Execution.PipelineExecutionId": execution.execution_id,
    }
    out: dict[str, str] = {}
    for key in ("ExperimentName", "TrialName"):
        value = config.get(key)
        if isinstance(value, dict) and value.get("Get") in values:
            out[key] = values[value["Get"]]
        elif isinstance(value, str):
            out[key] = value
    return out


# vs moto: MaxResults (validated 1..100), NextToken paging, SortBy, SortOrder (default: newest first)
# and CreatedAfter/CreatedBefore are honoured (moto ignores all of them and returns everything); name or
# ARN; FailureReason only for failed executions (moto: the string "None"); listing observes executions
# but does not poll them (unless strict.list_is_poll); StartTime may trail CreationTime (strict.py);
# answered from sorted indexes, so 10,000 executions cost a binary search, not a sort.
@_handles("ListPipelineExecutions")
def list_pipeline_executions(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    pipeline = api.store.find_pipeline(params["PipelineName"], caller.account, caller.region)
    sort_by = params.get("SortBy", "CreationTime")
    ascending = params.get("SortOrder", "Descending") == "Ascending"
    kind = f"executions:{sort_by}:{'asc' if ascending else 'desc'}"
    cursor = decode_token(params.get("NextToken"), kind)
    after_us, before_us = _time_us(params.get("CreatedAfter")), _time_us(params.get("CreatedBefore"))
    # CreationTime is whole milliseconds: created*1000 > after_us  <=>  created > after_us // 1000.
    after_ms = None if after_us is None else after_us // 1000
    before_ms = None if before_us is None else -(-before_us // 1000)
    size = api.page_size(params)
    if sort_by == "PipelineExecutionArn":
        if cursor is not None and not isinstance(cursor, str):
            raise validation_error("Invalid pagination token.")
        page, more = pipeline.executions.page_by_arn(
            ascending=ascending, after_ms=after_ms, before_ms=before_ms, cursor=cursor, limit=size
        )
    else:
        time_cursor = _time_cursor(cursor)
        page, more = pipeline.executions.page_by_time(
            ascending=ascending, after_ms=after_ms, before_ms=before_ms, cursor=time_cursor, limit=size
        )
    now = now_ms()
    summaries = []
    for execution in page:
        lifecycle.observe(execution, now, poll=api.store.strict.list_is_poll)
        summaries.append(_summary(execution))
    out: dict[str, Any] = {"PipelineExecutionSummaries": summaries}
    if more and page:
        last = page[-1]
        out["NextToken"] = encode_token(kind, last.arn if sort_by == "PipelineExecutionArn" else list(last.time_key))
    return out


def _time_cursor(cursor: Any) -> tuple[int, str] | None:
    if cursor is None:
        return None
    if isinstance(cursor, list) and len(cursor) == 2 and isinstance(cursor[0], int) and isinstance(cursor[1], str):
        return (cursor[0], cursor[1])
    raise validation_error("Invalid pagination token.")


def _summary(execution: Execution) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PipelineExecutionArn": execution.arn,
        "StartTime": seconds(execution.start_ms),
        "PipelineExecutionStatus": execution.status,
    }
    if execution.description is not None:
        out["PipelineExecutionDescription"] = execution.description
    out["PipelineExecutionDisplayName"] = execution.display_name
    if execution.status == "Failed":
        out["PipelineExecutionFailureReason"] = execution.failure_reason
    return out


def _time_us(value: Any) -> int | None:
    """A request timestamp (epoch seconds, or an ISO 8601 string) as integer microseconds."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise validation_error(f"Invalid timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return round(value * 1_000_000)
    try:
        return round(float(value) * 1_000_000)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise validation_error(f"Invalid timestamp: {value!r}") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return calendar.timegm(parsed.utctimetuple()) * 1_000_000 + parsed.microsecond


# vs moto: not implemented there (HTTP 500). Steps follow the execution's state (see steps.py), with
# job metadata, NextToken paging and SortOrder (default: most recently started first).
@_handles("ListPipelineExecutionSteps")
def list_pipeline_execution_steps(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    execution = _read_execution(api, params, caller)
    now = now_ms()
    lifecycle.observe(execution, now, poll=False)
    steps = render_steps(execution, now)
    ascending = params.get("SortOrder", "Descending") == "Ascending"
    if not ascending:
        steps.reverse()
    kind = f"steps:{execution.arn}:{'asc' if ascending else 'desc'}"
    page, token = _paged(api, params, steps, kind, key=entry_key)
    return _with_token({"PipelineExecutionSteps": page}, token)


# vs moto: MaxResults/NextToken paging (moto returns everything); unknown ARN is ResourceNotFound (moto:
# 500); definition defaults are included alongside the values given at start.
@_handles("ListPipelineParametersForExecution")
def list_pipeline_parameters_for_execution(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    execution = _read_execution(api, params, caller)
    kind = f"parameters:{execution.arn}"
    page, token = _paged(api, params, execution.parameters, kind, key=lambda parameter: parameter["Name"])
    return _with_token({"PipelineParameters": page}, token)


# vs moto: the definition of the pipeline version the execution ran (moto: the current one); unknown ARN
# is ResourceNotFound (moto: 500).
@_handles("DescribePipelineDefinitionForExecution")
def describe_pipeline_definition_for_execution(
    api: PipelinesApi, params: dict[str, Any], caller: Caller
) -> dict[str, Any]:
    execution = _read_execution(api, params, caller)
    return {"PipelineDefinition": execution.version.definition, "CreationTime": seconds(execution.created_ms)}


# vs moto: not implemented there (HTTP 500). Executing -> Stopping -> Stopped per the lifecycle
# (stop_after_polls); already Stopping is a no-op; a finished execution is a ConflictException;
# idempotent on ClientRequestToken.
@_handles("StopPipelineExecution")
def stop_pipeline_execution(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    execution = api.store.find_execution(params["PipelineExecutionArn"], caller.account, caller.region)
    token_key = ("StopPipelineExecution", execution.arn, params["ClientRequestToken"])
    if token_key in api.store.tokens:
        return {"PipelineExecutionArn": execution.arn}
    now = now_ms()
    lifecycle.observe(execution, now, poll=False)
    if execution.status == "Executing":
        lifecycle.request_stop(execution, api.store.lifecycle, now)
    elif execution.status != "Stopping":
        raise conflict(
            f"Pipeline execution '{execution.arn}' is in status {execution.status} and can no longer be stopped."
        )
    api.store.tokens[token_key] = execution.arn
    return {"PipelineExecutionArn": execution.arn}


# vs moto: not implemented there (HTTP 500). A Failed execution goes back to Executing with the same
# ARN, resuming at the failed step; a running one is a ConflictException, a Succeeded/Stopped one a
# ValidationException; idempotent on ClientRequestToken; ParallelismConfiguration overrides.
@_handles("RetryPipelineExecution")
def retry_pipeline_execution(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    execution = api.store.find_execution(params["PipelineExecutionArn"], caller.account, caller.region)
    token_key = ("RetryPipelineExecution", execution.arn, params["ClientRequestToken"])
    if token_key in api.store.tokens:
        return {"PipelineExecutionArn": execution.arn}
    now = now_ms()
    lifecycle.observe(execution, now, poll=False)
    if execution.status in ("Executing", "Stopping"):
        raise conflict(f"Pipeline execution '{execution.arn}' is still {execution.status} and cannot be retried.")
    if execution.status != "Failed":
        raise validation_error(
            f"Pipeline execution '{execution.arn}' is {execution.status}; only Failed executions can be retried."
        )
    if params.get("ParallelismConfiguration"):
        execution.parallelism = params["ParallelismConfiguration"]
    if api.store.strict.step_entries == "per_attempt":
        execution.superseded.extend(s for s in render_steps(execution, now) if s["StepStatus"] == "Failed")
    lifecycle.retry(execution, api.store.lifecycle, now)
    api.store.tokens[token_key] = execution.arn
    return {"PipelineExecutionArn": execution.arn}


# vs moto: not implemented there (HTTP 500).
@_handles("UpdatePipelineExecution")
def update_pipeline_execution(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    execution = api.store.find_execution(params["PipelineExecutionArn"], caller.account, caller.region)
    if params.get("PipelineExecutionDisplayName") is not None:
        execution.display_name = params["PipelineExecutionDisplayName"]
    if params.get("PipelineExecutionDescription") is not None:
        execution.description = params["PipelineExecutionDescription"]
    if params.get("ParallelismConfiguration") is not None:
        execution.parallelism = params["ParallelismConfiguration"]
    return {"PipelineExecutionArn": execution.arn}


# Tags on pipelines (moto's tagging cannot see pipelines it does not hold) ----------------------------


def _tagged(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> Pipeline:
    return api.store.find_pipeline(params["ResourceArn"], caller.account, caller.region)


# vs moto: tags on the emulator's pipelines (moto would not find them).
@_handles("AddTags")
def add_tags(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    pipeline = _tagged(api, params, caller)
    new = {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}
    kept = [t for t in pipeline.tags if t["Key"] not in new]
    pipeline.tags = kept + [{"Key": k, "Value": v} for k, v in new.items()]
    return {"Tags": pipeline.tags}


# vs moto: as AddTags.
@_handles("ListTags")
def list_tags(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    return {"Tags": list(_tagged(api, params, caller).tags)}


# vs moto: as AddTags.
@_handles("DeleteTags")
def delete_tags(api: PipelinesApi, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
    pipeline = _tagged(api, params, caller)
    drop = set(params.get("TagKeys") or [])
    pipeline.tags = [t for t in pipeline.tags if t["Key"] not in drop]
    return {}


__all__ = ["INTERCEPTED", "Caller", "PipelinesApi", "describe"]
