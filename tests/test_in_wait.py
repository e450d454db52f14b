"""in (get) of a running execution, through the .pyz: it waits by default (issue #11, case 2)."""

import json


def status(directory) -> str:
    return (directory / "status").read_text(encoding="utf-8").strip()


def test_a_job_triggered_by_a_put_without_wait_gets_the_finished_execution(run, emulator, pipeline, source, tmp_path):
    emulator.set_lifecycle(finish_after_polls=3, final_status="Failed", failing_step="Train")
    put = run("out", {"source": source, "params": {}})
    version = put.json["version"]
    assert "get_params: {wait: false}" in put.stderr and "no_get: true" in put.stderr
    assert emulator.describe(version["execution_arn"])["status"] == "Executing"
    # The implicit get after the put waits; a job triggered by the same version later sees the outcome too.
    implicit = run(
        "in", {"source": source, "version": version, "params": {"poll_interval": 1}}, directory=tmp_path / "a"
    )
    assert "still running: waiting for it to finish" in implicit.stderr
    triggered = run("in", {"source": source, "version": version}, directory=tmp_path / "b")
    for got, directory in ((implicit, tmp_path / "a"), (triggered, tmp_path / "b")):
        assert status(directory) == "Failed"
        assert {item["name"]: item["value"] for item in got.json["metadata"]}["status"] == "Failed"
    execution = json.loads((tmp_path / "a" / "execution.json").read_text(encoding="utf-8"))
    assert execution["PipelineExecutionStatus"] == "Failed"
    steps = json.loads((tmp_path / "a" / "steps.json").read_text(encoding="utf-8"))
    assert steps[-1]["StepStatus"] == "Failed"


def test_get_waits_and_prints_progress(run, emulator, pipeline, source, tmp_path):
    arn = emulator.start_execution(pipeline)
    emulator.set_lifecycle(finish_after_polls=2)
    put = run("out", {"source": source, "params": {}}).json["version"]
    got = run("in", {"source": source, "version": put, "params": {"poll_interval": 1}}, directory=tmp_path / "a")
    assert got.returncode == 0 and status(tmp_path / "a") == "Succeeded"
    assert "still running: waiting" in got.stderr and "Succeeded" in got.stderr
    assert emulator.describe(arn)["status"] == "Executing"  # only the version asked for is waited for


def test_wait_false_writes_the_current_state_at_once(run, emulator, pipeline, source, tmp_path):
    arn = emulator.start_execution(pipeline)
    emulator.clear_requests()
    got = run("in", {"source": source, "version": {"execution_arn": arn}, "params": {"wait": False}})
    assert got.returncode == 0 and status(run.tmp_path / "in") == "Executing"
    assert emulator.request_counts().get("DescribePipelineExecution") == 1
    assert "waiting" not in got.stderr


def test_get_timeout_fails_instead_of_writing_a_running_state(run, emulator, pipeline, source):
    arn = emulator.start_execution(pipeline)
    params = {"poll_interval": 1, "timeout": 1}
    got = run("in", {"source": source, "version": {"execution_arn": arn}, "params": params})
    assert got.returncode == 1
    assert "still Executing after params.timeout" in got.stderr and "wait: false" in got.stderr
    assert got.stdout == ""


def test_get_params_are_validated(run, emulator, pipeline, source):
    arn = emulator.start_execution(pipeline, status="Succeeded")
    got = run("in", {"source": source, "version": {"execution_arn": arn}, "params": {"poll_interval": 0.5}})
    assert got.returncode == 1 and "params.poll_interval" in got.stderr
