"""Which executions become versions, and in which order: the rule behind ``check``.

The rule: **versions are emitted in start order, and an execution that is still running holds back the
newer ones behind it until it finishes** (or until it has run for ``hold_back_hours``). Executions start in
one order and finish in another; a resource that emitted "everything newer than the last version" would
never emit an older execution that finishes after a newer one. Holding back keeps Concourse's version
order equal to start order and emits every execution exactly once, at the cost of a newer execution
waiting for an older one. The hold-back window bounds the wait: an execution running longer than it stops
blocking (and, if it finishes later, it is behind the watermark and is not emitted: see the README).

A put breaks start order: Concourse saves its version on top at once, while older executions may still be
pending. The put writes on its execution (:mod:`marker`) the first execution that was pending then; the
order used here puts that execution's version just *before* it (ahead of everything still to come), which
is where Concourse's history has it. The check never emits a version a put has saved (it is in the history
already) and a saved execution never holds anything back. So the order is "start order, with each saved put
version moved up to where it was saved", and a check answers the previous version followed by what comes
after it in that order: nothing already in the history is emitted again, so nothing is moved.

ListPipelineExecutions has no status filter and its summaries have no end time, so everything is decided
from the summaries (ARN, status, start time, description), newest first, one page of 100 at a time, stopping
as soon as the answer is known: normally the previous version is on the first page and a check costs one
call. The server's order is not trusted: what was fetched is sorted on the client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sagemaker_pipeline_resource.config import RUNNING_STATUSES
from sagemaker_pipeline_resource.marker import Marker, parse

Key = tuple[dt.datetime, str, int, dt.datetime, str]


@dataclass(frozen=True)
class Execution:
    """The part of an execution summary that ordering needs."""

    arn: str
    status: str
    start_time: dt.datetime
    marker: Marker | None = None
    description: str = ""

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def order(self) -> tuple[dt.datetime, str]:
        """Start order (the ID breaks ties: it is the ARN's only part that differs within a pipeline)."""
        return (self.start_time, self.id)

    @classmethod
    def from_summary(cls, summary: dict[str, object]) -> Execution:
        start = summary.get("StartTime")
        if not isinstance(start, dt.datetime):  # never seen, but a summary without one must still sort
            start = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=dt.timezone.utc)
        return cls(
            str(summary["PipelineExecutionArn"]),
            str(summary.get("PipelineExecutionStatus", "")),
            start,
            parse(summary.get("PipelineExecutionDescription")),
            str(summary.get("PipelineExecutionDescription") or ""),
        )


@dataclass(frozen=True)
class Policy:
    """What counts as a version (``statuses``), how long a running execution may hold back the rest, and
    which put markers are this resource's (``scope``, :func:`marker.scope_of`)."""

    statuses: frozenset[str]
    hold_back: dt.timedelta
    now: dt.datetime
    scope: str = ""

    def counts(self, execution: Execution) -> bool:
        return execution.status in self.statuses

    def saved(self, execution: Execution) -> bool:
        """A put of this resource has saved its version: it is in the history whatever its status."""
        marker = execution.marker
        return marker is not None and marker.saved and marker.scope == self.scope

    def holds(self, execution: Execution) -> bool:
        """Still running (and not itself a version), and not yet past the hold-back window."""
        return (
            execution.status in RUNNING_STATUSES
            and not self.counts(execution)
            and not self.saved(execution)
            and self.now - execution.start_time < self.hold_back
        )

    def key(self, execution: Execution) -> Key:
        """Position in the history: start order, except that a saved put version sits just before the execution
        that was pending when it was saved (several such, in their own start order)."""
        start, execution_id = execution.order
        marker = execution.marker
        if self.saved(execution) and marker is not None and marker.before is not None:
            anchor_start, anchor_id = marker.before
            if (anchor_start, anchor_id) < (start, execution_id):
                return (anchor_start, anchor_id, 0, start, execution_id)
        return (start, execution_id, 1, start, execution_id)

    def ordered(self, executions: Iterable[Execution]) -> list[Execution]:
        return sorted(executions, key=self.key)


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
    ordered = policy.ordered(seen.values())
    start = next(index for index, execution in enumerate(ordered) if execution.arn == previous)
    result = [ordered[start]]
    for execution in ordered[start + 1 :]:
        if policy.saved(execution):
            continue  # a put saved it: it is in the history already; emitting it again would move it
        if policy.counts(execution):
            result.append(execution)
        elif policy.holds(execution):
            return result, execution
    return result, None


def _newest_settled(seen: dict[str, Execution], policy: Policy) -> tuple[Execution | None, Execution | None]:
    """The newest counted execution that no older running execution holds back, and the holder if any."""
    candidate: Execution | None = None
    for execution in policy.ordered(seen.values()):
        if policy.holds(execution):
            return candidate, execution
        if policy.counts(execution):
            candidate = execution
    return candidate, None


def _window_read(seen: dict[str, Execution], policy: Policy) -> bool:
    """Whether the oldest execution fetched started before the hold-back window (nothing older can hold)."""
    oldest = min((execution.start_time for execution in seen.values()), default=None)
    return oldest is not None and policy.now - oldest >= policy.hold_back


def _settled(seen: dict[str, Execution], policy: Policy) -> bool:
    """Whether older pages can no longer change the newest settled version (used when there is no previous).

    Once a candidate is known and the oldest execution fetched started before the hold-back window, nothing
    older can be running inside the window, so nothing older can hold the candidate back.
    """
    candidate, _ = _newest_settled(seen, policy)
    return candidate is not None and _window_read(seen, policy)


def _placed(seen: dict[str, Execution], previous: str, policy: Policy) -> bool:
    """Whether everything that can come after ``previous`` has been fetched.

    Whatever sits after it in :meth:`Policy.key` order started at or after its anchor (its own start, or
    for a saved put version the start of the execution it was saved before), so once an execution that old
    has been fetched, older pages cannot add anything after it.
    """
    anchor = policy.key(seen[previous])[0]
    return min(execution.start_time for execution in seen.values()) <= anchor


def select(pages: Iterable[list[Execution]], previous: str | None, policy: Policy) -> Outcome:
    """Decide the versions from ``pages`` (newest first, fetched lazily: iteration stops when decided).

    - With a previous version that is found: it, then every counted execution after it (in
      :meth:`Policy.key` order) that no put has saved, up to the first one held back.
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
        if previous is not None and previous in seen and _placed(seen, previous, policy):
            break
        if previous is None and _settled(seen, policy):
            break
    if previous is not None and previous in seen:
        found, held_by = _after_previous(seen, previous, policy)
        return Outcome(found, True, pages_read, len(seen), held_by)
    newest, held_by = _newest_settled(seen, policy)
    return Outcome([newest] if newest else [], False, pages_read, len(seen), held_by)


@dataclass(frozen=True)
class Frontier:
    """What a put needs to know before its version is saved (see :func:`frontier`)."""

    holder: Execution | None  # the first execution still pending: the put's version sits just before it
    own: Execution | None  # the summary of the execution about to be saved, when it already exists
    earlier: Execution | None  # an execution this put step started in an earlier attempt (same request)
    # every listed execution that carries a request hash, by that hash (the newest one for a hash): a put
    # step looks up the executions of its earlier attempts here (put._attempt)
    requests: dict[str, Execution] = field(default_factory=dict)


def frontier(
    pages: Iterable[list[Execution]], policy: Policy, own: str | None = None, request: str | None = None
) -> Frontier:
    """The first execution, in history order, that is still pending (held back or holding): a put's version
    saved now sits just before it. ``own`` (the ARN of the execution a put is about to save, when it already
    exists: a waiting put's, or the one a put stops): only what comes before it counts. ``request``: the
    marker's hash of the put's request token, to find an execution an earlier attempt of the step started.

    Reads pages until the hold-back window is covered (nothing older can be pending) or they run out.
    """
    seen: dict[str, Execution] = {}
    for page in pages:
        for execution in page:
            seen[execution.arn] = execution
        if _window_read(seen, policy) and (own is None or own in seen):
            break
    mine = seen.get(own) if own is not None else None
    requests: dict[str, Execution] = {}
    for execution in sorted(seen.values(), key=lambda execution: execution.order):
        if execution.marker is not None and execution.marker.request is not None:
            requests[execution.marker.request] = execution  # newer ones replace older ones
    earlier = requests.get(request) if request is not None else None
    for execution in policy.ordered(seen.values()):
        if mine is not None and policy.key(execution) >= policy.key(mine):
            break
        if execution.arn != own and policy.holds(execution):
            return Frontier(execution, mine, earlier, requests)
    return Frontier(None, mine, earlier, requests)
