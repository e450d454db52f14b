"""Execution statuses: the resource knows every status of the locked botocore model (CompletedWithFailures)."""

import datetime as dt

import botocore.session

from sagemaker_pipeline_resource.config.params import (
    DEFAULT_STATUSES,
    EXECUTION_STATUSES,
    FINAL_STATUSES,
    RUNNING_STATUSES,
)

NOW = dt.datetime.now(dt.timezone.utc)


def model_statuses() -> list[str]:
    """PipelineExecutionStatus as the botocore in the lock file models it (not the pruned copy in the .pyz)."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    return list(model.shape_for("PipelineExecutionStatus").enum)


def test_the_resource_knows_every_status_of_the_locked_botocore_model():
    unknown = set(model_statuses()) - set(EXECUTION_STATUSES)
    assert not unknown, f"statuses the resource does not know: {sorted(unknown)} (add them to config.py)"
    assert set(EXECUTION_STATUSES) == set(model_statuses())
    assert set(RUNNING_STATUSES) | set(FINAL_STATUSES) == set(EXECUTION_STATUSES)


def test_completed_with_failures_is_final_and_counted_by_default():
    assert "CompletedWithFailures" in FINAL_STATUSES and "CompletedWithFailures" in DEFAULT_STATUSES


def test_check_emits_completed_with_failures_by_default(run, emulator, pipeline, source):
    arns = emulator.seed_executions(pipeline, 2, statuses=["Succeeded", "CompletedWithFailures"], start=NOW)
    result = run("check", {"source": source, "version": {"execution_arn": arns[0]}})
    assert [v["execution_arn"] for v in result.json] == arns


def test_statuses_and_fail_on_accept_completed_with_failures(run, emulator, pipeline, source):
    arns = emulator.seed_executions(pipeline, 2, statuses=["CompletedWithFailures", "Succeeded"], start=NOW)
    result = run("check", {"source": {**source, "statuses": ["CompletedWithFailures"]}})
    assert [v["execution_arn"] for v in result.json] == [arns[0]]
    emulator.set_lifecycle(finish_after_polls=1, final_status="CompletedWithFailures", failing_step="Train")
    put = run("out", {"source": source, "params": {"wait": True, "poll_interval": 1, "fail_on": ["Failed"]}})
    assert put.json["version"]["execution_arn"].startswith(pipeline)
    metadata = {item["name"]: item["value"] for item in put.json["metadata"]}
    assert metadata["status"] == "CompletedWithFailures" and metadata["failed_step"] == "Train"


def test_a_wait_that_ends_completed_with_failures_fails_the_build_by_default(run, emulator, pipeline, source):
    emulator.set_lifecycle(finish_after_polls=1, final_status="CompletedWithFailures", failing_step="Train")
    result = run("out", {"source": source, "params": {"wait": True, "poll_interval": 1}})
    assert result.returncode == 1
    assert "ended CompletedWithFailures" in result.stderr and "Train" in result.stderr
