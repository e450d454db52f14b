"""The SageMaker Pipelines emulator, exercised over HTTP with boto3 the way the resource will use it.

Each test covers one correction versus stock moto (see tests/emulator/README.md). The server runs once
per session in a subprocess; the ``emulator`` fixture resets it before every test.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from tests.emulator.client import EmulatorClient, EmulatorError
from tests.emulator.model import DEFAULT_PAGE_SIZE

pytest_plugins = ["tests.emulator.pytest_plugin"]

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pipeline-role"
# One attempt per call: fault tests must see each injected failure, not botocore's retries of it.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})

DEFINITION = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "InputPath", "Type": "String", "DefaultValue": "s3://bucket/in"},
            {"Name": "Epochs", "Type": "Integer", "DefaultValue": 3},
        ],
        "PipelineExperimentConfig": {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        },
        "Steps": [
            {"Name": "Prepare", "Type": "Processing", "Arguments": {}},
            {"Name": "Train", "Type": "Training", "Arguments": {}},
            {
                "Name": "CheckAccuracy",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [],
                    "IfSteps": [
                        {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "Churn"}}
                    ],
                    "ElseSteps": [],
                },
            },
        ],
    }
)


def aws(emulator: EmulatorClient, service: str, region: str = "us-east-1", **extra: Any) -> Any:
    """A boto3 client of the emulator with fake credentials ("key"/"secret" override them)."""
    make_client: Any = boto3.client  # typed per service literal; the service here is a variable
    return make_client(
        service,
        endpoint_url=emulator.url,
        region_name=region,
        aws_access_key_id=extra.pop("key", "testing"),
        aws_secret_access_key=extra.pop("secret", "testing"),
        config=extra.pop("config", NO_RETRIES),
        **extra,
    )


@pytest.fixture
def sm(emulator: EmulatorClient) -> Any:
    return aws(emulator, "sagemaker")


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return dict(caught.value.response["Error"]) | {
        "Status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    }


def start(sm: Any, pipeline: str, **kwargs: Any) -> str:
    return str(sm.start_pipeline_execution(PipelineName=pipeline, **kwargs)["PipelineExecutionArn"])


def list_all(sm: Any, **kwargs: Any) -> list[dict[str, Any]]:
    pages = sm.get_paginator("list_pipeline_executions").paginate(**kwargs)
    return [s for page in pages for s in page["PipelineExecutionSummaries"]]


def status(sm: Any, arn: str) -> str:
    return str(sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])


# Pipelines ---------------------------------------------------------------------------------------


def test_pipeline_arn_lower_cases_the_name_and_describe_takes_name_or_arn(sm: Any) -> None:
    arn = sm.create_pipeline(PipelineName="Churn-Model", PipelineDefinition=DEFINITION, RoleArn=ROLE)["PipelineArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/churn-model"
    for name in ("Churn-Model", "churn-model", arn):
        described = sm.describe_pipeline(PipelineName=name)
        assert described["PipelineArn"] == arn
        assert described["PipelineName"] == "Churn-Model"
        assert "CreatedBy" not in described


def test_create_pipeline_is_idempotent_and_names_are_unique(sm: Any) -> None:
    token = "t" * 32
    first = sm.create_pipeline(PipelineName="p", PipelineDefinition="{}", RoleArn=ROLE, ClientRequestToken=token)
    again = sm.create_pipeline(PipelineName="p", PipelineDefinition="{}", RoleArn=ROLE, ClientRequestToken=token)
    assert first["PipelineArn"] == again["PipelineArn"]
    error = error_of(sm.create_pipeline, PipelineName="P", PipelineDefinition="{}", RoleArn=ROLE)
    assert error["Code"] == "ValidationException"
    assert "must be unique" in error["Message"]
    assert error_of(sm.create_pipeline, PipelineName="q", PipelineDefinition="not json", RoleArn=ROLE)["Code"] == (
        "ValidationException"
    )


def test_unknown_pipeline_is_resource_not_found(sm: Any) -> None:
    error = error_of(sm.describe_pipeline, PipelineName="missing")
    assert error["Code"] == "ResourceNotFound"
    assert error["Status"] == 400
    assert error["Message"] == f"Pipeline 'arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/missing' does not exist."
    assert error_of(sm.list_pipeline_executions, PipelineName="missing")["Code"] == "ResourceNotFound"
    assert error_of(sm.start_pipeline_execution, PipelineName="missing")["Code"] == "ResourceNotFound"


def test_delete_pipeline_refuses_while_executions_run(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    execution = emulator.start_execution(arn)
    assert error_of(sm.delete_pipeline, PipelineName="p")["Code"] == "ConflictException"
    emulator.finish(execution)
    assert sm.delete_pipeline(PipelineName="p")["PipelineArn"] == arn
    assert error_of(sm.describe_pipeline, PipelineName="p")["Code"] == "ResourceNotFound"


def test_update_pipeline_makes_a_version_and_executions_keep_theirs(sm: Any) -> None:
    sm.create_pipeline(PipelineName="p", PipelineDefinition=DEFINITION, RoleArn=ROLE)
    old = start(sm, "p")
    updated = sm.update_pipeline(PipelineName="p", PipelineDefinition='{"Version": "2020-12-01", "Steps": []}')
    assert updated["PipelineVersionId"] == 2
    new = start(sm, "p")
    assert sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=old)["PipelineDefinition"] == DEFINITION
    assert sm.describe_pipeline_execution(PipelineExecutionArn=new)["PipelineVersionId"] == 2
    pinned = start(sm, "p", PipelineVersionId=1)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=pinned)["PipelineVersionId"] == 1
    versions = sm.list_pipeline_versions(PipelineName="p")["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [2, 1]


def test_list_pipelines_filters_by_prefix_and_pages(emulator: EmulatorClient, sm: Any) -> None:
    for name in ("churn-a", "churn-b", "fraud", "churn-c"):
        emulator.create_pipeline(name)
    pages = sm.get_paginator("list_pipelines").paginate(
        PipelineNamePrefix="churn", SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    assert [p["PipelineName"] for page in pages for p in page["PipelineSummaries"]] == ["churn-a", "churn-b", "churn-c"]


def test_tags_on_pipelines(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ml"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []


# ListPipelineExecutions ----------------------------------------------------------------------------


def test_list_is_newest_first_by_default_and_pages(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    seeded = emulator.seed_executions(arn, 25)
    first = sm.list_pipeline_executions(PipelineName="p")
    assert len(first["PipelineExecutionSummaries"]) == DEFAULT_PAGE_SIZE
    assert "NextToken" in first
    assert [s["PipelineExecutionArn"] for s in list_all(sm, PipelineName="p")] == seeded[::-1]
    pages = list(
        sm.get_paginator("list_pipeline_executions").paginate(PipelineName=arn, PaginationConfig={"PageSize": 7})
    )
    assert [len(p["PipelineExecutionSummaries"]) for p in pages] == [7, 7, 7, 4]
    assert "NextToken" not in pages[-1]


def test_sort_by_arn_and_ascending(emulator: EmulatorClient, sm: Any) -> None:
    seeded = emulator.seed_executions(emulator.create_pipeline("p"), 30)
    ascending = list_all(sm, PipelineName="p", SortOrder="Ascending", PaginationConfig={"PageSize": 9})
    assert [s["PipelineExecutionArn"] for s in ascending] == seeded
    by_arn = list_all(sm, PipelineName="p", SortBy="PipelineExecutionArn", PaginationConfig={"PageSize": 8})
    assert [s["PipelineExecutionArn"] for s in by_arn] == sorted(seeded, reverse=True)
    by_arn_up = list_all(sm, PipelineName="p", SortBy="PipelineExecutionArn", SortOrder="Ascending")
    assert [s["PipelineExecutionArn"] for s in by_arn_up] == sorted(seeded)


def test_created_after_and_before_are_exclusive_filters(emulator: EmulatorClient, sm: Any) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    seeded = emulator.seed_executions(emulator.create_pipeline("p"), 20, start=t0, interval_seconds=60)
    times = [emulator.describe(a)["creation_time"] for a in seeded]
    window = list_all(sm, PipelineName="p", CreatedAfter=times[5], CreatedBefore=times[10])
    assert [s["PipelineExecutionArn"] for s in window] == seeded[6:10][::-1]
    after = list_all(sm, PipelineName="p", CreatedAfter=times[17], SortBy="PipelineExecutionArn")
    assert sorted(s["PipelineExecutionArn"] for s in after) == sorted(seeded[18:])
    assert list_all(sm, PipelineName="p", CreatedAfter=times[-1]) == []


def test_summaries_have_the_documented_shape(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    emulator.seed_executions(arn, 2, statuses=["Succeeded", "Failed"])
    failed, succeeded = sm.list_pipeline_executions(PipelineName="p")["PipelineExecutionSummaries"]
    assert set(succeeded) == {
        "PipelineExecutionArn",
        "StartTime",
        "PipelineExecutionStatus",
        "PipelineExecutionDisplayName",
    }
    assert failed["PipelineExecutionStatus"] == "Failed"
    assert failed["PipelineExecutionFailureReason"]
    assert failed["PipelineExecutionArn"].startswith(f"{arn}/execution/")
    assert len(failed["PipelineExecutionArn"].rsplit("/", 1)[1]) == 12


def test_paging_is_stable_while_executions_start(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    seeded = emulator.seed_executions(arn, 6)
    page = sm.list_pipeline_executions(PipelineName="p", MaxResults=3)
    start(sm, "p")
    rest = sm.list_pipeline_executions(PipelineName="p", MaxResults=3, NextToken=page["NextToken"])
    served = [
        s["PipelineExecutionArn"] for s in page["PipelineExecutionSummaries"] + rest["PipelineExecutionSummaries"]
    ]
    assert served == seeded[::-1]


def test_list_validates_max_results_and_tokens(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    error = error_of(sm.list_pipeline_executions, PipelineName="p", MaxResults=101)
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )
    assert error_of(sm.list_pipeline_executions, PipelineName="p", NextToken="garbage")["Code"] == "ValidationException"


# Lifecycle -----------------------------------------------------------------------------------------


def test_api_started_execution_stays_executing_until_finished(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    arn = start(sm, "p")
    assert [status(sm, arn) for _ in range(3)] == ["Executing"] * 3
    at = datetime.now(timezone.utc) + timedelta(seconds=5)
    emulator.finish(arn, "Failed", failure_reason="OOM in training", at=at)
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "OOM in training"
    assert abs((described["LastModifiedTime"] - at).total_seconds()) < 0.002
    summary = sm.list_pipeline_executions(PipelineName="p")["PipelineExecutionSummaries"][0]
    assert summary["PipelineExecutionFailureReason"] == "OOM in training"


def test_finish_after_polls_counts_describe_and_list(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.set_lifecycle(finish_after_polls=2)
    emulator.set_strictness(list_is_poll=True)
    arn = start(sm, "p")
    assert status(sm, arn) == "Executing"
    assert sm.list_pipeline_executions(PipelineName="p")["PipelineExecutionSummaries"][0][
        "PipelineExecutionStatus"
    ] == ("Executing")
    assert status(sm, arn) == "Succeeded"
    assert "FailureReason" not in sm.describe_pipeline_execution(PipelineExecutionArn=arn)


def test_finish_after_seconds_stamps_the_planned_time(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.set_lifecycle(finish_after_seconds=0.3, final_status="Failed", failure_reason="boom")
    arn = start(sm, "p")
    assert status(sm, arn) == "Executing"
    time.sleep(0.4)
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "boom"
    elapsed = (described["LastModifiedTime"] - described["CreationTime"]).total_seconds()
    assert elapsed == pytest.approx(0.3, abs=0.002)


def test_out_of_order_completion_can_be_staged(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    older = emulator.start_execution(arn, start_time=t0)
    newer = emulator.start_execution(arn, start_time=t0 + timedelta(minutes=1))
    emulator.finish(newer, at=t0 + timedelta(minutes=2))
    emulator.finish(older, at=t0 + timedelta(minutes=3))
    modified = {a: sm.describe_pipeline_execution(PipelineExecutionArn=a)["LastModifiedTime"] for a in (older, newer)}
    assert modified[newer] < modified[older]
    listed = sm.list_pipeline_executions(PipelineName="p")["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in listed] == [newer, older]


def test_stop_goes_through_stopping(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    quick = start(sm, "p")
    sm.stop_pipeline_execution(PipelineExecutionArn=quick)
    assert status(sm, quick) == "Stopped"
    emulator.set_lifecycle(stop_after_polls=1)
    slow = start(sm, "p")
    token = "s" * 32
    sm.stop_pipeline_execution(PipelineExecutionArn=slow, ClientRequestToken=token)
    assert [status(sm, slow), status(sm, slow)] == ["Stopping", "Stopped"]
    sm.stop_pipeline_execution(PipelineExecutionArn=slow, ClientRequestToken=token)  # idempotent replay
    assert error_of(sm.stop_pipeline_execution, PipelineExecutionArn=slow)["Code"] == "ConflictException"


def test_retry_of_a_failed_execution_reuses_its_arn(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    failed, succeeded = emulator.seed_executions(arn, 2, statuses=["Failed", "Succeeded"])
    running = emulator.start_execution(arn)
    assert sm.retry_pipeline_execution(PipelineExecutionArn=failed)["PipelineExecutionArn"] == failed
    described = sm.describe_pipeline_execution(PipelineExecutionArn=failed)
    assert described["PipelineExecutionStatus"] == "Executing"
    assert "FailureReason" not in described
    assert error_of(sm.retry_pipeline_execution, PipelineExecutionArn=running)["Code"] == "ConflictException"
    assert error_of(sm.retry_pipeline_execution, PipelineExecutionArn=succeeded)["Code"] == "ValidationException"


def test_delete_execution_makes_it_vanish(emulator: EmulatorClient, sm: Any) -> None:
    oldest, *rest = emulator.seed_executions(emulator.create_pipeline("p"), 3)
    emulator.delete_execution(oldest)
    assert [s["PipelineExecutionArn"] for s in list_all(sm, PipelineName="p")] == rest[::-1]
    assert error_of(sm.describe_pipeline_execution, PipelineExecutionArn=oldest)["Code"] == "ResourceNotFound"


def test_created_by_is_omitted_unless_seeded_with_a_user_profile(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    (plain,) = emulator.seed_executions(arn, 1)
    (studio,) = emulator.seed_executions(arn, 1, created_by_user_profile="alice")
    assert "CreatedBy" not in sm.describe_pipeline_execution(PipelineExecutionArn=plain)
    created_by = sm.describe_pipeline_execution(PipelineExecutionArn=studio)["CreatedBy"]
    assert created_by["UserProfileName"] == "alice"


# Steps, parameters, definition ---------------------------------------------------------------------


def test_steps_follow_a_successful_execution(sm: Any) -> None:
    sm.create_pipeline(PipelineName="p", PipelineDefinition=DEFINITION, RoleArn=ROLE)
    arn = start(sm, "p")
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [("Prepare", "Executing")]
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [s["StepStatus"] for s in steps] == ["Stopped"]


def test_steps_of_finished_executions(emulator: EmulatorClient, sm: Any) -> None:
    sm.create_pipeline(PipelineName="p", PipelineDefinition=DEFINITION, RoleArn=ROLE)
    emulator.set_lifecycle(finish_after_polls=0)
    done = start(sm, "p")
    assert status(sm, done) == "Succeeded"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=done)["PipelineExecutionSteps"]
    assert [s["StepName"] for s in steps] == ["Register", "CheckAccuracy", "Train", "Prepare"]  # newest first
    assert {s["StepStatus"] for s in steps} == {"Succeeded"}
    metadata = {s["StepName"]: s["Metadata"] for s in steps}
    assert metadata["Prepare"]["ProcessingJob"]["Arn"].startswith(
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/"
    )
    assert metadata["Train"]["TrainingJob"]["Arn"].split("/")[1].startswith("pipelines-")
    assert metadata["Register"]["RegisterModel"]["Arn"].startswith(
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/churn/"
    )
    assert metadata["CheckAccuracy"] == {"Condition": {"Outcome": "True"}}
    first = sm.list_pipeline_execution_steps(PipelineExecutionArn=done, MaxResults=3, SortOrder="Ascending")
    second = sm.list_pipeline_execution_steps(
        PipelineExecutionArn=done, MaxResults=3, SortOrder="Ascending", NextToken=first["NextToken"]
    )
    assert [s["StepName"] for s in first["PipelineExecutionSteps"] + second["PipelineExecutionSteps"]] == [
        "Prepare",
        "Train",
        "CheckAccuracy",
        "Register",
    ]


def test_failed_execution_has_one_failed_step(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p", steps=[{"name": "Prep", "type": "Processing"}, {"name": "Fit", "type": "Training"}])
    emulator.set_lifecycle(
        finish_after_polls=0, final_status="Failed", failure_reason="AlgorithmError", failing_step="Fit"
    )
    arn = start(sm, "p")
    assert status(sm, arn) == "Failed"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")["PipelineExecutionSteps"]
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [("Prep", "Succeeded"), ("Fit", "Failed")]
    assert steps[1]["FailureReason"] == "AlgorithmError"
    assert steps[1]["EndTime"] >= steps[1]["StartTime"] >= steps[0]["EndTime"]


def test_default_steps_when_the_definition_has_none(sm: Any) -> None:
    sm.create_pipeline(PipelineName="p", PipelineDefinition="{}", RoleArn=ROLE)
    arn = start(sm, "p")
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert len(sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]) == 1


def test_parameters_merge_defaults_with_given_values_and_page(sm: Any) -> None:
    sm.create_pipeline(PipelineName="p", PipelineDefinition=DEFINITION, RoleArn=ROLE)
    arn = start(sm, "p", PipelineParameters=[{"Name": "Epochs", "Value": "10"}, {"Name": "Extra", "Value": "x"}])
    first = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn, MaxResults=2)
    second = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn, NextToken=first["NextToken"])
    assert first["PipelineParameters"] + second["PipelineParameters"] == [
        {"Name": "InputPath", "Value": "s3://bucket/in"},
        {"Name": "Epochs", "Value": "10"},
        {"Name": "Extra", "Value": "x"},
    ]


def test_describe_execution_reports_what_it_was_started_with(sm: Any) -> None:
    arn = sm.create_pipeline(PipelineName="Churn", PipelineDefinition=DEFINITION, RoleArn=ROLE)["PipelineArn"]
    execution = start(
        sm,
        arn,
        PipelineExecutionDisplayName="nightly-1",
        PipelineExecutionDescription="nightly run",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 2},
    )
    described = sm.describe_pipeline_execution(PipelineExecutionArn=execution)
    assert described["PipelineArn"] == arn
    assert described["PipelineExecutionDisplayName"] == "nightly-1"
    assert described["PipelineExecutionDescription"] == "nightly run"
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    assert described["PipelineExperimentConfig"] == {
        "ExperimentName": "churn",
        "TrialName": execution.rsplit("/", 1)[1],
    }
    assert "FailureReason" not in described
    assert "CreatedBy" not in described
    definition = sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution)
    assert definition["PipelineDefinition"] == DEFINITION
    assert definition["CreationTime"] == described["CreationTime"]
    assert sm.describe_pipeline(PipelineName="Churn")["LastRunTime"] == described["CreationTime"]


# StartPipelineExecution ---------------------------------------------------------------------------


def test_client_request_token_is_idempotent(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    token = "a" * 40
    first = start(sm, "p", ClientRequestToken=token)
    assert start(sm, "p", ClientRequestToken=token) == first
    assert start(sm, "p") != first  # botocore fills in a fresh token
    assert len(list_all(sm, PipelineName="p")) == 2


def test_start_validates_like_aws(emulator: EmulatorClient) -> None:
    emulator.create_pipeline("p")
    raw = aws(emulator, "sagemaker", config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))
    bad_name = error_of(raw.start_pipeline_execution, PipelineName="p", PipelineExecutionDisplayName="no_underscores")
    assert bad_name["Code"] == "ValidationException"
    assert (
        "at 'pipelineExecutionDisplayName' failed to satisfy constraint: Member must satisfy regular"
        in (bad_name["Message"])
    )
    short = error_of(raw.start_pipeline_execution, PipelineName="p", ClientRequestToken="short")
    assert "Member must have length greater than or equal to 32" in short["Message"]
    two = error_of(
        raw.start_pipeline_execution, PipelineName="p", PipelineExecutionDisplayName="-", ClientRequestToken="x"
    )
    assert two["Message"].startswith("2 validation errors detected: ")


# Errors --------------------------------------------------------------------------------------------


def test_malformed_and_unknown_execution_arns(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("p")
    malformed = error_of(sm.describe_pipeline_execution, PipelineExecutionArn="not-an-arn")
    assert malformed["Code"] == "ValidationException"
    assert malformed["Status"] == 400
    unknown = f"{arn}/execution/aaaaaaaaaaaa"
    for call in (
        sm.describe_pipeline_execution,
        sm.list_pipeline_execution_steps,
        sm.list_pipeline_parameters_for_execution,
        sm.describe_pipeline_definition_for_execution,
        sm.stop_pipeline_execution,
        sm.retry_pipeline_execution,
    ):
        error = error_of(call, PipelineExecutionArn=unknown)
        assert error["Code"] == "ResourceNotFound"
        assert error["Message"] == f"Pipeline execution '{unknown}' does not exist."


def test_error_documents_are_aws_json(emulator: EmulatorClient) -> None:
    request = urllib.request.Request(
        emulator.url,
        data=json.dumps({"PipelineExecutionArn": "nope"}).encode(),
        headers={"X-Amz-Target": "SageMaker.DescribePipelineExecution", "Content-Type": "application/x-amz-json-1.1"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    assert caught.value.headers["Content-Type"] == "application/x-amz-json-1.1"
    body = json.loads(caught.value.read())
    assert set(body) == {"__type", "message"}
    assert body["__type"] == "ValidationException"


def test_operations_moto_lacks_answer_aws_json_not_html(sm: Any) -> None:
    moto_gap = error_of(sm.list_mlflow_tracking_servers)
    assert moto_gap["Code"] == "InternalFailure"
    assert "moto does not implement" in moto_gap["Message"]


# Accounts, regions, STS ---------------------------------------------------------------------------


def test_regions_are_separate_and_arns_carry_them(emulator: EmulatorClient) -> None:
    arn = emulator.create_pipeline("p", region="eu-west-1")
    assert arn == f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:pipeline/p"
    assert aws(emulator, "sagemaker", "eu-west-1").describe_pipeline(PipelineName=arn)["PipelineArn"] == arn
    assert error_of(aws(emulator, "sagemaker").describe_pipeline, PipelineName="p")["Code"] == "ResourceNotFound"


def test_sts_passes_through_and_assumed_roles_change_the_account(emulator: EmulatorClient) -> None:
    sts = aws(emulator, "sts")
    assert sts.get_caller_identity()["Account"] == ACCOUNT
    credentials = sts.assume_role(RoleArn="arn:aws:iam::111111111111:role/deployer", RoleSessionName="ci")[
        "Credentials"
    ]
    assumed = aws(
        emulator,
        "sagemaker",
        key=credentials["AccessKeyId"],
        secret=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    arn = assumed.create_pipeline(PipelineName="p", PipelineDefinition="{}", RoleArn=ROLE)["PipelineArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:111111111111:pipeline/p"
    assert error_of(aws(emulator, "sagemaker").describe_pipeline, PipelineName="p")["Code"] == "ResourceNotFound"


# Faults and the request log ------------------------------------------------------------------------


def test_throttle_and_server_errors_for_the_next_n_calls(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.inject_fault("throttle", count=2, operation="ListPipelineExecutions")
    sm.describe_pipeline(PipelineName="p")  # other operations are unaffected
    for _ in range(2):
        error = error_of(sm.list_pipeline_executions, PipelineName="p")
        assert (error["Code"], error["Status"], error["Message"]) == ("ThrottlingException", 400, "Rate exceeded")
    sm.list_pipeline_executions(PipelineName="p")
    emulator.inject_fault("server_error")
    error = error_of(sm.describe_pipeline, PipelineName="p")
    assert (error["Code"], error["Status"]) == ("ServiceUnavailable", 503)
    emulator.inject_fault("server_error", status_code=500)
    error = error_of(sm.describe_pipeline, PipelineName="p")
    assert (error["Code"], error["Status"]) == ("InternalFailure", 500)
    emulator.inject_fault("throttle", count=5)
    emulator.clear_faults()
    sm.describe_pipeline(PipelineName="p")


def test_botocore_retries_ride_out_throttling(emulator: EmulatorClient) -> None:
    emulator.create_pipeline("p")
    patient = aws(emulator, "sagemaker", config=Config(retries={"total_max_attempts": 4, "mode": "standard"}))
    emulator.inject_fault("throttle", count=2)
    emulator.clear_requests()
    patient.list_pipeline_executions(PipelineName="p")
    assert emulator.request_counts() == {"ListPipelineExecutions": 3}


def test_latency_and_dropped_connections(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.inject_fault("latency", latency_seconds=0.3, operation="DescribePipeline")
    began = time.perf_counter()
    sm.describe_pipeline(PipelineName="p")
    assert time.perf_counter() - began >= 0.3
    emulator.inject_fault("drop")
    with pytest.raises(ConnectionClosedError):
        sm.describe_pipeline(PipelineName="p")
    sm.describe_pipeline(PipelineName="p")


def test_request_counts_per_operation(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.clear_requests()
    sm.list_pipeline_executions(PipelineName="p")
    sm.list_pipeline_executions(PipelineName="p")
    aws(emulator, "sts").get_caller_identity()
    assert emulator.request_counts() == {"ListPipelineExecutions": 2, "GetCallerIdentity": 1}
    emulator.clear_requests()
    assert emulator.request_counts() == {}


def test_control_api_rejects_bad_input(emulator: EmulatorClient) -> None:
    with pytest.raises(EmulatorError):
        emulator.inject_fault("meteor")
    with pytest.raises(EmulatorError):
        emulator.describe("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/none")
    with pytest.raises(EmulatorError):
        emulator.finish(emulator.start_execution(emulator.create_pipeline("p")), "Done")


def test_control_describe_is_not_a_poll(emulator: EmulatorClient, sm: Any) -> None:
    emulator.create_pipeline("p")
    emulator.set_lifecycle(finish_after_polls=1)
    arn = start(sm, "p", PipelineParameters=[{"Name": "A", "Value": "1"}])
    view = emulator.describe(arn)
    assert (view["status"], view["polls"], view["parameters"]) == ("Executing", 0, {"A": "1"})
    assert view["creation_time"].tzinfo is not None
    assert [status(sm, arn), status(sm, arn)] == ["Executing", "Succeeded"]


# Scale ---------------------------------------------------------------------------------------------


def test_seed_ten_thousand_and_list_a_page_quickly(emulator: EmulatorClient, sm: Any) -> None:
    arn = emulator.create_pipeline("big")
    began = time.perf_counter()
    seeded = emulator.seed_executions(arn, 10_000, statuses=["Succeeded", "Succeeded", "Failed", "Stopped"])
    assert time.perf_counter() - began < 10
    assert len(seeded) == 10_000
    sm.list_pipeline_executions(PipelineName="big", MaxResults=100)  # warm the connection path
    latencies = []
    for _ in range(10):
        began = time.perf_counter()
        page = sm.list_pipeline_executions(PipelineName="big", MaxResults=100)
        latencies.append(time.perf_counter() - began)
    assert [s["PipelineExecutionArn"] for s in page["PipelineExecutionSummaries"]] == seeded[:-101:-1]
    assert statistics.median(latencies) < 0.05
    middle = emulator.describe(seeded[5_000])["creation_time"]
    began = time.perf_counter()
    window = sm.list_pipeline_executions(PipelineName="big", CreatedAfter=middle, SortOrder="Ascending", MaxResults=5)
    assert time.perf_counter() - began < 0.05
    assert [s["PipelineExecutionArn"] for s in window["PipelineExecutionSummaries"]] == seeded[5_001:5_006]
