"""waiter.py in-process: the edges tests/test_waiter.py does not pin (``make mutation`` found them).

The lines written and where they go, the request each poll makes, the deadline's boundary, the outage
budget's last pause, and the staleness window measured from the wait's own start.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from botocore import exceptions as bex

from sagemaker_pipeline_resource.execution import waiting as waiter
from sagemaker_pipeline_resource.execution.waiting import Progress, wait
from tests.test_waiter import T0, Clock, ScriptedClient, client_error


class StrictClient(ScriptedClient):
    """Also checks that every call names the execution being waited for."""

    def describe_pipeline_execution(self, PipelineExecutionArn):
        assert PipelineExecutionArn == "arn:exec"
        return super().describe_pipeline_execution(PipelineExecutionArn=PipelineExecutionArn)

    def get_paginator(self, name):
        pages = super().get_paginator(name)

        class Checked:
            def paginate(self, **kwargs):
                assert kwargs["PipelineExecutionArn"] == "arn:exec"
                return pages.paginate(**kwargs)

        return Checked()


def waited(client, *, start=0.0, poll_interval=10.0, timeout=None, **kwargs):
    clock, lines = Clock(), []
    clock.now = start
    result = wait(
        client, "arn:exec", poll_interval, timeout, sleep=clock.sleep, clock=clock, write=lines.append, **kwargs
    )
    return result, clock, lines


class Recording(io.StringIO):
    def __init__(self):
        super().__init__()
        self.flushes = 0

    def flush(self):
        self.flushes += 1
        super().flush()


def test_progress_goes_to_stderr_flushed_by_default(monkeypatch, capsys):
    err = Recording()
    monkeypatch.setattr("sys.stderr", err)
    Progress().update([{"StepName": "Train", "StepStatus": "Executing"}])
    assert err.getvalue() == "  step Train: Executing\n"
    assert err.flushes >= 1
    assert capsys.readouterr().out == ""


def test_progress_lines_for_every_kind_of_step():
    lines = []
    progress = Progress(write=lines.append)
    start, end = T0, T0 + dt.timedelta(seconds=75)
    progress.update(
        [
            {"StepName": "Plain"},
            {"StepName": "Bare", "StepStatus": "Executing", "StartTime": start, "EndTime": end},
            {"StepName": "Boot", "StepStatus": "Starting", "StartTime": start, "EndTime": end, "Metadata": {}},
            {"StepName": "Fit", "StepStatus": "Failed", "StartTime": start, "EndTime": end, "FailureReason": "OOM"},
            {"StepName": "Eval", "StepStatus": "Succeeded", "Metadata": {"ProcessingJob": {"Arn": "a"}}},
        ]
    )
    assert lines == [
        "  step Plain: ?",
        "  step Bare: Executing",
        "  step Boot: Starting",
        "  step Fit: Failed after 1m15s: OOM",
        "  step Eval (ProcessingJob): Succeeded",
    ]


def test_each_poll_names_the_execution_and_status_changes_are_logged_once():
    client = StrictClient([("Executing", 1), ("Executing", 2), ("Succeeded", 3)])
    result, clock, lines = waited(client)
    executions = [line for line in lines if line.startswith("execution ")]
    assert executions == [
        "execution arn:exec: Executing (at 2026-11-27T12:01:00+00:00)",
        "execution arn:exec: Succeeded (at 2026-11-27T12:03:00+00:00)",
    ]
    assert result.steps == [{"StepName": "Train", "StepStatus": "Succeeded", "Metadata": {"TrainingJob": {}}}]
    assert result.timed_out is False
    assert clock.sleeps == [10.0, 10.0]


def test_a_description_without_status_is_final_and_logs_nothing_about_it():
    class Bare(StrictClient):
        def describe_pipeline_execution(self, PipelineExecutionArn):
            self.describes += 1
            return {}

    result, _, lines = waited(Bare([("Succeeded", 0)]))
    assert result.description == {}
    assert not [line for line in lines if line.startswith("execution ")]


def test_the_deadline_is_reached_exactly():
    client = StrictClient([("Executing", 1)])
    result, clock, _ = waited(client, timeout=20)
    assert client.describes == 3  # at 0, 10 and 20 s: a pause that ends on the deadline is still taken
    assert clock.sleeps == [10.0, 10.0, 0.0]
    assert result.timed_out is True
    assert result.steps == [{"StepName": "Train", "StepStatus": "Executing", "Metadata": {"TrainingJob": {}}}]


def test_an_outage_from_the_first_poll_until_the_deadline_raises_it():
    throttled = client_error("ThrottlingException", 400)
    with pytest.raises(bex.ClientError) as caught:
        waited(StrictClient([throttled]), timeout=5)
    assert caught.value is throttled


def test_the_last_pause_of_an_outage_is_what_is_left_of_the_budget():
    throttled = client_error("ThrottlingException", 400)
    clock, lines = Clock(), []
    with pytest.raises(bex.ClientError):
        wait(StrictClient([throttled]), "arn:exec", 10, None, outage_budget=25, sleep=clock.sleep, clock=clock,
             write=lines.append)  # fmt: skip
    assert clock.sleeps == [10.0, 15.0]
    assert lines[-1] == "wait: giving up: AWS has failed for 0m25s, 3 polls in a row (params.outage_budget is 0m25s)"


def test_a_status_modified_exactly_when_the_retry_was_sent_is_the_retry_s():
    client = StrictClient([("Failed", 5)])
    result, _, _ = waited(client, not_before=T0 + dt.timedelta(minutes=5))
    assert client.describes == 1 and result.description["PipelineExecutionStatus"] == "Failed"


def test_the_staleness_window_counts_from_the_start_of_the_wait():
    client = StrictClient([("Failed", 0), ("Failed", 0), ("Executing", 9), ("Succeeded", 10)])
    result, _, lines = waited(client, start=1000.0, not_before=T0 + dt.timedelta(minutes=5))
    assert result.description["PipelineExecutionStatus"] == "Succeeded"
    assert sum("is the outcome from before the retry" in line for line in lines) == 1


def test_stale_limit_and_backoff_constants():
    assert waiter.STALE_LIMIT == 120.0
    assert (waiter.MAX_BACKOFF, waiter.BACKOFF_POLLS) == (60.0, 16)
