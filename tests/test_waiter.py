"""The polling loop of put's ``wait``, in-process with a scripted client and a fake clock."""

import datetime as dt

from sagemaker_pipeline_resource.waiter import STALE_POLLS, Progress, wait

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)


class ScriptedClient:
    """Answers DescribePipelineExecution from a script of (status, minutes after T0); steps follow it."""

    def __init__(self, script):
        self.script = list(script)
        self.describes = 0

    def describe_pipeline_execution(self, PipelineExecutionArn):
        status, minutes = self.script[min(self.describes, len(self.script) - 1)]
        self.describes += 1
        return {"PipelineExecutionStatus": status, "LastModifiedTime": T0 + dt.timedelta(minutes=minutes)}

    def get_paginator(self, name):
        client = self

        class Pages:
            def paginate(self, **kwargs):
                status = client.script[min(client.describes, len(client.script)) - 1][0]
                yield {
                    "PipelineExecutionSteps": [
                        {"StepName": "Train", "StepStatus": status, "Metadata": {"TrainingJob": {}}}
                    ]
                }

        return Pages()


def test_waits_until_finished():
    client = ScriptedClient([("Executing", 1), ("Executing", 2), ("Succeeded", 3)])
    result = wait(client, "arn", 0, None, sleep=lambda _: None)
    assert result.description["PipelineExecutionStatus"] == "Succeeded" and not result.timed_out
    assert client.describes == 3


def test_a_retry_does_not_stop_at_the_old_failure():
    # Right after RetryPipelineExecution, AWS may still answer the old Failed status.
    client = ScriptedClient([("Failed", -5), ("Executing", 1), ("Succeeded", 2)])
    result = wait(client, "arn", 0, None, not_before=T0, sleep=lambda _: None)
    assert result.description["PipelineExecutionStatus"] == "Succeeded"


def test_a_stale_status_is_accepted_after_a_few_polls():
    client = ScriptedClient([("Failed", -5)])
    result = wait(client, "arn", 0, None, not_before=T0, sleep=lambda _: None)
    assert result.description["PipelineExecutionStatus"] == "Failed"
    assert client.describes == STALE_POLLS + 1


def test_timeout():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    client = ScriptedClient([("Executing", 1)])
    result = wait(client, "arn", 10, 25, sleep=sleep, clock=lambda: now[0])
    assert result.timed_out and now[0] == 25


def test_progress_prints_transitions_only():
    lines = []
    progress = Progress(write=lines.append)
    step = {"StepName": "Train", "StepStatus": "Executing", "Metadata": {"TrainingJob": {"Arn": "x"}}}
    progress.update([step])
    progress.update([step])
    progress.update([{**step, "StepStatus": "Succeeded", "StartTime": T0, "EndTime": T0 + dt.timedelta(seconds=75)}])
    assert lines == ["  step Train (TrainingJob): Executing", "  step Train (TrainingJob): Succeeded after 1m15s"]
