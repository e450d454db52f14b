"""Which executions become versions, and in which order: the rule behind ``check``.

The rule: **versions are emitted in start order, and an execution that is still running holds back the
newer ones behind it until it finishes** (or until it has run for ``hold_back_hours``). Executions start in
one order and finish in another; a resource that emitted "everything newer than the last version" would
never emit an older execution that finishes after a newer one. Holding back keeps Concourse's version
order equal to start order and emits every execution exactly once, at the cost of a newer execution
waiting for an older one. The hold-back window bounds the wait.

A put breaks start order: Concourse saves its version on top at once, while older executions may still be
pending. The put writes on its execution (:mod:`marker`) where its version sits: just before the first
execution that was still pending, or, when none was, just after the newest one listed. The order used here
is "start order, with each saved put version moved to where it was saved" (:meth:`Policy.key`), which is
where Concourse's history has it.

A check is handed the version on top of *its* history and answers it followed by every counted execution
after it in that order, up to the first one still running. A put version that sorts after the version on
top cannot have been saved into this history (a put saves on top), so it was saved by another history over
the same pipeline (another Concourse pipeline with the same ``source``): here it is an execution like any
other. That is what lets a "deploy" pipeline that only gets see a "train" pipeline's puts.

ListPipelineExecutions has no status filter and its summaries have no end time, so everything is decided
from the summaries (ARN, status, start time, description), newest first, one page of 100 at a time, stopping
as soon as the answer is known: normally the previous version is on the first page and a check costs one
call. The server's order is not trusted: what was fetched is sorted on the client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sagemaker_pipeline_resource.config.params import RUNNING_STATUSES
from sagemaker_pipeline_resource.versions.marker import Marker, parse

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

    def within_window(self, execution: Execution) -> bool:
        return self.now - execution.start_time < self.hold_back

    def blocks(self, execution: Execution) -> bool:
        """Still running (and not counted), and not yet past the hold-back window: what a check waits for."""
        return execution.status in RUNNING_STATUSES and not self.counts(execution) and self.within_window(execution)

    def holds(self, execution: Execution) -> bool:
        """For a put placing its version: :meth:`blocks`, unless a put of this history saved it (it is in the
        history already, below the version about to be saved)."""
        return self.blocks(execution) and not self.saved(execution)

    def key(self, execution: Execution) -> Key:
        """Position in the history: start order, except that a saved put version sits where it was saved: just
        before the execution its marker names (``before``) or just after it (``after``); several at one spot
        in the order they were saved (``at``, else their start)."""
        start, execution_id = execution.order
        marker = execution.marker
        if self.saved(execution) and marker is not None:
            at = marker.at or start
            if marker.before is not None:
                return (marker.before[0], marker.before[1], 0, at, execution_id)
            if marker.after is not None:
                return (marker.after[0], marker.after[1], 2, at, execution_id)
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
    undecided: bool = False  # the pages ran out before the answer was certain (all read, or max_pages)
    lagging: bool = False  # the previous version exists but the listing does not show it yet


def _after_previous(
    seen: dict[str, Execution], previous: str, policy: Policy
) -> tuple[list[Execution], Execution | None]:
    """The previous version, then what follows it. A saved put version that follows it was not saved into
    this history (a put saves on top, and this history's top is ``previous``): it counts like any other."""
    ordered = policy.ordered(seen.values())
    start = next(index for index, execution in enumerate(ordered) if execution.arn == previous)
    result = [ordered[start]]
    for execution in ordered[start + 1 :]:
        if policy.counts(execution):
            result.append(execution)
        elif policy.blocks(execution):
            return result, execution
    return result, None


def _newest_settled(seen: dict[str, Execution], policy: Policy) -> tuple[Execution | None, Execution | None]:
    """The newest counted execution that no older running execution holds back, and the holder if any."""
    candidate: Execution | None = None
    for execution in policy.ordered(seen.values()):
        if policy.blocks(execution):
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


def select(
    pages: Iterable[list[Execution]],
    previous: str | None,
    policy: Policy,
    locate: Callable[[str], dt.datetime | None] | None = None,
) -> Outcome:
    """Decide the versions from ``pages`` (newest first, fetched lazily: iteration stops when decided).

    - With a previous version that is found: it, then every counted execution after it (in
      :meth:`Policy.key` order), up to the first one held back.
    - Without one, or when it is gone (deleted, aged out, beyond the page cap): only the newest counted
      execution that nothing older holds back, or nothing.

    ``locate``: when the previous version is not on the first page, its start time, or None when it no longer
    exists (one DescribePipelineExecution): a version that is gone then costs one more call, not ``max_pages``.
    """
    seen: dict[str, Execution] = {}
    pages_read = 0
    decided = False
    target = previous
    located: dt.datetime | None = None
    for page in pages:
        pages_read += 1
        for execution in page:
            seen[execution.arn] = execution
        first_miss = target is not None and target not in seen and pages_read == 1 and page
        if first_miss and locate is not None:
            located = locate(str(target))
            if located is None:
                target = None  # gone: answer the newest, as Concourse expects of a version that is gone
        if target is not None and target in seen and _placed(seen, target, policy):
            decided = True
            break
        if target is None and _settled(seen, policy):
            decided = True
            break
    if target is not None and target in seen:
        found, held_by = _after_previous(seen, target, policy)
        return Outcome(found, True, pages_read, len(seen), held_by, not decided)
    if target is not None and located is not None and seen and located >= min(e.start_time for e in seen.values()):
        # it exists and is newer than what the listing shows around it: the listing lags; nothing new yet
        return Outcome([Execution(target, "", located)], True, pages_read, len(seen), None, lagging=True)
    newest, held_by = _newest_settled(seen, policy)
    return Outcome([newest] if newest else [], False, pages_read, len(seen), held_by, not decided)


# A put that listed no execution at all (a new pipeline) sits after this: before every execution.
NOTHING_LISTED = (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc), "0")


@dataclass(frozen=True)
class Frontier:
    """Where a put's version goes when Concourse saves it now (see :func:`frontier`)."""

    holder: Execution | None  # the first execution still pending: the put's version sits just before it
    own: Execution | None  # the summary of the execution about to be saved, when it already exists
    earlier: Execution | None  # an execution this put step started in an earlier attempt (same request)
    newest: Execution | None = None  # nothing pending: the version sits just after the newest one listed
    at_own_start: bool = False  # ``own`` itself was the first pending: its version sits at its own start

    pending_before_own: bool = False  # something before ``own`` was pending (so ``own`` was held back)
    latest_start: dt.datetime | None = None  # the newest start time listed (AWS's clock)
    # every listed execution that carries a request hash, by that hash (the newest one for a hash): a put
    # step looks up the executions of its earlier attempts here (put._attempt)
    requests: dict[str, Execution] = field(default_factory=dict)

    def in_history(self, policy: Policy) -> bool:
        """Whether ``own`` is a version of this history already, as far as a put can tell: a put of this
        history saved it, or it finished with a counted status while nothing before it was pending (a check
        emitted it, or will before Concourse saves the put's version: README "Ordering" has the race)."""
        own = self.own
        if own is None:
            return False
        if policy.saved(own):
            return True
        return policy.counts(own) and own.status not in RUNNING_STATUSES and not self.pending_before_own

    def marker(self, scope: str, now: dt.datetime | None, request: str | None = None) -> Marker:
        """The saved marker that puts a version here; ``now`` when it is written onto an existing execution.

        Its ``at`` is never before the newest start listed: a version saved before this one by a put that
        started its execution sorts by that start (AWS's clock), and must stay before it if this machine's
        clock is behind AWS's (README "Ordering" assumes clocks within a second).
        """
        before = self.holder.order if self.holder is not None else None
        after = self.newest.order if self.newest is not None else None
        if before is None and after is None and self.own is None:
            after = NOTHING_LISTED  # before anything a lagging listing did not show yet
        at = now
        if now is not None and self.latest_start is not None:
            at = max(now, self.latest_start + dt.timedelta(milliseconds=1))
        return Marker(scope, True, before, request, after, at)


def frontier(
    pages: Iterable[list[Execution]],
    policy: Policy,
    own: str | None = None,
    request: str | None = None,
    own_holds: bool = False,
) -> Frontier:
    """Where a version saved now sits.

    Without ``own`` (a put about to start an execution): just before the first execution, in history order,
    that is still pending (holds the rest back), or, with nothing pending, just after the newest execution
    listed (so that one started elsewhere meanwhile, or hidden by a listing that lags, comes after it).

    With ``own`` (the ARN of an execution that exists: a waiting put's at its end, or the one a put stops or
    retries): just before the first execution pending before it, if any (it was held back: no history has
    it). Otherwise it stays at its own start, unless the history has gone past it: it did not hold the rest
    back (``own_holds`` false: it ran longer than ``hold_back_hours``, or it had finished) and a newer one is
    a version; then it goes after those, as without ``own``. So an execution a check may have emitted where it
    is never moves. ``request``: the marker's hash of the put's request token, to find what an earlier
    attempt started.

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
    latest = max((execution.start_time for execution in seen.values()), default=None)
    ordered = policy.ordered(seen.values())
    newest = max((execution for execution in ordered if execution.arn != own), key=lambda e: e.order, default=None)
    if mine is None:
        holder = next((execution for execution in ordered if policy.holds(execution)), None)
        return Frontier(holder, None, earlier, None if holder else newest, latest_start=latest, requests=requests)
    index = ordered.index(mine)
    before = next((execution for execution in ordered[:index] if policy.holds(execution)), None)
    if before is not None:
        return Frontier(before, mine, earlier, pending_before_own=True, latest_start=latest, requests=requests)
    after = ordered[index + 1 :]
    if not own_holds and _passed(after, policy):
        holder = next((execution for execution in after if policy.holds(execution)), None)
        return Frontier(holder, mine, earlier, None if holder else newest, latest_start=latest, requests=requests)
    return Frontier(None, mine, earlier, at_own_start=True, latest_start=latest, requests=requests)


def _passed(after: list[Execution], policy: Policy) -> bool:
    """Whether the history has gone past an execution: one after it is a version (saved by a put, or counted
    with nothing pending before it)."""
    for execution in after:
        if policy.saved(execution) or policy.counts(execution):
            return True
        if policy.holds(execution):
            return False
    return False
