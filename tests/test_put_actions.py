"""put that waits, stops and retries; files and templating; every bad param refused before any AWS call."""

import json

import pytest

from tests.conftest import parameters_of, status_of

FAST = {"wait": True, "poll_interval": 1}


def test_wait_on_success_reports_step_transitions(run, emulator, source):
    emulator.set_lifecycle(finish_after_polls=3, final_status="Succeeded")
    result = run("out", {"source": source, "params": FAST})
    meta = {item["name"]: item["value"] for item in result.json["metadata"]}
    assert meta["status"] == "Succeeded"
    assert "step Train" in result.stderr and "Succeeded" in result.stderr
    lines = [line for line in result.stderr.splitlines() if "step Train" in line]
    assert len(lines) <= 3  # transitions, not one line per poll


def test_wait_on_failure_fails_the_build_naming_the_step(run, emulator, source):
    emulator.set_lifecycle(
        finish_after_polls=2, final_status="Failed", failure_reason="AlgorithmError: loss is NaN", failing_step="Train"
    )
    result = run("out", {"source": source, "params": FAST})
    assert result.returncode == 1 and result.stdout == ""
    assert "ended Failed" in result.stderr and "Train" in result.stderr and "loss is NaN" in result.stderr


def test_fail_on_can_accept_failures(run, emulator, source):
    emulator.set_lifecycle(finish_after_polls=1, final_status="Failed", failure_reason="x", failing_step="Train")
    result = run("out", {"source": source, "params": {**FAST, "fail_on": ["Stopped"]}})
    assert result.returncode == 0


def test_fail_on_empty_never_fails_on_the_outcome(run, emulator, source):
    emulator.set_lifecycle(finish_after_polls=1, final_status="Failed", failure_reason="x", failing_step="Train")
    result = run("out", {"source": source, "params": {**FAST, "fail_on": []}})
    meta = {item["name"]: item["value"] for item in result.json["metadata"]}
    assert meta["status"] == "Failed"


def test_wait_on_stopped(run, emulator, source):
    emulator.set_lifecycle(finish_after_polls=1, final_status="Stopped")
    result = run("out", {"source": source, "params": FAST})
    assert result.returncode == 1 and "ended Stopped" in result.stderr


def test_timeout_without_stop_leaves_it_running(run, emulator, source, sm):
    emulator.set_lifecycle()  # stays Executing
    result = run("out", {"source": source, "params": {**FAST, "timeout": 1}})
    assert result.returncode == 1 and "still Executing" in result.stderr and "keeps running" in result.stderr
    arn = result.stderr.split("put: start ")[1].split()[0]
    assert status_of(sm, arn) == "Executing"


def test_timeout_with_stop_stops_it(run, emulator, source, sm):
    emulator.set_lifecycle()
    result = run("out", {"source": source, "params": {**FAST, "timeout": 1, "stop_on_timeout": True}})
    assert result.returncode == 1 and "asked to stop" in result.stderr
    arn = result.stderr.split("put: start ")[1].split()[0]
    assert status_of(sm, arn) in ("Stopping", "Stopped")


def test_stop_by_arn_and_wait_for_stopped(run, emulator, pipeline, source, sm):
    arn = emulator.start_execution(pipeline)
    result = run("out", {"source": source, "params": {"action": "stop", "execution_arn": arn, **FAST}})
    assert result.json["version"] == {"execution_arn": arn}
    assert status_of(sm, arn) == "Stopped"


def test_stop_from_a_get_directory(run, emulator, pipeline, source, tmp_path, sm):
    arn = emulator.start_execution(pipeline)
    got = tmp_path / "sources" / "training"
    run("in", {"source": source, "version": {"execution_arn": arn}, "params": {"wait": False}}, directory=got).json
    result = run(
        "out",
        {"source": source, "params": {"action": "stop", "execution_arn_file": "training"}},
        directory=tmp_path / "sources",
    )
    assert result.json["version"] == {"execution_arn": arn}
    assert status_of(sm, arn) in ("Stopping", "Stopped")


def test_retry_a_failed_execution_keeps_its_arn(run, emulator, pipeline, source, sm):
    arn = emulator.start_execution(pipeline)
    emulator.finish(arn, "Failed", failure_reason="flaky")
    emulator.set_lifecycle(finish_after_polls=2, final_status="Succeeded")
    result = run("out", {"source": source, "params": {"action": "retry", "execution_arn": arn, **FAST}})
    assert result.json["version"] == {"execution_arn": arn}
    assert status_of(sm, arn) == "Succeeded"


def test_retry_of_a_running_execution_is_a_clear_error(run, emulator, pipeline, source):
    arn = emulator.start_execution(pipeline)
    result = run("out", {"source": source, "params": {"action": "retry", "execution_arn": arn}})
    assert result.returncode == 1 and "error:" in result.stderr and "Traceback" not in result.stderr


def test_parameters_file_json_and_yaml_with_templating(run, emulator, source, tmp_path, sm):
    sources = tmp_path / "sources"
    (sources / "config").mkdir(parents=True)
    (sources / "config" / "params.json").write_text(json.dumps({"Epochs": 7, "Tag": "b$BUILD_ID"}), encoding="utf-8")
    (sources / "config" / "params.yml").write_text(
        "# training\nInstanceType: ml.g5.xlarge\nNote: 'it''s $BUILD_JOB_NAME'\nEpochs: 8\n", encoding="utf-8"
    )
    for name, expected in (("params.json", {"Epochs": "9", "Tag": "b4242"}), ("params.yml", {"Epochs": "9"})):
        params = {"parameters_file": f"config/{name}", "parameters": {"Epochs": 9}}
        arn = run("out", {"source": source, "params": params}, directory=sources).json["version"]["execution_arn"]
        values = parameters_of(sm, arn)
        for key, value in expected.items():
            assert values[key] == value
    assert values["Note"] == "it's train" and values["InstanceType"] == "ml.g5.xlarge"


def test_selective_execution_parallelism_and_version(run, emulator, pipeline, source, sm):
    source_arn = emulator.start_execution(pipeline)
    emulator.finish(source_arn, "Failed", failure_reason="x")
    params = {
        "selective_execution": {"source_execution_arn": source_arn, "steps": ["Train"]},
        "parallelism": 2,
        "pipeline_version_id": 1,
    }
    arn = run("out", {"source": source, "params": params}).json["version"]["execution_arn"]
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["SelectiveExecutionConfig"]["SelectedSteps"] == [{"StepName": "Train"}]
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"action": "restart"}, "params.action must be one of"),
        ({"action": "stop"}, "needs the execution to act on"),
        ({"action": "stop", "execution_arn": "not-an-arn"}, "not a valid SageMaker pipeline execution ARN"),
        ({"wait": "yes"}, "params.wait must be true or false"),
        ({"timeout": 0}, "params.timeout must be between 1 and"),
        ({"poll_interval": -1}, "params.poll_interval must be between"),
        ({"wait": True, "poll_interval": 0.5}, "params.poll_interval must be between 1 and 3600"),
        ({"timeout": 600}, "params.timeout only applies with params.wait: true"),
        ({"wait": False, "fail_on": [], "outage_budget": 60}, "params.fail_on, params.outage_budget only apply"),
        ({"wait": True, "outage_budget": -1}, "params.outage_budget must be between 0 and 86400"),
        ({"parameters": {"bad name!": "x"}}, "not a valid pipeline parameter name"),
        ({"parameters": {"Nested": {"a": 1}}}, "must be a string, number or boolean"),
        ({"parameters": {"Long": "x" * 1025}}, "AWS allows 1024"),
        ({"parameters": {f"P{i}": "x" for i in range(201)}}, "AWS allows 200"),
        ({"parameters_file": "missing.json"}, "no file at"),
        ({"display_name": "under_score"}, "not a valid execution display name"),
        ({"selective_execution": {"steps": ["A"] * 51}}, "AWS allows 50"),
        ({"selective_execution": {"step": ["A"]}}, "unknown keys: 'step'"),
        ({"parallelism": 0}, "at least 1"),
        ({"client_request_token": "x"}, "32 to 128 characters"),
        ({"fail_on": ["Broken"]}, "unknown status 'Broken'"),
        ({"execution_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/a"}, "only apply to"),
        ({"wiat": True}, "Did you mean 'wait'"),
    ],
)
def test_bad_params_are_refused_before_any_aws_call(run, emulator, source, params, fragment):
    emulator.clear_requests()
    result = run("out", {"source": source, "params": params})
    assert result.returncode == 1, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sum(emulator.request_counts().values()) == 0


def test_stop_of_another_pipelines_execution_is_refused(run, emulator, source):
    other = emulator.create_pipeline("other-model")
    arn = emulator.start_execution(other)
    emulator.clear_requests()
    result = run("out", {"source": source, "params": {"action": "stop", "execution_arn": arn}})
    assert result.returncode == 1 and "another pipeline" in result.stderr
    assert sum(emulator.request_counts().values()) == 0
