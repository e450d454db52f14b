"""Versions under Concourse's real rules: random interleavings of starts, puts, finishes, retries, deletions
and checks, driven in-process against an in-memory SageMaker and a model of Concourse's history
(tests/concourse_model.py), asserting the invariants of README "Ordering":

- one execution is never two versions, and no check answer moves a version already in the history (an
  answer is the version on top followed by new versions only);
- every execution that reaches a counted status becomes a version, except in the one case no stateless
  check can decide (README "Ordering": it finished after the last check and just before a put, with nothing
  older still pending), which the model recognises independently;
- no put starts or saves its version while an execution retried in place is running: that case is the
  other documented exception (see the last test).
- a check with nothing new costs one API call.
"""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import boto3
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from sagemaker_pipeline_resource import check, put
from sagemaker_pipeline_resource.config import (
    DEFAULT_FAIL_ON,
    DEFAULT_STATUSES,
    FINAL_STATUSES,
    RUNNING_STATUSES,
    SourceConfig,
)
from sagemaker_pipeline_resource.version import ExecutionVersion
from tests.concourse_model import PIPELINE, Backend, Concourse, EmulatorBackend, FakeBackend

EXAMPLES = 600
EMULATOR_EXAMPLES = 25

# (operation, weight): hypothesis draws a seed, a random.Random draws the interleaving from it, so the examples
# spread over many shapes (hypothesis's own list mutation keeps neighbouring examples alike).
OPERATIONS = [
    ("outside", 3),  # started elsewhere (Studio, a schedule, another pipeline)
    ("put", 2),  # put without wait: its version saved at once
    ("put_wait", 2),  # put with wait: saved when it returns, unless fail_on
    ("finish", 6),  # in any final status, CompletedWithFailures included
    ("end_put", 2),  # a waiting put returns (its version saved unless its status is in fail_on)
    ("abort_put", 0.5),  # a waiting put times out or is aborted: nothing saved
    ("retry", 0.7),  # in place, from Studio: a Failed execution runs again under the same ARN
    ("delete", 0.5),  # aged out
    ("check", 4),
]


def interleaving(seed: int, checks_keep_up: bool = False) -> list[tuple]:
    """A random sequence of operations; ``checks_keep_up``: a check after every finish, as when Concourse
    checks every minute and executions finish minutes apart (then neither undecidable case can arise)."""
    rng = random.Random(seed)
    names, weights = zip(*OPERATIONS, strict=True)
    ops: list[tuple] = []
    for _ in range(rng.randint(4, 40)):
        name = rng.choices(names, weights)[0]
        which = rng.choice([0, 0, 1, -1, -1, -2])  # oldest (0) or newest (-1) first
        if name == "finish":
            ops.append((name, which, rng.choice(FINAL_STATUSES)))
            if checks_keep_up:
                ops.append(("check", 0))
        elif name in ("put", "put_wait"):
            ops.append(("put", name == "put_wait"))
        else:
            ops.append((name, which))
    return ops


statuses = st.sampled_from([DEFAULT_STATUSES, ("Succeeded",), ("Succeeded", "CompletedWithFailures")])


def no_sleep(seconds: float) -> None:
    pass


class World:
    """The executions (a backend), Concourse's history for one resource, and what the model knows itself."""

    def __init__(self, counted: tuple[str, ...], backend: Backend | None = None, pipeline: str = PIPELINE) -> None:
        self.config = SourceConfig(pipeline=pipeline, statuses=counted)
        self.backend: Backend = backend or FakeBackend()
        self.pipeline = pipeline
        self.aws = SimpleNamespace(config=self.config, sagemaker=lambda: self.backend.client)
        self.concourse = Concourse()
        self.waiting: list[str] = []  # executions of puts with wait that have not returned
        self.retried: set[str] = set()
        self.deleted_unemitted: set[str] = set()
        self.at_risk: set[str] = set()
        self.before_first: set[str] = set()
        self.excused_moves = False
        self.puts = 0
        self.past_first_check = False
        self.now = self.backend.state()

    def clock(self):
        tick = getattr(self.backend.client, "tick", None)
        return tick() if tick else dt.datetime.now(dt.timezone.utc)

    def executions(self, *wanted: str) -> list[str]:
        """Those in one of the ``wanted`` statuses, oldest first."""
        found = [(start, arn) for arn, (status, start, _) in self.now.items() if status in wanted]
        return [arn for _, arn in sorted(found)]

    def retry_running(self) -> bool:
        return any(self.now[arn][0] in RUNNING_STATUSES for arn in self.retried if arn in self.now)

    def pick(self, arns: list[str], i: int) -> str | None:
        return arns[i % len(arns)] if arns else None

    def check(self) -> list[str]:
        top = self.concourse.top
        answer = [v.execution_arn for v in check.check(self.aws, ExecutionVersion(top) if top else None)]
        if not self.concourse.history and answer:
            # The first version is the newest settled execution: the ones before it are history, not versions.
            first = self.now[answer[0]][1]
            self.before_first |= {arn for arn, (_, start, _) in self.now.items() if start < first}
        self.concourse.save_check(answer)
        return answer

    def note_race(self, put_arn: str) -> None:
        """The undecidable case, by the model's own knowledge: when a put's version is saved, a counted,
        finished execution not yet in the history with nothing older still pending (README "Ordering")."""
        history = self.concourse.history
        pending = [
            start
            for arn, (status, start, _) in self.now.items()
            if status in RUNNING_STATUSES and arn not in history and arn != put_arn
        ]
        for arn, (status, start, _) in self.now.items():
            if arn != put_arn and status in self.config.statuses and arn not in history:
                if not any(older < start for older in pending):
                    self.at_risk.add(arn)

    def put(self, wait: bool) -> None:
        client = self.backend.client
        self.puts += 1
        arguments = {"PipelineName": self.pipeline, "PipelineExecutionDescription": "nightly"}
        request = put.Request("start", {**arguments, "ClientRequestToken": f"{self.puts:032d}"})
        put._mark_start(client, request, self.config, saved=not wait)
        arn = client.start_pipeline_execution(**request.arguments)["PipelineExecutionArn"]
        self.now = self.backend.state()
        if wait:
            self.waiting.append(arn)
        else:
            self.note_race(arn)
            self.concourse.save_put(arn)

    def end_put(self, arn: str, aborted: bool) -> None:
        self.waiting.remove(arn)
        if aborted or arn not in self.now or self.now[arn][0] in DEFAULT_FAIL_ON:
            return  # the put exits non-zero: Concourse saves nothing
        if arn not in self.concourse.history and arn in self.at_risk | self.before_first:
            # The second undecidable case (README "Ordering"): this execution finished unseen by any check
            # and the history went past it (the first case, or the resource's first check), then its own put
            # saves it on top.
            self.excused_moves = True
            self.past_first_check |= arn in self.before_first and arn not in self.at_risk
        description = {"PipelineExecutionDescription": self.now[arn][2]}
        put._mark_saved(self.backend.client, arn, description, self.config, sleep=no_sleep, clock=self.clock)
        self.now = self.backend.state()
        self.note_race(arn)
        self.concourse.save_put(arn)

    def apply(self, op: tuple) -> None:
        kind = op[0]
        backend = self.backend
        if kind == "outside":
            backend.outside()
        elif kind == "put":
            if not self.retry_running():
                self.put(op[1])  # a put during an in-place retry is the other documented exception (below)
        elif kind == "finish":
            arn = self.pick(self.executions(*RUNNING_STATUSES), op[1])
            if arn:
                backend.set_status(arn, op[2])
        elif kind in ("end_put", "abort_put"):
            if kind == "end_put" and self.retry_running():
                return  # saving a put's version during an in-place retry: the same documented exception
            done = [a for a in self.waiting if self.now[a][0] not in RUNNING_STATUSES]
            arn = self.pick(done if kind == "end_put" else self.waiting, op[1])
            if arn:
                self.end_put(arn, aborted=kind == "abort_put")
        elif kind == "retry":
            arn = self.pick(self.executions("Failed"), op[1])
            if arn and arn not in self.waiting:
                backend.set_status(arn, "Executing")
                self.retried.add(arn)
        elif kind == "delete":
            done = [a for a in self.executions(*FINAL_STATUSES) if a != self.concourse.top and a not in self.waiting]
            arn = self.pick(done, op[1])
            if arn:
                if arn not in self.concourse.history:
                    self.deleted_unemitted.add(arn)
                backend.delete(arn)
        elif kind == "check":
            self.check()
        self.now = backend.state()

    def drain(self) -> None:
        """Everything finishes, every waiting put returns, checks run until nothing changes."""
        for arn in self.executions(*RUNNING_STATUSES):
            self.backend.set_status(arn, "Succeeded")
            self.now = self.backend.state()
            self.check()  # checks keep up while draining: the drain adds no race of its own
        for arn in list(self.waiting):
            self.end_put(arn, aborted=False)
            self.check()
        for _ in range(len(self.now) + 2):
            before = list(self.concourse.history)
            self.check()
            if self.concourse.history == before:
                break

    def assert_invariants(self) -> None:
        history = self.concourse.history
        if not self.excused_moves:
            assert not self.concourse.moves, f"a check answer moved known versions: {self.concourse.moves[0]}"
        assert len(set(history)) == len(history)
        counted = set(self.executions(*self.config.statuses)) - self.retried  # a retry keeps its first version
        lost = {arn for arn in counted if arn not in history} - self.at_risk - self.deleted_unemitted
        assert not lost - self.before_first, f"lost: {sorted(lost)}; history {history}"


RACES = {"examples": 0, "lost_to_race": 0, "moves_excused": 0}  # how often the documented cases came up


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(counted=statuses, seed=st.integers(0, 2**32))
def test_versions_are_never_lost_doubled_or_moved(counted, seed) -> None:
    operations = interleaving(seed)
    note(f"operations: {operations}")
    world = World(counted)
    for op in operations:
        world.apply(op)
    world.drain()
    world.assert_invariants()
    if world.excused_moves:
        return  # the history disagrees with any order a check can compute: the next check is not idle
    # Nothing new: one call.
    calls = world.backend.client.calls
    calls.clear()
    history = world.concourse.history
    assert world.check() == ([history[-1]] if history else [])
    assert calls == {"ListPipelineExecutions": 1}
    RACES["examples"] += 1
    RACES["lost_to_race"] += bool(world.at_risk - set(history))
    RACES["moves_excused"] += world.excused_moves


@settings(max_examples=EXAMPLES // 2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(counted=statuses, seed=st.integers(0, 2**32))
def test_when_checks_keep_up_nothing_is_lost_and_nothing_moves(counted, seed) -> None:
    operations = interleaving(seed, checks_keep_up=True)
    note(f"operations: {operations}")
    world = World(counted)
    for op in operations:
        world.apply(op)
    world.drain()
    assert not world.at_risk - set(world.concourse.history) - world.retried - world.before_first
    assert not world.excused_moves or world.past_first_check  # a wait that outlived the resource's first check
    world.assert_invariants()


@settings(max_examples=EMULATOR_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(counted=statuses, seed=st.integers(0, 2**32))
def test_the_same_against_the_emulator(emulator_server, counted, seed) -> None:
    operations = interleaving(seed)[:25]
    note(f"operations: {operations}")
    emulator_server.reset()
    pipeline = emulator_server.create_pipeline("churn", steps=[{"name": "Train", "type": "Training"}])
    client = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        endpoint_url=emulator_server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    world = World(counted, EmulatorBackend(emulator_server, pipeline, client), pipeline)
    for op in operations:
        world.apply(op)
    world.drain()
    world.assert_invariants()


def test_a_put_during_an_in_place_retry_is_the_documented_exception() -> None:
    """README "Ordering": a put cannot tell an execution retried in place (already a version) from one that
    never finished; it places its version before it, and when the retry ends the versions after the
    retried one are emitted again next to a new one, which moves them. Kept here so the README stays true."""
    world = World(DEFAULT_STATUSES)
    for op in [("outside",), ("finish", 0, "Succeeded"), ("check",), ("outside",), ("finish", 0, "Failed")]:
        world.apply(op)
    for op in [("check",), ("outside",), ("finish", 0, "Succeeded"), ("check",), ("retry", 0)]:
        world.apply(op)
    world.put(wait=False)
    for op in [("outside",), ("finish", 0, "Succeeded"), ("finish", 0, "Succeeded"), ("finish", 0, "Succeeded")]:
        world.apply(op)
    world.check()
    assert world.concourse.moves
