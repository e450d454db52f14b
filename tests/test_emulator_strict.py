"""The emulator's strictness switches (tests/emulator/strict.py) and its credential faults, one test each.

Each switch also has resource tests that depend on it (tests/test_strict_resource.py): these only show the
emulator does what the switch says.
"""

from __future__ import annotations

import time
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.emulator.client import EmulatorClient, EmulatorError
from tests.test_emulator import aws, error_of, start, status

pytest_plugins = ["tests.emulator.pytest_plugin"]


@pytest.fixture
def sm(emulator: EmulatorClient) -> Any:
    return aws(emulator, "sagemaker")


def test_every_status_of_the_locked_botocore_model_can_be_staged(emulator: EmulatorClient, sm: Any) -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    statuses = model.shape_for("PipelineExecutionStatus").enum
    arn = emulator.create_pipeline("p")
    seen = []
    for name in statuses:
        execution = emulator.start_execution(arn)
        emulator.finish(execution, name)
        seen.append(status(sm, execution))
    assert seen == statuses


def test_listing_is_not_a_poll_unless_switched_on(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.set_lifecycle(finish_after_polls=1)
    arn = start(sm, "p")
    for _ in range(5):
        sm.list_pipeline_executions(PipelineName="p")
    assert emulator.describe(arn)["polls"] == 0
    assert [status(sm, arn), status(sm, arn)] == ["Executing", "Succeeded"]
    emulator.set_strictness(list_is_poll=True)
    listed = start(sm, "p")
    sm.list_pipeline_executions(PipelineName="p")
    assert emulator.describe(listed)["polls"] == 1


def test_a_just_started_execution_is_not_found_for_its_first_reads(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.set_strictness(not_found_reads=2)
    arn = start(sm, "p")
    assert error_of(sm.describe_pipeline_execution, PipelineExecutionArn=arn)["Code"] == "ResourceNotFound"
    assert error_of(sm.list_pipeline_execution_steps, PipelineExecutionArn=arn)["Code"] == "ResourceNotFound"
    assert status(sm, arn) == "Executing"
    assert sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]  # found stays found
    seeded = emulator.start_execution(emulator.create_pipeline("q"))  # staged, not started: no window
    assert status(sm, seeded) == "Executing"


def test_a_just_started_execution_is_not_found_for_some_seconds(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.set_strictness(not_found_seconds=0.3)
    arn = start(sm, "p")
    assert error_of(sm.describe_pipeline_execution, PipelineExecutionArn=arn)["Code"] == "ResourceNotFound"
    time.sleep(0.35)
    assert status(sm, arn) == "Executing"


def test_token_reused_with_other_parameters_is_rejected_or_answered(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    token = "t" * 40
    first = start(sm, "p", ClientRequestToken=token, PipelineParameters=[{"Name": "A", "Value": "1"}])
    again = start(sm, "p", ClientRequestToken=token, PipelineParameters=[{"Name": "A", "Value": "1"}])
    assert again == first
    refused = error_of(
        sm.start_pipeline_execution,
        PipelineName="p",
        ClientRequestToken=token,
        PipelineParameters=[{"Name": "A", "Value": "2"}],
    )
    assert refused["Code"] == "ValidationException" and "different parameters" in refused["Message"]
    emulator.set_strictness(token_mismatch="first")
    assert start(sm, "p", ClientRequestToken=token, PipelineParameters=[{"Name": "A", "Value": "2"}]) == first


def test_tokens_expire(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.set_strictness(token_ttl_seconds=0.3)
    token = "e" * 40
    first = start(sm, "p", ClientRequestToken=token)
    assert start(sm, "p", ClientRequestToken=token) == first
    time.sleep(0.35)
    later = start(sm, "p", ClientRequestToken=token)
    assert later != first
    assert start(sm, "p", ClientRequestToken=token) == later


def test_start_time_can_trail_creation_time(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    same = start(sm, "p")
    emulator.set_strictness(start_delay_seconds=90)
    delayed = start(sm, "p")
    summaries = {s["PipelineExecutionArn"]: s for s in sm.list_pipeline_executions(PipelineName="p")[
        "PipelineExecutionSummaries"]}  # fmt: skip
    for arn, gap in ((same, 0), (delayed, 90)):
        created = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["CreationTime"]
        assert (summaries[arn]["StartTime"] - created).total_seconds() == pytest.approx(gap, abs=0.002)
    assert (emulator.describe(delayed)["start_time"] - emulator.describe(delayed)["creation_time"]).seconds == 90


def test_retry_updates_last_modified_time_and_keeps_creation_time(emulator: EmulatorClient, sm: Any) -> None:
    [failed] = emulator.seed_executions(emulator.create_pipeline("p"), 1, status="Failed")
    before = sm.describe_pipeline_execution(PipelineExecutionArn=failed)
    sm.retry_pipeline_execution(PipelineExecutionArn=failed)
    after = sm.describe_pipeline_execution(PipelineExecutionArn=failed)
    assert after["CreationTime"] == before["CreationTime"]
    assert after["LastModifiedTime"] > before["LastModifiedTime"]


def test_finish_names_the_failing_step(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    for step in ("Preprocess", "Train"):
        execution = emulator.start_execution(arn)
        emulator.finish(execution, "Failed", failing_step=step)
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=execution)["PipelineExecutionSteps"]
        assert [s["StepName"] for s in steps if s["StepStatus"] == "Failed"] == [step]
    with pytest.raises(EmulatorError, match="Unknown step"):
        emulator.finish(emulator.start_execution(arn), "Failed", failing_step="Trian")


def test_strictness_switches_are_validated(emulator: EmulatorClient) -> None:
    for bad in ({"list_is_pol": True}, {"token_mismatch": "maybe"}, {"not_found_reads": -1}):
        with pytest.raises(EmulatorError):
            emulator.set_strictness(**bad)


@pytest.mark.parametrize(
    ("kind", "sagemaker_code", "sts_code", "sts_status"),
    [
        ("expired_token", "ExpiredTokenException", "ExpiredToken", 400),
        ("invalid_client_token_id", "UnrecognizedClientException", "InvalidClientTokenId", 403),
        ("signature_mismatch", "InvalidSignatureException", "SignatureDoesNotMatch", 403),
    ],
)
def test_credential_faults_follow_the_access_key(
    emulator: EmulatorClient, kind: str, sagemaker_code: str, sts_code: str, sts_status: int
) -> None:
    emulator.create_pipeline("p")
    emulator.credential_fault("AKIABADKEY0000000001", kind)
    bad_sm = aws(emulator, "sagemaker", key="AKIABADKEY0000000001")
    error = error_of(bad_sm.list_pipeline_executions, PipelineName="p")
    assert (error["Code"], error["Status"]) == (sagemaker_code, 400)
    error = error_of(aws(emulator, "sts", key="AKIABADKEY0000000001").get_caller_identity)
    assert (error["Code"], error["Status"]) == (sts_code, sts_status)
    aws(emulator, "sagemaker").list_pipeline_executions(PipelineName="p")  # another key is not affected
    emulator.clear_faults()
    bad_sm.list_pipeline_executions(PipelineName="p")


def test_access_denied_on_one_operation(emulator: EmulatorClient) -> None:
    emulator.create_pipeline("p")
    emulator.credential_fault("AKIANOSTART000000001", "access_denied", operation="StartPipelineExecution")
    sm = aws(emulator, "sagemaker", key="AKIANOSTART000000001")
    sm.list_pipeline_executions(PipelineName="p")
    with pytest.raises(ClientError) as caught:
        start(sm, "p")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "sagemaker:StartPipelineExecution" in caught.value.response["Error"]["Message"]
    with pytest.raises(EmulatorError):
        emulator.credential_fault("AKIANOSTART000000001", "bad_luck")


FOR_EACH = [
    {"name": "Prepare", "type": "Processing"},
    {
        "name": "TrainEach",
        "type": "ForEach",
        "arguments": {"Items": ["eu", "us", "ap"], "Steps": [{"Name": "TrainRegion", "Type": "Training"}]},
    },
    {"name": "Register", "type": "RegisterModel"},
]


def test_for_each_iterations_are_entries_with_their_iteration_context(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p", steps=FOR_EACH)
    done = emulator.start_execution(arn)
    emulator.finish(done)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=done, SortOrder="Ascending")["PipelineExecutionSteps"]
    assert [s["StepName"] for s in steps] == ["Prepare", "TrainEach", *["TrainRegion"] * 3, "Register"]
    contexts = [s["IterationContext"] for s in steps if "IterationContext" in s]
    assert contexts == [
        {"ParentStepName": "TrainEach", "Index": i, "Item": item} for i, item in enumerate(["eu", "us", "ap"])
    ]
    jobs = {s["Metadata"]["TrainingJob"]["Arn"] for s in steps if s["StepName"] == "TrainRegion"}
    assert len(jobs) == 3  # one training job per iteration
    for_each = steps[1]["Metadata"]["ForEach"]
    assert (for_each["InputItemCount"], for_each["TotalStepCount"], for_each["SucceededStepCount"]) == (3, 3, 3)
    failed = emulator.start_execution(arn)
    emulator.finish(failed, "Failed", failing_step="TrainEach")
    pages = sm.get_paginator("list_pipeline_execution_steps").paginate(
        PipelineExecutionArn=failed, PaginationConfig={"PageSize": 1}
    )
    steps = [s for page in pages for s in page["PipelineExecutionSteps"]]  # paging tells iterations apart
    assert [(s["StepName"], s["StepStatus"]) for s in steps][::-1] == [
        ("Prepare", "Succeeded"),
        ("TrainEach", "Failed"),
        ("TrainRegion", "Succeeded"),
        ("TrainRegion", "Succeeded"),
        ("TrainRegion", "Failed"),
    ]
    assert steps[0]["IterationContext"]["Item"] == "ap"


@pytest.mark.parametrize("entries", ["per_step", "per_attempt"])
def test_a_retried_step_has_one_entry_or_one_per_attempt(emulator: EmulatorClient, sm: Any, entries: str) -> None:
    emulator.set_strictness(step_entries=entries)
    arn = emulator.create_pipeline("p")
    failed = emulator.start_execution(arn)
    emulator.finish(failed, "Failed", failing_step="Train")
    sm.retry_pipeline_execution(PipelineExecutionArn=failed)
    emulator.finish(failed, "Succeeded")
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=failed, SortOrder="Ascending")[
        "PipelineExecutionSteps"
    ]
    listed = [(s["StepName"], s["StepStatus"], s["AttemptCount"]) for s in steps]
    if entries == "per_step":
        assert listed == [("Preprocess", "Succeeded", 1), ("Train", "Succeeded", 2)]
    else:
        assert listed == [("Preprocess", "Succeeded", 1), ("Train", "Failed", 1), ("Train", "Succeeded", 2)]
