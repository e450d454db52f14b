"""Sorted per-pipeline indexes of executions, so a list page costs O(log n + page), not a sort.

ListPipelineExecutions is the hot call of a Concourse ``check``: it runs every minute against pipelines
that may hold thousands of executions. Stock moto answers it from an unsorted dict, ignoring paging,
sorting and the created filters. Here each pipeline keeps its executions in two sorted lists (by
``(CreationTime, execution id)`` and by ARN) and answers a page with a binary search for the filter
bounds and the paging cursor, then a slice.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.emulator.model import Execution

# Sorts before every execution id, so (ms, _LOWEST) is the first possible key at a millisecond.
_LOWEST = ""


class ExecutionIndex:
    """One pipeline's executions, sorted by creation time and by ARN."""

    def __init__(self) -> None:
        self._time_keys: list[tuple[int, str]] = []
        self._by_time: list[Execution] = []
        self._arns: list[str] = []
        self._by_arn: list[Execution] = []

    def __len__(self) -> int:
        return len(self._by_time)

    def __iter__(self) -> Iterator[Execution]:
        """Oldest first; a snapshot, so callers may delete while iterating."""
        return iter(list(self._by_time))

    def running(self) -> list[Execution]:
        return [e for e in self._by_time if e.status in ("Executing", "Stopping")]

    def add(self, execution: Execution) -> None:
        i = bisect_right(self._time_keys, execution.time_key)
        self._time_keys.insert(i, execution.time_key)
        self._by_time.insert(i, execution)
        j = bisect_right(self._arns, execution.arn)
        self._arns.insert(j, execution.arn)
        self._by_arn.insert(j, execution)

    def extend(self, executions: list[Execution]) -> None:
        """Bulk insert (seeding): one sort instead of n list insertions."""
        by_time = sorted([*self._by_time, *executions], key=lambda e: e.time_key)
        by_arn = sorted([*self._by_arn, *executions], key=lambda e: e.arn)
        self._by_time, self._time_keys = by_time, [e.time_key for e in by_time]
        self._by_arn, self._arns = by_arn, [e.arn for e in by_arn]

    def remove(self, execution: Execution) -> None:
        i = bisect_left(self._time_keys, execution.time_key)
        if i < len(self._by_time) and self._by_time[i] is execution:
            del self._time_keys[i], self._by_time[i]
        j = bisect_left(self._arns, execution.arn)
        if j < len(self._by_arn) and self._by_arn[j] is execution:
            del self._arns[j], self._by_arn[j]

    def page_by_time(
        self,
        *,
        ascending: bool,
        after_ms: int | None,
        before_ms: int | None,
        cursor: tuple[int, str] | None,
        limit: int,
    ) -> tuple[list[Execution], bool]:
        """Up to ``limit`` executions with ``after_ms < CreationTime < before_ms`` past the cursor.

        Returns the page and whether more remain after it.
        """
        lo = 0 if after_ms is None else bisect_left(self._time_keys, (after_ms + 1, _LOWEST))
        hi = len(self._time_keys) if before_ms is None else bisect_left(self._time_keys, (before_ms, _LOWEST))
        if ascending:
            if cursor is not None:
                lo = max(lo, bisect_right(self._time_keys, cursor))
            end = min(hi, lo + limit)
            return self._by_time[lo:end], end < hi
        if cursor is not None:
            hi = min(hi, bisect_left(self._time_keys, cursor))
        start = max(lo, hi - limit)
        return self._by_time[start:hi][::-1], start > lo

    def page_by_arn(
        self, *, ascending: bool, after_ms: int | None, before_ms: int | None, cursor: str | None, limit: int
    ) -> tuple[list[Execution], bool]:
        """Like :meth:`page_by_time` in ARN order; the created filters cost a walk over skipped items."""
        n = len(self._arns)
        if ascending:
            i = 0 if cursor is None else bisect_right(self._arns, cursor)
            positions: Iterable[int] = range(i, n)
        else:
            i = n if cursor is None else bisect_left(self._arns, cursor)
            positions = range(i - 1, -1, -1)
        page: list[Execution] = []
        for position in positions:
            execution = self._by_arn[position]
            if after_ms is not None and execution.created_ms <= after_ms:
                continue
            if before_ms is not None and execution.created_ms >= before_ms:
                continue
            if len(page) == limit:
                return page, True
            page.append(execution)
        return page, False
