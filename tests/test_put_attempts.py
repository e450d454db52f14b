"""A put step run again in the same build, through the .pyz: Concourse's ``attempts:`` after a failed, stopped
or timed-out execution, a re-attach to one still running or succeeded, and two puts of one build that
deploy different definitions. Every run here has the same BUILD_* variables (conftest's BUILD_ENV): to
Concourse they are attempts of one step of one build.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, status_of
from tests.test_deploy import PIPELINE, ROLE, definition, write

FAST = {"wait": True, "poll_interval": 1}


@pytest.fixture
def deploy_source(emulator: Any) -> dict[str, Any]:
    """A source whose pipeline the first put creates (as in test_deploy)."""
    return {
        "pipeline": PIPELINE,
        "endpoint_url": emulator.url,
        "sts_endpoint_url": emulator.url,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "max_attempts": 2,
    }


def arn_of(result: Any) -> str:
    return result.stderr.split("put: start ")[1].split()[0]


def executions(sm: Any, pipeline: str) -> list[str]:
    summaries = sm.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    return [summary["PipelineExecutionArn"] for summary in summaries]


def test_attempts_after_a_failure_start_a_new_execution_each(run, emulator, source, pipeline, sm):
    """attempts: 3 with the first two executions failing: three executions, the third one's outcome counts;
    a fourth run of the step (a response lost, say) gets the third back instead of starting a fourth."""
    failing = {"final_status": "Failed", "failure_reason": "AlgorithmError: loss is NaN", "failing_step": "Train"}
    emulator.set_lifecycle(finish_after_polls=1, **failing)
    first = run("out", {"source": source, "params": FAST})
    assert first.returncode == 1 and "ended Failed" in first.stderr
    second = run("out", {"source": source, "params": FAST})
    assert second.returncode == 1 and "ended Failed" in second.stderr
    assert arn_of(second) != arn_of(first)
    assert f"{arn_of(first)}, started by an earlier attempt of this step, is Failed" in second.stderr
    emulator.set_lifecycle(finish_after_polls=1, final_status="Succeeded")
    third = run("out", {"source": source, "params": FAST})
    assert third.json["version"]["execution_arn"] not in (arn_of(first), arn_of(second))
    again = run("out", {"source": source, "params": FAST})  # the third's token again: AWS hands it back
    assert again.json["version"] == third.json["version"]
    assert "this attempt starts another" in again.stderr and "ended" not in again.stderr
    assert len(executions(sm, pipeline)) == 3


def test_an_attempt_after_a_timeout_re_attaches_or_starts_anew(run, emulator, source, pipeline, sm):
    """Timed out and still running (no stop_on_timeout): the next attempt waits for that execution. Timed out
    and stopped (stop_on_timeout): the next attempt starts another."""
    emulator.set_lifecycle()  # stays Executing
    first = run("out", {"source": source, "params": {**FAST, "timeout": 1}})
    assert first.returncode == 1 and "keeps running" in first.stderr
    emulator.finish(arn_of(first), "Succeeded")
    second = run("out", {"source": source, "params": {**FAST, "timeout": 1}})
    assert second.json["version"]["execution_arn"] == arn_of(first)
    assert len(executions(sm, pipeline)) == 1

    stopping = {**FAST, "timeout": 1, "stop_on_timeout": True, "parameters": {"Epochs": "3"}}  # another request
    third = run("out", {"source": source, "params": stopping})
    assert third.returncode == 1 and "asked to stop" in third.stderr
    assert status_of(sm, arn_of(third)) in ("Stopping", "Stopped")
    emulator.set_lifecycle(finish_after_polls=1, final_status="Succeeded")
    fourth = run("out", {"source": source, "params": stopping})
    assert fourth.json["version"]["execution_arn"] not in (arn_of(first), arn_of(third))
    assert len(executions(sm, pipeline)) == 3


def test_a_run_again_without_wait_re_attaches_to_the_running_execution(run, emulator, source, pipeline, sm):
    emulator.set_lifecycle()
    first = run("out", {"source": source, "params": {}}).json
    again = run("out", {"source": source, "params": {}})
    assert again.json == first
    assert "was started by an earlier attempt of this step (Executing): re-attaching" in again.stderr
    assert len(executions(sm, pipeline)) == 1


@pytest.mark.parametrize("token_mismatch", ["reject", "first"])
def test_two_puts_of_one_build_run_the_definitions_they_deployed(
    run, emulator, deploy_source, sm, tmp_path, token_mismatch
):
    """Same build, same params, two definitions: each put starts the version it deployed. (Whether AWS refuses
    a token used again with other parameters or hands back the first execution is unverified: both.)"""
    emulator.set_strictness(token_mismatch=token_mismatch)
    sources = tmp_path / "build"
    train = write(sources, definition("Train:Training"), "a/pipeline.json")
    evaluate = write(sources, definition("Train:Training", "Evaluate:Processing"), "b/pipeline.json")
    params = {"pipeline_role_arn": ROLE}
    first = run("out", {"source": deploy_source, "params": {**params, "definition_file": train}}, directory=sources)
    second = run("out", {"source": deploy_source, "params": {**params, "definition_file": evaluate}}, directory=sources)
    arns = [result.json["version"]["execution_arn"] for result in (first, second)]
    assert arns[0] != arns[1]
    versions = [sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineVersionId"] for arn in arns]
    assert versions == [1, 2]
    again = run("out", {"source": deploy_source, "params": {**params, "definition_file": evaluate}}, directory=sources)
    assert again.json["version"]["execution_arn"] == arns[1]  # the same put again: the same execution
