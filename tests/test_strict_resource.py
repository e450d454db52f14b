"""The resource, through the .pyz, against the emulator's strict behaviours (tests/emulator/strict.py).

Each test depends on one strictness switch or credential fault: it would pass against a kinder emulator
only if the resource were right by luck. Where AWS's behaviour is unverified, both plausible ones are run.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from tests.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY

NOW = dt.datetime.now(dt.timezone.utc)


def versions(result) -> list[str]:
    return [version["execution_arn"] for version in result.json]


# Listing is not polling --------------------------------------------------------------------------


def test_check_does_not_change_what_it_observes(run, emulator, pipeline, source):
    [old] = emulator.seed_executions(pipeline, 1, start=NOW - dt.timedelta(hours=1))
    emulator.set_lifecycle(finish_after_polls=1)
    running = run("out", {"source": source, "params": {}}).json["version"]["execution_arn"]
    polls = emulator.describe(running)["polls"]
    answers = [versions(run("check", {"source": source, "version": {"execution_arn": old}})) for _ in range(3)]
    assert answers == [[old]] * 3  # held back by the running execution, every time
    assert emulator.describe(running)["polls"] == polls
    assert emulator.describe(running)["status"] == "Executing"


# A just-started execution is not found for a moment ----------------------------------------------


@pytest.mark.parametrize("wait", [False, True])
def test_put_rides_out_the_not_found_window_after_start(run, emulator, pipeline, source, wait):
    emulator.set_strictness(not_found_reads=2)
    emulator.set_lifecycle(finish_after_polls=1)
    emulator.clear_requests()
    params = {"wait": True, "poll_interval": 1} if wait else {}
    result = run("out", {"source": source, "params": params})
    version = result.json["version"]["execution_arn"]
    assert version.startswith(pipeline + "/execution/")
    assert result.stderr.count("is not visible yet") == 2
    counts = emulator.request_counts()
    assert counts["StartPipelineExecution"] == 1
    assert counts["DescribePipelineExecution"] >= 3


def test_put_rides_out_a_timed_not_found_window(run, emulator, pipeline, source):
    emulator.set_strictness(not_found_seconds=1.0)
    result = run("out", {"source": source, "params": {}})
    assert result.json["version"]["execution_arn"].startswith(pipeline + "/execution/")
    assert "is not visible yet" in result.stderr


def test_put_gives_up_when_the_execution_never_appears(run, emulator, source):
    emulator.set_strictness(not_found_reads=10)
    result = run("out", {"source": source, "params": {}})
    assert result.returncode == 1
    assert "ResourceNotFound" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


# ClientRequestToken: reuse with other parameters, expiry -----------------------------------------


@pytest.mark.parametrize("mismatch", ["reject", "first"])
def test_explicit_token_reused_for_another_request(run, emulator, source, mismatch):
    emulator.set_strictness(token_mismatch=mismatch)
    token = "my-own-token-" + "0" * 30
    first = run("out", {"source": source, "params": {"client_request_token": token, "parameters": {"Epochs": "1"}}})
    other = run("out", {"source": source, "params": {"client_request_token": token, "parameters": {"Epochs": "2"}}})
    if mismatch == "reject":
        assert other.returncode == 1 and other.stdout == ""
        assert "ValidationException" in other.stderr and "different parameters" in other.stderr
        assert "Traceback" not in other.stderr
    else:  # AWS answering the first request's execution: the put reports that execution, not a new one
        assert other.json["version"] == first.json["version"]


def test_derived_token_differs_per_request_so_a_mismatch_cannot_happen(run, emulator, source):
    emulator.set_strictness(token_mismatch="reject")
    one = run("out", {"source": source, "params": {"parameters": {"Epochs": "1"}}}).json["version"]
    two = run("out", {"source": source, "params": {"parameters": {"Epochs": "2"}}}).json["version"]
    assert one != two


@pytest.mark.parametrize("ttl", [None, 0.5])
def test_put_is_idempotent_for_as_long_as_aws_remembers_the_token(run, emulator, source, ttl):
    emulator.set_strictness(token_ttl_seconds=ttl)
    payload = {"source": source, "params": {}}
    first = run("out", payload).json["version"]
    time.sleep(0.6)
    again = run("out", payload).json["version"]
    assert (again == first) is (ttl is None)


# StartTime distinct from CreationTime -------------------------------------------------------------


def test_check_emits_each_execution_once_when_start_time_trails_creation(run, emulator, pipeline, source, sm):
    [old] = emulator.seed_executions(pipeline, 1, start=NOW - dt.timedelta(hours=1))
    emulator.set_strictness(start_delay_seconds=120)  # the first waits two minutes for capacity
    queued = run("out", {"source": source, "params": {}}).json["version"]["execution_arn"]
    emulator.set_strictness()
    prompt = run("out", {"source": source, "params": {}}, env={"BUILD_ID": "4243"}).json["version"]["execution_arn"]
    for arn in (queued, prompt):
        emulator.finish(arn)
    assert (
        sm.describe_pipeline_execution(PipelineExecutionArn=queued)["CreationTime"]
        < (sm.describe_pipeline_execution(PipelineExecutionArn=prompt)["CreationTime"])
    )
    # Checked by another resource on the same pipeline (another source): these puts' versions are not in its
    # history (this resource's check never emits a version its own put saved: docs/ordering.md "Ordering").
    other = {**source, "max_pages": 9}
    emitted = versions(run("check", {"source": other, "version": {"execution_arn": old}}))
    assert emitted == [old, prompt, queued]  # start order: the queued one started last


# Credential faults, each message end to end ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "code", "hint"),
    [
        ("expired_token", "ExpiredTokenException", "refresh source.session_token"),
        ("invalid_client_token_id", "UnrecognizedClientException", "access key is not known"),
        ("signature_mismatch", "InvalidSignatureException", "check source.secret_access_key"),
        ("access_denied", "AccessDeniedException", "check the IAM policy"),
    ],
)
def test_credential_errors_are_explained(run, emulator, source, kind, code, hint):
    emulator.credential_fault(ACCESS_KEY_ID, kind)
    result = run("check", {"source": source})
    assert result.returncode == 1 and result.stdout == ""
    assert code in result.stderr and hint in result.stderr
    assert "Traceback" not in result.stderr and SECRET_ACCESS_KEY not in result.stderr


def test_access_denied_on_start_only(run, emulator, source):
    emulator.credential_fault(ACCESS_KEY_ID, "access_denied", operation="StartPipelineExecution")
    assert run("check", {"source": source}).json == []
    result = run("out", {"source": source, "params": {}})
    assert result.returncode == 1
    assert "AccessDeniedException" in result.stderr and "sagemaker:StartPipelineExecution" in result.stderr
    assert "check the IAM policy" in result.stderr


@pytest.mark.parametrize(
    ("kind", "code", "hint"),
    [
        ("access_denied", "AccessDenied", "trust policy"),
        ("expired_token", "ExpiredToken", "refresh source.session_token"),
        ("invalid_client_token_id", "InvalidClientTokenId", "check source.access_key_id"),
        ("signature_mismatch", "SignatureDoesNotMatch", "check source.secret_access_key"),
    ],
)
def test_assume_role_credential_errors_are_explained(run, emulator, sts_source, kind, code, hint):
    emulator.credential_fault(ACCESS_KEY_ID, kind, operation="AssumeRole")
    source = {**sts_source, "role_arn": "arn:aws:iam::123456789012:role/pipeline-reader"}
    result = run("check", {"source": source})
    assert result.returncode == 1 and result.stdout == ""
    assert code in result.stderr and hint in result.stderr and "assuming the role" in result.stderr
    assert "Traceback" not in result.stderr and SECRET_ACCESS_KEY not in result.stderr


# Step entries: one per ForEach iteration, and possibly one per attempt ---------------------------


@pytest.mark.parametrize("entries", ["per_step", "per_attempt"])
def test_get_after_a_successful_retry_names_no_failed_step(run, emulator, pipeline, source, entries, tmp_path):
    emulator.set_strictness(step_entries=entries)
    arn = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30))
    emulator.finish(arn, "Failed", failing_step="Train", failure_reason="AlgorithmError: NaN")
    assert run("out", {"source": source, "params": {"action": "retry", "execution_arn": arn}}).returncode == 0
    emulator.finish(arn, "Succeeded")
    dest = tmp_path / "retried"
    meta = {m["name"]: m["value"] for m in run("in", {"source": source, "version": {"execution_arn": arn}},
                                                 directory=dest).json["metadata"]}  # fmt: skip
    assert meta["status"] == "Succeeded" and "failed_step" not in meta
    steps = json.loads((dest / "steps.json").read_text(encoding="utf-8"))
    assert len(steps) == (3 if entries == "per_attempt" else 2)  # steps.json keeps every entry AWS listed


def test_waiting_on_a_retry_prints_each_attempt_once(run, emulator, pipeline, source):
    emulator.set_strictness(step_entries="per_attempt")
    arn = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30))
    emulator.finish(arn, "Failed", failing_step="Train")
    emulator.set_lifecycle(finish_after_polls=3)
    params = {"action": "retry", "execution_arn": arn, "wait": True, "poll_interval": 1}
    result = run("out", {"source": source, "params": params})
    assert result.returncode == 0, result.stderr
    train = [line.strip() for line in result.stderr.splitlines() if "step Train" in line]
    assert [line.split(":")[1].split()[0] for line in train] == ["Failed", "Executing", "Succeeded"]
    assert "attempt 2" in train[1] and "attempt 2" in train[2]


def test_waiting_on_a_for_each_prints_every_iteration(run, emulator, source):
    steps = [
        {"name": "TrainEach", "type": "ForEach",
         "arguments": {"Items": ["eu", "us"], "Steps": [{"Name": "TrainRegion", "Type": "Training"}]}},
    ]  # fmt: skip
    other = emulator.create_pipeline("regional", steps=steps)
    emulator.set_lifecycle(finish_after_polls=1, final_status="Failed", failing_step="TrainEach")
    params = {"wait": True, "poll_interval": 1}
    result = run("out", {"source": {**source, "pipeline": other}, "params": params})
    assert result.returncode == 1
    lines = [line.strip() for line in result.stderr.splitlines() if "step TrainRegion" in line]
    assert any(line.startswith("step TrainRegion[eu] (TrainingJob): Succeeded") for line in lines)
    assert any(line.startswith("step TrainRegion[us] (TrainingJob): Failed") for line in lines)
    assert "TrainRegion[us]: " in result.stderr.split("ended Failed")[1]  # names the failed iteration's step
