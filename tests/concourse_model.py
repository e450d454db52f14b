"""A model of Concourse's version history and an in-memory SageMaker, for the version property tests.

Concourse's rules (../shared/reference/concourse-semantics.md), nothing more:

- versions are keyed by their content (here the ARN: a version is ``{"execution_arn": ...}``);
- a check answer with no new version changes nothing; one with at least one new version restamps every
  version of the answer above the current maximum, in the answer's order;
- a put's version is saved through the same rule: if new, it goes on top; if known, nothing moves;
- check is handed the version on top (or nothing).

:class:`FakeSageMaker` answers the calls check and put make (ListPipelineExecutions pages newest first,
StartPipelineExecution, UpdatePipelineExecution) from a list of executions the test drives directly:
starts from outside, finishes in any status, in-place retries, deletions. It is "faithful" in what the
resource can observe: summaries carry ARN, status, start time and description, nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"


@dataclass
class FakeExecution:
    arn: str
    start: dt.datetime
    status: str = "Executing"
    description: str = ""
    listed_from: int = 0  # the listing shows it from this ListPipelineExecutions call on (a listing that lags)
    listed_description: str = ""  # what the listing shows of the description (it may lag an update)
    description_from: int = 0
    modified: dt.datetime | None = None  # LastModifiedTime: when it last changed status


@dataclass
class FakeSageMaker:
    """An in-memory SageMaker with only what check and put call; ``calls`` counts them by operation."""

    now: dt.datetime
    executions: dict[str, FakeExecution] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    serial: int = 0
    lag: int = 0  # how many listing calls a new execution or a description update stays unseen
    listings: int = 0

    def clock(self) -> dt.datetime:
        return self.now

    def _count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1

    def tick(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now

    def add(self, description: str = "") -> str:
        self.serial += 1
        arn = f"{PIPELINE}/execution/x{self.serial:04d}"
        seen_from = self.listings + self.lag
        self.executions[arn] = FakeExecution(arn, self.tick(), "Executing", description, seen_from, description)
        return arn

    # The API -------------------------------------------------------------------------------------------

    def start_pipeline_execution(self, **arguments: Any) -> dict[str, Any]:
        self._count("StartPipelineExecution")
        return {"PipelineExecutionArn": self.add(arguments.get("PipelineExecutionDescription", ""))}

    def update_pipeline_execution(self, **arguments: Any) -> dict[str, Any]:
        self._count("UpdatePipelineExecution")
        execution = self.executions[arguments["PipelineExecutionArn"]]
        if "PipelineExecutionDescription" in arguments:
            execution.description = arguments["PipelineExecutionDescription"]
            execution.description_from = self.listings + self.lag
        return {"PipelineExecutionArn": execution.arn}

    class exceptions:
        class ResourceNotFound(Exception):
            pass

    def describe_pipeline_execution(self, **arguments: Any) -> dict[str, Any]:
        self._count("DescribePipelineExecution")
        execution = self.executions.get(arguments["PipelineExecutionArn"])
        if execution is None:
            raise self.exceptions.ResourceNotFound(arguments["PipelineExecutionArn"])
        return {
            "PipelineExecutionArn": execution.arn,
            "PipelineExecutionStatus": execution.status,
            "CreationTime": execution.start,
            "LastModifiedTime": execution.modified or execution.start,
            "PipelineExecutionDescription": execution.description,
        }

    def get_paginator(self, name: str) -> FakeSageMaker:
        assert name == "list_pipeline_executions"
        return self

    def paginate(self, **arguments: Any) -> Iterator[dict[str, Any]]:
        assert arguments["SortBy"] == "CreationTime" and arguments["SortOrder"] == "Descending"
        size = arguments["PaginationConfig"]["PageSize"]
        limit = arguments["PaginationConfig"]["MaxItems"]
        self.listings += 1
        for execution in self.executions.values():
            if self.listings > execution.description_from:
                execution.listed_description = execution.description
        shown = [e for e in self.executions.values() if self.listings > e.listed_from]
        newest = sorted(shown, key=lambda e: (e.start, e.arn), reverse=True)[:limit]
        for index in range(0, max(len(newest), 1), size):
            self._count("ListPipelineExecutions")
            yield {
                "PipelineExecutionSummaries": [
                    {
                        "PipelineExecutionArn": e.arn,
                        "PipelineExecutionStatus": e.status,
                        "StartTime": e.start,
                        "PipelineExecutionDescription": e.listed_description,
                    }
                    for e in newest[index : index + size]
                ]
            }


class Backend(Protocol):
    """Where the executions live: the in-memory fake (most examples) or the emulator (a few)."""

    client: Any

    def outside(self) -> str: ...
    def set_status(self, arn: str, status: str) -> None: ...
    def delete(self, arn: str) -> None: ...
    def state(self) -> dict[str, tuple[str, dt.datetime, str]]: ...  # arn -> (status, start, description)


class FakeBackend:
    def __init__(self) -> None:
        self.client = FakeSageMaker(now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))

    def outside(self) -> str:
        return self.client.add("started in Studio")

    def set_status(self, arn: str, status: str) -> None:
        execution = self.client.executions[arn]
        execution.status, execution.modified = status, self.client.tick()

    def delete(self, arn: str) -> None:
        del self.client.executions[arn]

    def state(self) -> dict[str, tuple[str, dt.datetime, str]]:
        return {e.arn: (e.status, e.start, e.description) for e in self.client.executions.values()}


class EmulatorBackend:
    """The emulator (tests/emulator), through its control API and a boto3 client on its SageMaker API."""

    def __init__(self, emulator: Any, pipeline: str, client: Any) -> None:
        self.emulator, self.pipeline, self.client = emulator, pipeline, client

    def outside(self) -> str:
        return str(self.emulator.start_execution(self.pipeline))

    def set_status(self, arn: str, status: str) -> None:
        self.emulator.finish(arn, status)

    def delete(self, arn: str) -> None:
        self.emulator.delete_execution(arn)

    def state(self) -> dict[str, tuple[str, dt.datetime, str]]:
        pages = self.client.get_paginator("list_pipeline_executions").paginate(PipelineName=self.pipeline)
        return {
            s["PipelineExecutionArn"]: (
                s["PipelineExecutionStatus"],
                s["StartTime"],
                s.get("PipelineExecutionDescription", ""),
            )
            for page in pages
            for s in page["PipelineExecutionSummaries"]
        }


@dataclass
class Concourse:
    """One resource's version history, saved by Concourse's rules; ``moves`` records any answer that moved a
    version already in the history (an answer must be the version on top followed by new ones only)."""

    history: list[str] = field(default_factory=list)
    moves: list[tuple[list[str], list[str]]] = field(default_factory=list)

    @property
    def top(self) -> str | None:
        return self.history[-1] if self.history else None

    def save_check(self, answer: list[str]) -> None:
        new = [arn for arn in answer if arn not in self.history]
        known = [arn for arn in answer if arn in self.history]
        if (
            len(set(answer)) != len(answer)
            or (new and known not in ([], [self.top]))
            or (known and answer[0] != known[0])
        ):
            self.moves.append((list(self.history), list(answer)))
        if new:  # nothing new: nothing changes; else the whole answer is restamped on top, in its order
            self.history = [arn for arn in self.history if arn not in answer] + answer

    def save_put(self, arn: str) -> None:
        if arn not in self.history:
            self.history.append(arn)
