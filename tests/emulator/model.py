"""The emulator's records: pipelines, their versions and executions, and the ARNs that name them.

Times are integer milliseconds since the epoch throughout: SageMaker reports timestamps with millisecond
precision, and integer keys make the sorted indexes exact (a ``CreatedAfter`` equal to an execution's
own ``CreationTime`` must exclude it, which floating point comparisons get wrong).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.index import ExecutionIndex

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures")
TERMINAL_STATUSES = frozenset({"Stopped", "Failed", "Succeeded", "CompletedWithFailures"})

# MaxResults is optional and AWS does not document its default for the pipeline listings; SageMaker's
# list APIs commonly default to 10. A small default also exposes clients that forget to page.
DEFAULT_PAGE_SIZE = 10

# What SageMaker reports for a failed execution whose failure has no more specific reason.
DEFAULT_FAILURE_REASON = "Step failure: One or multiple steps failed."

# A pipeline whose definition names no steps still runs something: two typical steps.
DEFAULT_STEPS: tuple[dict[str, str], ...] = (
    {"Name": "Preprocess", "Type": "Processing"},
    {"Name": "Train", "Type": "Training"},
)

_PIPELINE_ARN = re.compile(r"arn:(aws[a-z\-]*):sagemaker:([a-z0-9\-]*):([0-9]{12}|aws):pipeline/([^/]+)")
_EXECUTION_ARN = re.compile(r"arn:(aws[a-z\-]*):sagemaker:([a-z0-9\-]*):([0-9]{12}):pipeline/([^/]+)/execution/(.+)")


def now_ms() -> int:
    return int(time.time() * 1000)


def seconds(ms: int) -> float:
    """Milliseconds to the epoch-seconds number the JSON protocol carries."""
    return ms / 1000


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def pipeline_arn(region: str, account: str, name: str) -> str:
    """SageMaker lower-cases the pipeline name inside its ARN (``PipelineName`` keeps its case)."""
    return f"arn:{partition_of(region)}:sagemaker:{region}:{account}:pipeline/{name.lower()}"


@dataclass(frozen=True)
class ParsedArn:
    """The parts of a pipeline or pipeline-execution ARN that lookups need."""

    region: str
    account: str
    pipeline: str  # lower-cased, as stored
    execution_id: str | None = None


def parse_pipeline_arn(arn: str) -> ParsedArn | None:
    match = _PIPELINE_ARN.fullmatch(arn)
    if match is None:
        return None
    return ParsedArn(match[2], match[3], match[4].lower())


def parse_execution_arn(arn: str) -> ParsedArn | None:
    match = _EXECUTION_ARN.fullmatch(arn)
    if match is None:
        return None
    return ParsedArn(match[2], match[3], match[4].lower(), match[5])


@dataclass(frozen=True)
class StepSpec:
    """One step of a pipeline definition, as far as the emulator needs it."""

    name: str
    type: str
    display_name: str | None = None
    description: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class PipelineVersion:
    """A pipeline definition as of one CreatePipeline/UpdatePipeline; executions pin the one they ran."""

    version_id: int
    definition: str
    created_ms: int
    steps: tuple[StepSpec, ...]
    parameters: tuple[tuple[str, str | None], ...]  # (name, default value) in definition order
    experiment_config: dict[str, Any] | None


def parse_definition(definition: str, version_id: int, created_ms: int) -> PipelineVersion:
    """Read the steps, parameters and experiment config out of a pipeline definition document.

    Condition steps' ``IfSteps`` are flattened in after the condition, because the emulated condition
    always evaluates true and SageMaker lists branch steps alongside the top-level ones.
    """
    try:
        document = json.loads(definition)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {}
    steps = tuple(_flatten_steps(document.get("Steps"))) or tuple(StepSpec(s["Name"], s["Type"]) for s in DEFAULT_STEPS)
    parameters = tuple(
        (str(p["Name"]), None if p.get("DefaultValue") is None else _param_text(p["DefaultValue"]))
        for p in document.get("Parameters") or []
        if isinstance(p, dict) and p.get("Name")
    )
    experiment = document.get("PipelineExperimentConfig")
    return PipelineVersion(
        version_id=version_id,
        definition=definition,
        created_ms=created_ms,
        steps=steps,
        parameters=parameters,
        experiment_config=experiment if isinstance(experiment, dict) else None,
    )


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flatten_steps(raw: Any) -> list[StepSpec]:
    out: list[StepSpec] = []
    for step in raw if isinstance(raw, list) else []:
        if not isinstance(step, dict) or not step.get("Name"):
            continue
        arguments = step.get("Arguments") if isinstance(step.get("Arguments"), dict) else {}
        out.append(
            StepSpec(
                name=str(step["Name"]),
                type=str(step.get("Type") or "Processing"),
                display_name=step.get("DisplayName"),
                description=step.get("Description"),
                arguments=arguments or {},
            )
        )
        if step.get("Type") == "Condition" and arguments:
            out.extend(_flatten_steps(arguments.get("IfSteps")))
    return out


def build_definition(steps: list[dict[str, Any]] | None, parameters: dict[str, str] | None) -> str:
    """A minimal but well-formed definition for pipelines created through the control API."""
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Metadata": {},
            "Parameters": [
                {"Name": name, "Type": "String", "DefaultValue": value} for name, value in (parameters or {}).items()
            ],
            "PipelineExperimentConfig": {
                "ExperimentName": {"Get": "Execution.PipelineName"},
                "TrialName": {"Get": "Execution.PipelineExecutionId"},
            },
            "Steps": [
                {"Name": s["name"], "Type": s.get("type", "Processing"), "Arguments": dict(s.get("arguments") or {})}
                for s in (steps or [{"name": d["Name"], "type": d["Type"]} for d in DEFAULT_STEPS])
            ],
        }
    )


@dataclass(eq=False)
class Plan:
    """A pending automatic status change: after some polls of the execution, or at a time, or both."""

    status: str
    failure_reason: str | None = None
    failing_step: str | None = None
    after_polls: int | None = None
    at_ms: int | None = None


@dataclass
class Lifecycle:
    """How executions started through the AWS API behave from now on (set by the control API)."""

    finish_after_polls: int | None = None
    finish_after_seconds: float | None = None
    final_status: str = "Succeeded"
    failure_reason: str | None = None
    failing_step: str | None = None
    stop_after_polls: int = 0


@dataclass(eq=False)
class Execution:
    """One pipeline execution and everything the read APIs report about it."""

    arn: str
    execution_id: str
    pipeline: Pipeline
    seq: int  # 1-based order of creation within the pipeline (model package versions use it)
    version: PipelineVersion
    display_name: str
    description: str | None
    parameters: list[dict[str, str]]
    created_ms: int
    modified_ms: int
    status: str = "Executing"
    failure_reason: str | None = None
    parallelism: dict[str, Any] | None = None
    selective: dict[str, Any] | None = None
    created_by: dict[str, Any] | None = None
    plan: Plan | None = None
    polls: int = 0  # polls since the last status change
    progress: int = 0  # index of the step running now (steps before it have succeeded)
    attempts: int = 1  # 1 + number of RetryPipelineExecution calls
    started_ms: int | None = None  # StartTime when it differs from CreationTime (strict.start_delay_seconds)
    fresh: bool = False  # started through the API: subject to the not-found window (strict.py)
    reads: int = 0  # reads by ARN so far (for strict.not_found_reads)
    # Step entries of attempts a retry superseded, kept as they were (strict step_entries="per_attempt").
    superseded: list[dict[str, Any]] = field(default_factory=list)

    @property
    def start_ms(self) -> int:
        return self.created_ms if self.started_ms is None else self.started_ms

    @property
    def time_key(self) -> tuple[int, str]:
        return (self.created_ms, self.execution_id)


@dataclass(eq=False)
class Pipeline:
    """A pipeline, its versions, and its executions in sorted indexes."""

    name: str
    arn: str
    account: str
    region: str
    display_name: str
    description: str | None
    role_arn: str
    created_ms: int
    modified_ms: int
    versions: list[PipelineVersion]
    parallelism: dict[str, Any] | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    last_run_ms: int | None = None
    execution_count: int = 0
    executions: ExecutionIndex = field(default_factory=ExecutionIndex)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.account, self.region, self.name.lower())

    @property
    def latest(self) -> PipelineVersion:
        return self.versions[-1]
