"""Waiting for an execution to finish, for ``put`` with ``wait: true``.

botocore has no waiter for pipeline executions, so this polls DescribePipelineExecution (and the step list,
to report progress) every ``poll_interval`` seconds. Progress goes to stderr as step transitions (a line
when a step starts or ends, with its type and duration), not a line per poll, so a two-hour training run
reads as a handful of lines in the build log.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagemaker_pipeline_resource import jsonio
from sagemaker_pipeline_resource.config import RUNNING_STATUSES
from sagemaker_pipeline_resource.get import format_duration, list_steps


@dataclass
class Progress:
    """Remembers each step's last status so that only transitions are printed."""

    seen: dict[tuple[str, object, object], str] = field(default_factory=dict)
    write: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)

    def update(self, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            name = str(step.get("StepName", "?"))
            status = str(step.get("StepStatus", "?"))
            # A step is listed once per ForEach iteration, and a retried one may be listed once per attempt:
            # each entry is its own line, or a retry's old Failed entry and its new one would flip-flop.
            iteration = step.get("IterationContext") or {}
            attempt = step.get("AttemptCount", 1)
            key = (name, iteration.get("Index"), attempt)
            if self.seen.get(key) == status:
                continue
            self.seen[key] = status
            kind = step.get("Metadata") and next(iter(step["Metadata"]), None)
            label = name + (f"[{iteration.get('Item', iteration.get('Index'))}]" if iteration else "")
            label += f" (attempt {attempt})" if isinstance(attempt, int) and attempt > 1 else ""
            label = f"{label} ({kind})" if kind else label
            took = format_duration(step.get("StartTime"), step.get("EndTime"))
            reason = f": {step['FailureReason']}" if step.get("FailureReason") else ""
            suffix = f" after {took}" if took and status not in ("Starting", "Executing") else ""
            self.write(f"  step {label}: {status}{suffix}{reason}")


STALE_POLLS = 3


@dataclass
class WaitResult:
    description: dict[str, Any]
    steps: list[dict[str, Any]]
    timed_out: bool


def wait(
    client: Any,
    execution_arn: str,
    poll_interval: float,
    timeout: float | None,
    *,
    not_before: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WaitResult:
    """Poll until the execution leaves Executing/Stopping, or ``timeout`` seconds have passed.

    ``not_before`` (for a retry, whose execution was already finished): a finished status last modified
    before it is the old outcome, not the retry's, and is polled again (at most :data:`STALE_POLLS` times,
    so that clock skew between us and AWS cannot make the wait endless).
    """
    progress = Progress()
    stale_polls = 0
    deadline = None if timeout is None else clock() + timeout
    last_status = None
    while True:
        description = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        status = description.get("PipelineExecutionStatus")
        steps = list_steps(client, execution_arn)
        if status != last_status:
            print(f"execution {execution_arn}: {status} (at {jsonio.iso(description.get('LastModifiedTime'))})",
                  file=sys.stderr, flush=True)  # fmt: skip
            last_status = status
        progress.update(steps)
        modified = description.get("LastModifiedTime")
        stale = not_before is not None and isinstance(modified, dt.datetime) and modified < not_before
        if status not in RUNNING_STATUSES:
            if not stale or stale_polls >= STALE_POLLS:
                return WaitResult(description, steps, timed_out=False)
            stale_polls += 1
        if deadline is not None and clock() + poll_interval > deadline:
            remaining = deadline - clock()
            if remaining <= 0:
                return WaitResult(description, steps, timed_out=True)
            sleep(remaining)
            continue
        sleep(poll_interval)
