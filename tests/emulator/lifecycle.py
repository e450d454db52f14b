"""How an execution's status moves over time, under the test's control.

Stock moto marks every execution ``Succeeded`` the instant it starts and never changes it, so code that
waits for a pipeline (the resource's ``in`` step, a ``check`` that must skip running executions) is never
exercised against a run that is still going, fails, or is stopped. Here an execution starts
``Executing`` and changes only when:

* the test says so (control API ``finish``),
* a plan fires: after N polls of *that* execution (DescribePipelineExecution; a ListPipelineExecutions
  page only with the ``list_is_poll`` strictness switch, since listing never drives AWS) or at a point in time,
* StopPipelineExecution / RetryPipelineExecution ask for it.

Plans are evaluated lazily, when the execution is read, so nothing runs in the background and tests stay
deterministic. ``LastModifiedTime`` is stamped with the moment of each change (for time plans, the
planned instant itself), so out-of-order completion can be staged.
"""

from __future__ import annotations

from tests.emulator.model import DEFAULT_FAILURE_REASON, TERMINAL_STATUSES, Execution, Lifecycle, Plan


def plan_for_start(lifecycle: Lifecycle, start_ms: int) -> Plan | None:
    """The automatic finish an API-started (or retried) execution gets from the current defaults."""
    if lifecycle.finish_after_polls is None and lifecycle.finish_after_seconds is None:
        return None
    at_ms = None
    if lifecycle.finish_after_seconds is not None:
        at_ms = start_ms + round(lifecycle.finish_after_seconds * 1000)
    return Plan(
        status=lifecycle.final_status,
        failure_reason=lifecycle.failure_reason,
        failing_step=lifecycle.failing_step,
        after_polls=lifecycle.finish_after_polls,
        at_ms=at_ms,
    )


def observe(execution: Execution, now: int, *, poll: bool) -> None:
    """Bring an execution up to date before it is reported; ``poll`` counts this read as a poll of it."""
    plan = execution.plan
    if plan is not None and plan.at_ms is not None and plan.at_ms <= now:
        transition(execution, plan.status, at_ms=max(plan.at_ms, execution.modified_ms), plan=plan)
        plan = None
    if not poll:
        return
    if plan is not None and plan.after_polls is not None and execution.polls >= plan.after_polls:
        transition(execution, plan.status, at_ms=max(now, execution.modified_ms), plan=plan)
        return
    execution.polls += 1
    if execution.status == "Executing":
        execution.progress = min(execution.progress + 1, len(execution.version.steps) - 1)


def transition(
    execution: Execution,
    status: str,
    *,
    at_ms: int,
    failure_reason: str | None = None,
    failing_step: str | None = None,
    plan: Plan | None = None,
) -> None:
    """Change status now: stamp LastModifiedTime, reset the poll count, settle which step it ended on."""
    if plan is not None:
        failure_reason = failure_reason or plan.failure_reason
        failing_step = failing_step or plan.failing_step
    execution.status = status
    execution.modified_ms = at_ms
    execution.polls = 0
    execution.plan = None
    execution.failure_reason = (failure_reason or DEFAULT_FAILURE_REASON) if status == "Failed" else None
    names = [s.name for s in execution.version.steps]
    if status == "Succeeded":
        execution.progress = len(names)
    elif status in ("Failed", "CompletedWithFailures") and failing_step in names:
        execution.progress = names.index(failing_step)
    else:
        execution.progress = min(execution.progress, len(names) - 1)


def request_stop(execution: Execution, lifecycle: Lifecycle, now: int) -> None:
    """StopPipelineExecution: ``Stopping`` for ``stop_after_polls`` polls, then ``Stopped``."""
    if lifecycle.stop_after_polls <= 0:
        transition(execution, "Stopped", at_ms=now)
        return
    transition(execution, "Stopping", at_ms=now)
    execution.plan = Plan(status="Stopped", after_polls=lifecycle.stop_after_polls)


def retry(execution: Execution, lifecycle: Lifecycle, now: int) -> None:
    """RetryPipelineExecution: same ARN, back to ``Executing`` from the step that failed."""
    transition(execution, "Executing", at_ms=now)
    execution.attempts += 1
    execution.plan = plan_for_start(lifecycle, now)


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES
