"""in (get), through the .pyz: files, metadata, optional fields, refusing another pipeline's version."""

import datetime as dt
import json

import pytest

NOW = dt.datetime.now(dt.timezone.utc)


def metadata(result) -> dict[str, str]:
    return {item["name"]: item["value"] for item in result.json["metadata"]}


def test_get_writes_every_file(run, emulator, pipeline, source, tmp_path):
    arn = emulator.start_execution(pipeline, parameters={"Epochs": "3"}, start_time=NOW - dt.timedelta(minutes=9))
    emulator.finish(arn, "Succeeded")
    dest = tmp_path / "execution"
    result = run("in", {"source": source, "version": {"execution_arn": arn}}, directory=dest)
    assert result.json["version"] == {"execution_arn": arn}
    assert (dest / "execution_arn").read_text(encoding="utf-8").strip() == arn
    assert (dest / "status").read_text(encoding="utf-8").strip() == "Succeeded"
    execution = json.loads((dest / "execution.json").read_text(encoding="utf-8"))
    assert execution["PipelineExecutionArn"] == arn
    assert "ResponseMetadata" not in execution
    assert execution["CreationTime"].endswith("+00:00")  # ISO 8601 with its time zone
    definition = json.loads((dest / "pipeline.json").read_text(encoding="utf-8"))
    assert isinstance(definition, dict)
    steps = json.loads((dest / "steps.json").read_text(encoding="utf-8"))
    assert [step["StepName"] for step in steps] == ["Preprocess", "Train"]
    assert json.loads((dest / "parameters.json").read_text(encoding="utf-8"))["Epochs"] == "3"
    meta = metadata(result)
    assert meta["status"] == "Succeeded"
    assert "started" in meta and "duration" in meta and "console" in meta
    assert meta["console"].endswith("#/pipelines/churn-model/executions/" + arn.rsplit("/", 1)[1])
    assert meta["console_pipeline"].endswith("#/pipelines/details/churn-model")
    assert "created_by" not in meta  # started through the API with IAM credentials: no user profile


@pytest.mark.parametrize("step", ["Preprocess", "Train"])
def test_failed_execution_metadata_names_the_failing_step(run, emulator, pipeline, source, step):
    arn = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=9))
    emulator.finish(arn, "Failed", failure_reason=f"Step {step} failed", failing_step=step)
    result = run("in", {"source": source, "version": {"execution_arn": arn}})
    meta = metadata(result)
    assert meta["status"] == "Failed"
    assert meta["failure_reason"] == f"Step {step} failed"
    assert meta["failed_step"] == step


def test_created_by_user_profile_is_shown_when_present(run, emulator, pipeline, source):
    [arn] = emulator.seed_executions(pipeline, 1, created_by_user_profile="alice")
    assert metadata(run("in", {"source": source, "version": {"execution_arn": arn}}))["created_by"] == "alice"


def test_skip_params(run, emulator, pipeline, source, tmp_path):
    [arn] = emulator.seed_executions(pipeline, 1)
    dest = tmp_path / "skipped"
    params = {"skip_definition": True, "skip_steps": True, "skip_parameters": True}
    run("in", {"source": source, "version": {"execution_arn": arn}, "params": params}, directory=dest).json
    assert sorted(path.name for path in dest.iterdir()) == ["execution.json", "execution_arn", "status"]


def test_version_of_another_pipeline_is_refused(run, emulator, source):
    other = emulator.create_pipeline("other-model")
    [arn] = emulator.seed_executions(other, 1)
    result = run("in", {"source": source, "version": {"execution_arn": arn}})
    assert result.returncode != 0
    assert "another pipeline" in result.stderr and "Traceback" not in result.stderr


def test_unknown_execution_is_a_clear_error(run, pipeline, source):
    result = run("in", {"source": source, "version": {"execution_arn": pipeline + "/execution/doesnotexist"}})
    assert result.returncode == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unknown_get_param(run, emulator, pipeline, source):
    [arn] = emulator.seed_executions(pipeline, 1)
    result = run("in", {"source": source, "version": {"execution_arn": arn}, "params": {"skip_stepz": True}})
    assert result.returncode == 1 and "Did you mean 'skip_steps'" in result.stderr
