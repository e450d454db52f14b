"""Waiting for an execution to finish: put's ``wait: true``, and get's wait for a running execution.

botocore has no waiter for pipeline executions, so this polls DescribePipelineExecution (and the step list,
to report progress) every ``poll_interval`` seconds. Progress goes to stderr as step transitions (a line
when a step execution starts or ends, with its type and duration), not a line per poll, so a two-hour
training run reads as a handful of lines in the build log.

A wait can last hours, so it outlives AWS's bad moments: a poll that fails in a way that may pass
(:mod:`transient`: throttling, 5xx, dropped connections, timeouts, expiring credentials) is tried again
with backoff, and the outage is logged once when it starts and once when it ends; only ``outage_budget``
seconds of continuous failure give up. Any other error is raised at once. An abort's signals (SIGTERM,
SIGINT, SIGHUP, SIGQUIT) during the wait raise :class:`abort.Aborted` (see :mod:`abort`): the caller decides
what to stop. :func:`ride_out` gives the calls around a wait the same outage handling.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sagemaker_pipeline_resource import abort, jsonio
from sagemaker_pipeline_resource.aws import transient
from sagemaker_pipeline_resource.config.params import DEFAULT_OUTAGE_BUDGET, RUNNING_STATUSES
from sagemaker_pipeline_resource.errors import printable
from sagemaker_pipeline_resource.execution.pipeline_steps import StepKey, step_key, step_label
from sagemaker_pipeline_resource.execution.reading import format_duration, list_steps

# Backoff while AWS fails: poll_interval, doubled per failed poll, up to 16 poll intervals and at most a
# minute (or one poll interval, if that is longer): a wait notices the end of an outage within a minute.
MAX_BACKOFF = 60.0
BACKOFF_POLLS = 16
# After a retry, a final status last modified before the retry was sent is the old outcome. Trusting the
# clocks (ours against AWS's) only this long after the retry keeps skew from making the wait endless.
STALE_LIMIT = 120.0


def _stderr(line: str) -> None:
    print(printable(line), file=sys.stderr, flush=True)  # AWS's words in it (a failure reason): escaped, masked


@dataclass
class Progress:
    """Remembers each step execution's last status so that only transitions are printed."""

    seen: dict[StepKey, str] = field(default_factory=dict)
    write: Callable[[str], None] = _stderr

    def update(self, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            key = step_key(step)
            status = str(step.get("StepStatus", "?"))
            if self.seen.get(key) == status:
                continue
            self.seen[key] = status
            kind = step.get("Metadata") and next(iter(step["Metadata"]), None)
            label = f"{step_label(step)} ({kind})" if kind else step_label(step)
            took = format_duration(step.get("StartTime"), step.get("EndTime"))
            reason = f": {step['FailureReason']}" if step.get("FailureReason") else ""
            suffix = f" after {took}" if took and status not in ("Starting", "Executing") else ""
            self.write(f"  step {label}: {status}{suffix}{reason}")


@dataclass
class WaitResult:
    description: dict[str, Any]
    steps: list[dict[str, Any]]
    timed_out: bool


def _seconds(value: float) -> str:
    return format_duration(dt.datetime.min, dt.datetime.min + dt.timedelta(seconds=value)) or f"{value:.0f}s"


@dataclass
class Outage:
    """The failed calls in a row: when the run started, how many, and what to log (``who`` says which part of
    the put or get is riding it out). One is shared by every call that follows an execution, so that an outage
    spanning several of them is logged, and budgeted, once."""

    budget: float
    write: Callable[[str], None]
    started: float | None = None
    failures: int = 0
    who: str = "wait"

    def failed(self, error: Exception, now: float, poll_interval: float) -> float:
        """Seconds to wait before polling again; raises ``error`` when the budget is spent."""
        if self.started is None:
            self.started, self.failures = now, 0
            self.write(f"{self.who}: AWS is failing ({transient.summary(error)}); polling again with backoff for "
                       f"up to {_seconds(self.budget)} (params.outage_budget)")  # fmt: skip
        self.failures += 1
        spent = now - self.started
        if spent >= self.budget:
            self.write(f"{self.who}: giving up: AWS has failed for {_seconds(spent)}, {self.failures} polls in a "
                       f"row (params.outage_budget is {_seconds(self.budget)})")  # fmt: skip
            raise error
        cap = max(poll_interval, min(MAX_BACKOFF, BACKOFF_POLLS * poll_interval))
        backoff = min(poll_interval * 2 ** (self.failures - 1), cap)
        return float(min(backoff, self.budget - spent))

    def recovered(self, now: float) -> None:
        if self.started is not None:
            self.write(f"{self.who}: AWS answers again after {_seconds(now - self.started)} ({self.failures} failed "
                       "polls)")  # fmt: skip
            self.started = None


@dataclass
class _Staleness:
    """After a retry: is a final status the old outcome? (See :func:`wait`'s ``not_before``.)"""

    not_before: dt.datetime | None
    started: float
    write: Callable[[str], None]
    seen_running: bool = False
    told: bool = False

    def is_stale(self, description: dict[str, Any], now: float) -> bool:
        status = description.get("PipelineExecutionStatus")
        if status in RUNNING_STATUSES:
            self.seen_running = True
            return False
        modified = description.get("LastModifiedTime")
        stale = (
            self.not_before is not None
            and not self.seen_running
            and isinstance(modified, dt.datetime)
            and modified < self.not_before
            and now - self.started < STALE_LIMIT
        )
        if stale and not self.told:
            self.write(f"wait: {status} is the outcome from before the retry; waiting for the retry to show "
                       f"(at most {_seconds(STALE_LIMIT)})")  # fmt: skip
            self.told = True
        return stale


def wait(
    client: Any,
    execution_arn: str,
    poll_interval: float,
    timeout: float | None,
    *,
    not_before: dt.datetime | None = None,
    outage_budget: float = DEFAULT_OUTAGE_BUDGET,
    is_transient: Callable[[BaseException], bool] = transient.is_transient,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    write: Callable[[str], None] = _stderr,
    outage: Outage | None = None,
) -> WaitResult:
    """Poll until the execution leaves Executing/Stopping, or ``timeout`` seconds have passed.

    ``not_before`` (for a retry, whose execution was already finished): a final status last modified before
    it is the old outcome, not the retry's, and is polled again, unless the execution was seen running
    since, or :data:`STALE_LIMIT` seconds have passed (clock skew between us and AWS cannot make the wait
    endless). ``outage_budget``: seconds of continuous transient failure to ride out (0: none); ``outage``:
    one already running (the put's calls right before the wait share it, see :func:`ride_out`).
    """
    progress = Progress(write=write)
    started = clock()
    deadline = None if timeout is None else started + timeout
    outage = outage or Outage(outage_budget, write)
    staleness = _Staleness(not_before, started, write)
    last_status = None
    result: WaitResult | None = None
    failure: Exception | None = None
    with abort.trap():
        while True:
            try:
                description = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
                steps = list_steps(client, execution_arn)
            except Exception as error:
                if not is_transient(error):
                    raise
                failure = error
                pause = outage.failed(error, clock(), poll_interval)
            else:
                outage.recovered(clock())
                result = WaitResult(description, steps, timed_out=False)
                status = description.get("PipelineExecutionStatus")
                if status != last_status:
                    write(f"execution {execution_arn}: {status} (at {jsonio.iso(description.get('LastModifiedTime'))})")
                    last_status = status
                progress.update(steps)
                stale = staleness.is_stale(description, clock())  # every poll: it notes running too
                if status not in RUNNING_STATUSES and not stale:
                    return result
                pause = poll_interval
            if deadline is not None and clock() + pause > deadline:
                if result is None and failure is not None:  # not one answer yet: the outage is the error
                    raise failure
                assert result is not None  # noqa: S101 - a poll either answered or failed
                sleep(max(deadline - clock(), 0.0))
                return WaitResult(result.description, result.steps, timed_out=True)
            sleep(pause)


T = TypeVar("T")


def ride_out(
    call: Callable[[], T],
    outage: Outage,
    *,
    poll_interval: float,
    is_transient: Callable[[BaseException], bool] = transient.is_transient,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``call()``, made again with the wait's backoff while it fails transiently, within ``outage``'s budget.

    For the calls around a wait (the describe right after a start, the marker, a stop on timeout): each is
    safe to make again, and failing on one would fail a put whose execution runs on.
    """
    while True:
        try:
            result = call()
        except Exception as error:
            if not is_transient(error):
                raise
            sleep(outage.failed(error, clock(), poll_interval))
        else:
            outage.recovered(clock())
            return result
