"""Which executions become versions, and in which order: the rule behind ``check``.

The rule: **versions are emitted in start order, and an execution that is still running holds back the
newer ones behind it until it finishes** (or until it has run for ``hold_back_hours``). Executions start in
one order and finish in another; a resource that emitted "everything newer than the last version" would
never emit an older execution that finishes after a newer one. Holding back keeps Concourse's version
order equal to start order and emits every execution exactly once, at the cost of a newer execution
waiting for an older one. The hold-back window bounds the wait: an execution running longer than it stops
blocking (and, if it finishes later, it is behind the watermark and is not emitted: see the README).

ListPipelineExecutions has no status filter and its summaries have no end time, so everything is decided
from the summaries (ARN, status, start time), newest first, one page of 100 at a time, stopping as soon as
the answer is known: normally the previous version is on the first page and a check costs one call.
The server's order is not trusted: what was fetched is sorted on the client by (start time, ARN).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sagemaker_pipeline_resource.config import RUNNING_STATUSES


@dataclass(frozen=True)
class Execution:
    """The part of an execution summary that ordering needs."""

    arn: str
    status: str
    start_time: dt.datetime

    @property
    def order(self) -> tuple[dt.datetime, str]:
        return (self.start_time, self.arn)

    @classmethod
    def from_summary(cls, summary: dict[str, object]) -> Execution:
        start = summary.get("StartTime")
        if not isinstance(start, dt.datetime):  # never seen, but a summary without one must still sort
            start = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
        return cls(str(summary["PipelineExecutionArn"]), str(summary.get("PipelineExecutionStatus", "")), start)


@dataclass(frozen=True)
class Policy:
    """What counts as a version (``statuses``) and how long a running execution may hold back the rest."""

    statuses: frozenset[str]
    hold_back: dt.timedelta
    now: dt.datetime

    def counts(self, execution: Execution) -> bool:
        return execution.status in self.statuses

    def holds(self, execution: Execution) -> bool:
        """Still running (and not itself a version), and not yet past the hold-back window."""
        return (
            execution.status in RUNNING_STATUSES
            and not self.counts(execution)
            and self.now - execution.start_time < self.hold_back
        )


@dataclass
class Outcome:
    """The versions to emit, oldest first, and how they were found (for the log line on stderr)."""

    executions: list[Execution]
    previous_found: bool
    pages: int
    scanned: int
    held_by: Execution | None = None


def _after_previous(
    seen: dict[str, Execution], previous: str, policy: Policy
) -> tuple[list[Execution], Execution | None]:
    ordered = sorted(seen.values(), key=lambda execution: execution.order)
    start = next(index for index, execution in enumerate(ordered) if execution.arn == previous)
    result = [ordered[start]]
    for execution in ordered[start + 1 :]:
        if policy.counts(execution):
            result.append(execution)
        elif policy.holds(execution):
            return result, execution
    return result, None


def _newest_settled(seen: dict[str, Execution], policy: Policy) -> tuple[Execution | None, Execution | None]:
    """The newest counted execution that no older running execution holds back, and the holder if any."""
    candidate: Execution | None = None
    for execution in sorted(seen.values(), key=lambda execution: execution.order):
        if policy.holds(execution):
            return candidate, execution
        if policy.counts(execution):
            candidate = execution
    return candidate, None


def _settled(seen: dict[str, Execution], policy: Policy) -> bool:
    """Whether older pages can no longer change the newest settled version (used when there is no previous).

    Once a candidate is known and the oldest execution fetched started before the hold-back window, nothing
    older can be running inside the window, so nothing older can hold the candidate back.
    """
    candidate, _ = _newest_settled(seen, policy)
    oldest = min(seen.values(), key=lambda execution: execution.order, default=None)
    return candidate is not None and oldest is not None and policy.now - oldest.start_time >= policy.hold_back


def select(pages: Iterable[list[Execution]], previous: str | None, policy: Policy) -> Outcome:
    """Decide the versions from ``pages`` (newest first, fetched lazily: iteration stops when decided).

    - With a previous version that is found: it, then every newer counted execution in start order, up to
      the first one held back.
    - Without one, or when it is gone (deleted, aged out, beyond the page cap): only the newest counted
      execution that nothing older holds back, or nothing.
    """
    seen: dict[str, Execution] = {}
    pages_read = 0
    iterator: Iterator[list[Execution]] = iter(pages)
    for page in iterator:
        pages_read += 1
        for execution in page:
            seen[execution.arn] = execution
        if previous is not None and previous in seen:
            found, held_by = _after_previous(seen, previous, policy)
            return Outcome(found, True, pages_read, len(seen), held_by)
        if previous is None and _settled(seen, policy):
            break
    newest, held_by = _newest_settled(seen, policy)
    return Outcome([newest] if newest else [], False, pages_read, len(seen), held_by)
