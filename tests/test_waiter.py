"""The polling loop of put's (and get's) ``wait``, in-process with a scripted client and a fake clock."""

import datetime as dt

import pytest
from botocore import exceptions as bex

from sagemaker_pipeline_resource.aws.transient import is_transient
from sagemaker_pipeline_resource.errors import ResourceError
from sagemaker_pipeline_resource.execution.pipeline_steps import failed_steps, step_label
from sagemaker_pipeline_resource.execution.waiting import MAX_BACKOFF, STALE_LIMIT, Progress, wait

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)


def client_error(code: str, status: int, message: str = "boom") -> bex.ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return bex.ClientError(response, "DescribePipelineExecution")  # type: ignore[arg-type]


class Clock:
    """A fake monotonic clock that sleeping moves forward."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedClient:
    """Answers DescribePipelineExecution from a script of (status, minutes after T0) or exceptions to raise;
    steps follow it, or come from ``steps`` (a list per poll)."""

    def __init__(self, script, steps=None):
        self.script = list(script)
        self.steps = steps
        self.describes = 0

    def describe_pipeline_execution(self, PipelineExecutionArn):
        entry = self.script[min(self.describes, len(self.script) - 1)]
        self.describes += 1
        if isinstance(entry, BaseException):
            raise entry
        status, minutes = entry
        return {"PipelineExecutionStatus": status, "LastModifiedTime": T0 + dt.timedelta(minutes=minutes)}

    def get_paginator(self, name):
        client = self

        class Pages:
            def paginate(self, **kwargs):
                if client.steps is not None:
                    yield {"PipelineExecutionSteps": client.steps[min(client.describes, len(client.steps)) - 1]}
                    return
                status = client.script[min(client.describes, len(client.script)) - 1][0]
                yield {
                    "PipelineExecutionSteps": [
                        {"StepName": "Train", "StepStatus": status, "Metadata": {"TrainingJob": {}}}
                    ]
                }

        return Pages()


def run_wait(client, *, poll_interval=10.0, timeout=None, **kwargs):
    clock, lines = Clock(), []
    result = wait(client, "arn", poll_interval, timeout, sleep=clock.sleep, clock=clock, write=lines.append, **kwargs)
    return result, clock, lines


def test_waits_until_finished():
    client = ScriptedClient([("Executing", 1), ("Executing", 2), ("Succeeded", 3)])
    result, clock, _ = run_wait(client)
    assert result.description["PipelineExecutionStatus"] == "Succeeded" and not result.timed_out
    assert client.describes == 3 and clock.sleeps == [10.0, 10.0]


def test_a_retry_does_not_stop_at_the_old_failure():
    # Right after RetryPipelineExecution, AWS may still answer the old Failed status.
    client = ScriptedClient([("Failed", -5), ("Failed", -5), ("Executing", 1), ("Succeeded", 2)])
    result, _, lines = run_wait(client, not_before=T0)
    assert result.description["PipelineExecutionStatus"] == "Succeeded"
    assert sum("outcome from before the retry" in line for line in lines) == 1


def test_after_running_a_final_status_counts_whatever_its_timestamp():
    # Our clock ahead of AWS's: the retry's own failure looks older than the retry; it was seen running.
    client = ScriptedClient([("Executing", -9), ("Failed", -8)])
    result, clock, _ = run_wait(client, not_before=T0)
    assert result.description["PipelineExecutionStatus"] == "Failed" and clock.now == 10


def test_a_stale_status_is_accepted_after_a_bounded_time_not_a_count():
    client = ScriptedClient([("Failed", -5)])
    result, clock, _ = run_wait(client, poll_interval=1, not_before=T0)
    assert result.description["PipelineExecutionStatus"] == "Failed"
    assert clock.now == STALE_LIMIT  # 120 polls at 1 s: the old Failed was never taken for the outcome
    result, clock, _ = run_wait(ScriptedClient([("Failed", -5)]), poll_interval=60, not_before=T0)
    assert clock.now == STALE_LIMIT  # 3 polls at 60 s


def test_timeout():
    result, clock, _ = run_wait(ScriptedClient([("Executing", 1)]), poll_interval=10, timeout=25)
    assert result.timed_out and clock.now == 25


def test_an_outage_is_ridden_out_and_logged_once():
    outage = [client_error("ThrottlingException", 400), client_error("ServiceUnavailable", 503)] * 3 + [
        bex.EndpointConnectionError(endpoint_url="https://x"),
        bex.ReadTimeoutError(endpoint_url="https://x"),
        bex.ConnectionClosedError(endpoint_url="https://x"),
    ]
    client = ScriptedClient([("Executing", 1), *outage, ("Succeeded", 30)])
    result, clock, lines = run_wait(client, poll_interval=10, outage_budget=900)
    assert result.description["PipelineExecutionStatus"] == "Succeeded"
    assert clock.sleeps == [10, 10, 20, 40, 60, 60, 60, 60, 60, 60]  # backoff from poll_interval, capped
    assert MAX_BACKOFF == 60
    failing = [line for line in lines if line.startswith("wait: AWS is failing")]
    assert len(failing) == 1 and "ThrottlingException" in failing[0]
    assert [line for line in lines if "answers again" in line] == [
        "wait: AWS answers again after 7m10s (9 failed polls)"
    ]


def test_an_outage_longer_than_the_budget_fails_with_the_last_error():
    client = ScriptedClient([("Executing", 1), client_error("InternalFailure", 500)])
    with pytest.raises(bex.ClientError):
        run_wait(client, poll_interval=30, outage_budget=900)
    assert client.describes >= 5  # it kept trying, with backoff, for the budget: no more
    assert client.describes < 25


def test_the_budget_is_continuous_failure_not_a_total():
    blip = [client_error("ThrottlingException", 400)] * 4
    client = ScriptedClient(
        [("Executing", 1), *blip, ("Executing", 2), *blip, ("Executing", 3), *blip, ("Succeeded", 9)]
    )
    result, _, lines = run_wait(client, poll_interval=10, outage_budget=100)
    assert result.description["PipelineExecutionStatus"] == "Succeeded"
    assert sum(line.startswith("wait: AWS is failing") for line in lines) == 3


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException", 400),
        client_error("ResourceNotFound", 400),
        client_error("ValidationException", 400),
        bex.SSLError(endpoint_url="https://x", error="certificate verify failed"),
        bex.NoCredentialsError(),
    ],
)
def test_permanent_errors_fail_at_once(error):
    client = ScriptedClient([("Executing", 1), error, ("Succeeded", 2)])
    with pytest.raises(type(error)):
        run_wait(client)
    assert client.describes == 2


def test_classification_follows_botocore():
    assert is_transient(client_error("ThrottlingException", 400))
    assert is_transient(client_error("SlowDown", 503))
    assert is_transient(client_error("Whatever", 502))
    assert is_transient(client_error("RequestTimeout", 400))
    assert is_transient(bex.ConnectTimeoutError(endpoint_url="https://x"))
    assert not is_transient(client_error("AccessDeniedException", 400))
    assert not is_transient(client_error("ConflictException", 400))
    assert not is_transient(ValueError("a bug"))
    # expired credentials pass only when they renew themselves (an assumed role)
    assert is_transient(client_error("ExpiredTokenException", 400), refreshable=True)
    assert not is_transient(client_error("ExpiredTokenException", 400), refreshable=False)
    # a failure to refresh the role's credentials reaches the waiter wrapped in a ResourceError
    try:
        try:
            raise client_error("Throttling", 400)
        except bex.ClientError as cause:
            raise ResourceError("AWS refused assuming the role") from cause
    except ResourceError as wrapped:
        assert is_transient(wrapped)


def test_timeout_during_an_outage_reports_the_last_known_status():
    client = ScriptedClient([("Executing", 1), client_error("ServiceUnavailable", 503)])
    result, clock, _ = run_wait(client, poll_interval=10, timeout=100, outage_budget=900)
    assert result.timed_out and result.description["PipelineExecutionStatus"] == "Executing" and clock.now == 100


def test_progress_prints_transitions_only():
    lines = []
    progress = Progress(write=lines.append)
    step = {"StepName": "Train", "StepStatus": "Executing", "Metadata": {"TrainingJob": {"Arn": "x"}}}
    progress.update([step])
    progress.update([step])
    progress.update([{**step, "StepStatus": "Succeeded", "StartTime": T0, "EndTime": T0 + dt.timedelta(seconds=75)}])
    assert lines == ["  step Train (TrainingJob): Executing", "  step Train (TrainingJob): Succeeded after 1m15s"]


def iteration(index, status, attempt=1):
    return {
        "StepName": "Score",
        "StepStatus": status,
        "AttemptCount": attempt,
        "IterationContext": {"ParentStepName": "ForEachRegion", "Index": index, "Item": f"r{index}"},
        "Metadata": {"ProcessingJob": {}},
    }


def test_foreach_iterations_and_attempts_print_each_transition_once():
    lines = []
    progress = Progress(write=lines.append)
    polls = [
        [iteration(0, "Executing"), iteration(1, "Executing")],
        [iteration(0, "Succeeded"), iteration(1, "Failed")],
        [iteration(0, "Succeeded"), iteration(1, "Failed"), iteration(1, "Executing", attempt=2)],
        [iteration(0, "Succeeded"), iteration(1, "Failed"), iteration(1, "Succeeded", attempt=2)],
    ]
    for steps in [poll for poll in polls for _ in range(2)]:  # every poll seen twice: nothing printed again
        progress.update(steps)
    assert lines == [
        "  step Score[r0] (ProcessingJob): Executing",
        "  step Score[r1] (ProcessingJob): Executing",
        "  step Score[r0] (ProcessingJob): Succeeded",
        "  step Score[r1] (ProcessingJob): Failed",
        "  step Score[r1] (attempt 2) (ProcessingJob): Executing",
        "  step Score[r1] (attempt 2) (ProcessingJob): Succeeded",
    ]


def test_failed_steps_name_each_step_execution_once():
    assert failed_steps(polls_final := [iteration(0, "Failed"), iteration(1, "Failed", attempt=2)]) == polls_final
    assert [step_label(step) for step in failed_steps([*polls_final, iteration(0, "Failed")])] == [
        "Score[r0]",
        "Score[r1] (attempt 2)",
    ]
    # a failed attempt that a later attempt replaced is not the execution's failure
    assert failed_steps([iteration(1, "Failed"), iteration(1, "Succeeded", attempt=2)]) == []
