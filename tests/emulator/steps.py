"""Pipeline execution steps, derived from the execution's state each time they are listed.

Stock moto has no ListPipelineExecutionSteps at all (HTTP 500). Here steps are not stored: they are a
pure function of the execution (its definition's steps, status, progress and times), so they can never
disagree with DescribePipelineExecution. The shape follows the real service:

* a succeeded execution lists every step ``Succeeded``;
* a running one lists the steps done so far ``Succeeded`` and the current one ``Executing``; steps not
  yet started are absent (SageMaker lists a step only once it has started);
* a failed one ends with exactly one ``Failed`` step carrying ``FailureReason``; a stopped one with one
  ``Stopped`` (or ``Stopping``) step;
* each step has ``Metadata`` naming the job it ran (``TrainingJob``, ``ProcessingJob``, ``RegisterModel``
  with a model package ARN, ...), with names built as SageMaker builds them
  (``pipelines-<execution id>-<step name>-<suffix>``; ARNs lower-case the resource name).
"""

from __future__ import annotations

import hashlib
from typing import Any

from tests.emulator.model import DEFAULT_FAILURE_REASON, Execution, StepSpec, partition_of, seconds

# Job-running step types and the (metadata key, ARN resource type) they report.
_JOB_STEPS: dict[str, tuple[str, str]] = {
    "Training": ("TrainingJob", "training-job"),
    "Processing": ("ProcessingJob", "processing-job"),
    "Transform": ("TransformJob", "transform-job"),
    "Tuning": ("TuningJob", "hyper-parameter-tuning-job"),
    "AutoML": ("AutoMLJob", "automl-job"),
    "Model": ("Model", "model"),
    "CreateModel": ("Model", "model"),
}

_CURRENT_STEP_STATUS = {"Executing": "Executing", "Stopping": "Stopping", "Stopped": "Stopped", "Failed": "Failed"}
# CompletedWithFailures: the execution ran to its end and the step it stopped on failed (issue #11).
_CURRENT_STEP_STATUS["CompletedWithFailures"] = "Failed"


def render_steps(execution: Execution, now: int) -> list[dict[str, Any]]:
    """The execution's started steps, oldest first, as PipelineExecutionStep documents."""
    specs = execution.version.steps
    if execution.status == "Succeeded":
        reached = len(specs)
    else:
        reached = min(execution.progress, len(specs) - 1) + 1
    start = execution.created_ms
    terminal = execution.status in ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")
    end = execution.modified_ms if terminal else max(now, start)
    width = max(1, (end - start) // reached)
    out: list[dict[str, Any]] = []
    for index in range(reached):
        spec = specs[index]
        step_start = start + index * width
        finished = execution.status == "Succeeded" or index < reached - 1
        status = "Succeeded" if finished else _CURRENT_STEP_STATUS[execution.status]
        step: dict[str, Any] = {"StepName": spec.name}
        if spec.display_name:
            step["StepDisplayName"] = spec.display_name
        if spec.description:
            step["StepDescription"] = spec.description
        step["StartTime"] = seconds(step_start)
        if finished:
            step["EndTime"] = seconds(end if index == reached - 1 else step_start + width)
        elif status in ("Failed", "Stopped"):
            step["EndTime"] = seconds(end)
        step["StepStatus"] = status
        if status == "Failed":
            step["FailureReason"] = _step_failure(execution, spec)
        step["AttemptCount"] = execution.attempts if index == reached - 1 else 1
        step["Metadata"] = step_metadata(execution, spec)
        out.append(step)
        if spec.type == "ForEach":
            out.extend(_iterations(execution, spec, step, step_start, width))
    return _with_superseded(execution, out)


def _with_superseded(execution: Execution, out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attempts a retry superseded, each listed just before the current attempt of its step (per_attempt)."""
    merged = list(out)
    for old in execution.superseded:
        current = next((e for e in out if _identity(e) == _identity(old)), None)
        at = next((i for i, e in enumerate(merged) if e is current), len(merged))
        merged.insert(at, old)
    return merged


def _identity(entry: dict[str, Any]) -> tuple[str, object]:
    return (entry["StepName"], entry.get("IterationContext", {}).get("Index"))


def _iterations(
    execution: Execution, spec: StepSpec, parent: dict[str, Any], start: int, width: int
) -> list[dict[str, Any]]:
    """A ForEach step's body steps, one entry per item and body step, each with its ``IterationContext``.

    The ForEach entry itself gets ``Metadata.ForEach`` with the counts. Iterations run one after another:
    when the ForEach step failed or stopped, its last iteration is the one that did, the others succeeded.
    """
    items = [str(item) for item in spec.arguments.get("Items") or []]
    body = [b for b in spec.arguments.get("Steps") or [] if isinstance(b, dict) and b.get("Name")]
    total = len(items) * len(body)
    out: list[dict[str, Any]] = []
    slot = max(1, width // max(1, total))
    for position in range(total):
        index, body_step = divmod(position, len(body))
        spec_of = StepSpec(str(body[body_step]["Name"]), str(body[body_step].get("Type") or "Processing"))
        last = position == total - 1
        status = parent["StepStatus"] if last or parent["StepStatus"] == "Executing" else "Succeeded"
        entry: dict[str, Any] = {"StepName": spec_of.name, "StartTime": seconds(start + position * slot)}
        if status != "Executing":
            entry["EndTime"] = (
                parent["EndTime"] if last and "EndTime" in parent else seconds(start + (position + 1) * slot)
            )
        entry["StepStatus"] = status
        if status == "Failed":
            entry["FailureReason"] = parent.get("FailureReason") or _step_failure(execution, spec_of)
        entry["AttemptCount"] = 1
        entry["Metadata"] = step_metadata(execution, spec_of, suffix=f"{index}")
        entry["IterationContext"] = {"ParentStepName": spec.name, "Index": index, "Item": items[index]}
        out.append(entry)
    counts = {s: sum(1 for e in out if e["StepStatus"] == s) for s in ("Succeeded", "Failed", "Stopped")}
    parent["Metadata"] = {
        "ForEach": {
            "Status": parent["StepStatus"],
            "InputItemCount": len(items),
            "TotalStepCount": total,
            "SucceededStepCount": counts["Succeeded"],
            "FailedStepCount": counts["Failed"],
            "StoppedStepCount": counts["Stopped"],
        }
    }
    return out


def entry_key(entry: dict[str, Any]) -> str:
    """What tells step entries apart (paging cursor): name, iteration and attempt."""
    iteration = entry.get("IterationContext", {}).get("Index", "")
    return f"{entry['StepName']}/{iteration}/{entry.get('AttemptCount', 1)}"


def _step_failure(execution: Execution, spec: StepSpec) -> str:
    reason = execution.failure_reason
    if reason and reason != DEFAULT_FAILURE_REASON:
        return reason
    return f"ClientError: Step {spec.name} failed (emulated failure)."


def job_name(execution: Execution, spec: StepSpec, salt: str = "") -> str:
    """``pipelines-<execution id>-<step name>-<10 chars>``, at most 63 characters like SageMaker's."""
    suffix = hashlib.sha256(f"{execution.arn}/{spec.name}/{execution.attempts}{salt}".encode()).hexdigest()[:10]
    room = 63 - len("pipelines-") - len(execution.execution_id) - len(suffix) - 2
    return f"pipelines-{execution.execution_id}-{spec.name[:room]}-{suffix}"


def step_metadata(execution: Execution, spec: StepSpec, suffix: str = "") -> dict[str, Any]:
    """What SageMaker reports under ``Metadata`` for a step of this type (``suffix``: per ForEach iteration)."""
    pipeline = execution.pipeline
    prefix = f"arn:{partition_of(pipeline.region)}:sagemaker:{pipeline.region}:{pipeline.account}"
    if spec.type in _JOB_STEPS:
        key, resource = _JOB_STEPS[spec.type]
        return {key: {"Arn": f"{prefix}:{resource}/{job_name(execution, spec, suffix).lower()}"}}
    if spec.type == "RegisterModel":
        group = str(spec.arguments.get("ModelPackageGroupName") or f"{pipeline.name}-models")
        return {"RegisterModel": {"Arn": f"{prefix}:model-package/{group.lower()}/{execution.seq}"}}
    if spec.type == "Condition":
        return {"Condition": {"Outcome": "True"}}
    if spec.type == "Fail":
        return {"Fail": {"ErrorMessage": str(spec.arguments.get("ErrorMessage") or execution.failure_reason or "")}}
    if spec.type == "Lambda":
        function = (
            f"arn:{partition_of(pipeline.region)}:lambda:{pipeline.region}:{pipeline.account}:function:{spec.name}"
        )
        return {"Lambda": {"Arn": str(spec.arguments.get("FunctionArn") or function), "OutputParameters": []}}
    if spec.type in ("QualityCheck", "ClarifyCheck"):
        check_job = f"{prefix}:processing-job/{job_name(execution, spec).lower()}"
        return {
            spec.type: {
                "CheckType": str(spec.arguments.get("CheckType") or "DATA_QUALITY"),
                "CheckJobArn": check_job,
                "SkipCheck": False,
                "RegisterNewBaseline": False,
            }
        }
    if spec.type == "EMR":
        digest = hashlib.sha256(f"{execution.arn}/{spec.name}".encode()).hexdigest().upper()
        return {"EMR": {"ClusterId": f"j-{digest[:13]}", "StepId": f"s-{digest[13:26]}", "StepName": spec.name}}
    if spec.type == "Callback":
        token = hashlib.sha256(f"{execution.arn}/{spec.name}".encode()).hexdigest()[:32]
        return {"Callback": {"CallbackToken": token}}
    return {}
