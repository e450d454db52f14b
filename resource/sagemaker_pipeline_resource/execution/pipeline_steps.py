"""Which step an entry of ListPipelineExecutionSteps is, as the API identifies it.

A step name is not unique in an execution: each iteration of a ForEach step repeats the names of the steps
inside it (``IterationContext``: the ForEach step's name and the iteration's ``Index``), and a step retried
by its retry policy is attempted again (``AttemptCount``, from 1). Keyed by the name alone, such steps print
on every poll (their statuses alternate) and repeat in ``failed_step``; keyed as the API keys them, each
transition prints once.
"""

from __future__ import annotations

from typing import Any

StepKey = tuple[str, str, int | None, int]


def step_key(step: dict[str, Any]) -> StepKey:
    """(name, ForEach step, iteration index, attempt): one step execution."""
    context = step.get("IterationContext") or {}
    index = context.get("Index")
    return (
        str(step.get("StepName", "?")),
        str(context.get("ParentStepName") or ""),
        index if isinstance(index, int) else None,
        int(step.get("AttemptCount") or 1),
    )


def step_label(step: dict[str, Any]) -> str:
    """``Train``, ``Train[eu]`` (the ForEach iteration of item ``eu``, or its index), ``Train (attempt 2)``."""
    name, _parent, index, attempt = step_key(step)
    item = (step.get("IterationContext") or {}).get("Item")
    label = name if index is None and item is None else f"{name}[{index if item is None else item}]"
    return label if attempt == 1 else f"{label} (attempt {attempt})"


def failed_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed steps, each once: a failed attempt followed by a later attempt of the same step is not a failure
    of the execution, and the same step execution listed twice counts once."""
    latest: dict[tuple[str, str, int | None], dict[str, Any]] = {}
    for step in steps:
        name, parent, index, attempt = step_key(step)
        known = latest.get((name, parent, index))
        if known is None or step_key(known)[3] <= attempt:
            latest[(name, parent, index)] = step
    return [step for step in latest.values() if step.get("StepStatus") == "Failed"]
