"""put's wait, stop and abort in bad weather, through the built .pyz against the emulator: an outage of every
API call, stop of what already finished, stop_on_timeout racing the finish, and the build being aborted."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCESS_KEY_ID, BUILD_ENV, assert_no_secrets, clean_env, status_of

FAST = {"wait": True, "poll_interval": 1}


class Running:
    """A step started in the background, its stderr read as it comes (to act at the right moment)."""

    def __init__(self, steps_dir: Path, directory: Path, payload: dict[str, Any], step: str = "out") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(steps_dir / step), str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(BUILD_ENV),
        )
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(payload))
        self.process.stdin.close()
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.stderr:
            assert self.process.poll() is None, f"exited {self.process.returncode} before {text!r}:\n{self.stderr}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{self.stderr}"
            time.sleep(0.05)

    def finish(self, timeout: float = 180) -> tuple[int, str, str]:
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        assert_no_secrets(stdout, self.stderr)
        return code, stdout, self.stderr

    def arn(self) -> str:
        return self.stderr.split("put: start ")[1].split()[0]


def test_wait_survives_a_45_second_outage_of_every_call(steps_dir, tmp_path, emulator, source, sm):
    emulator.set_lifecycle(finish_after_seconds=20, final_status="Succeeded")
    put = Running(steps_dir, tmp_path / "put", {"source": source, "params": {**FAST, "outage_budget": 300}})
    put.wait_for("put: start ")
    emulator.inject_outage(45, kinds=("throttle", "server_error", "drop"))
    outage_started = time.monotonic()
    code, stdout, stderr = put.finish()
    assert code == 0, stderr
    assert time.monotonic() - outage_started >= 45
    metadata = {item["name"]: item["value"] for item in json.loads(stdout)["metadata"]}
    assert metadata["status"] == "Succeeded"
    assert stderr.count("wait: AWS is failing") == 1, stderr  # logged once per outage...
    assert stderr.count("wait: AWS answers again") == 1, stderr  # ...and once when it ends
    assert "Traceback" not in stderr


def test_an_outage_longer_than_the_budget_fails_cleanly(steps_dir, tmp_path, emulator, source):
    emulator.set_lifecycle()  # stays Executing
    put = Running(steps_dir, tmp_path / "put", {"source": source, "params": {**FAST, "outage_budget": 3}})
    put.wait_for("execution ")  # waiting
    emulator.inject_fault("server_error", count=1000, operation="DescribePipelineExecution")
    code, stdout, stderr = put.finish(timeout=60)
    assert code == 1 and stdout == ""
    assert "giving up" in stderr and "ServiceUnavailable" in stderr
    assert "Traceback" not in stderr


def test_a_permanent_error_while_waiting_fails_at_once(steps_dir, tmp_path, emulator, source):
    emulator.set_lifecycle()
    put = Running(steps_dir, tmp_path / "put", {"source": source, "params": FAST})
    put.wait_for("execution ")
    emulator.delete_execution(put.arn())  # gone while we wait: ResourceNotFound is not an outage
    vanished = time.monotonic()
    code, stdout, stderr = put.finish(timeout=30)
    assert code == 1 and stdout == "" and "ResourceNotFound" in stderr
    assert "AWS is failing" not in stderr and "Traceback" not in stderr
    assert time.monotonic() - vanished < 5


def test_stop_of_a_finished_execution_reports_it_and_exits_0(run, emulator, pipeline, source, sm):
    arn = emulator.start_execution(pipeline)
    emulator.finish(arn, "Succeeded")
    for params in ({"action": "stop", "execution_arn": arn}, {"action": "stop", "execution_arn": arn, **FAST}):
        started = time.monotonic()
        result = run("out", {"source": source, "params": params})
        metadata = {item["name"]: item["value"] for item in result.json["metadata"]}
        assert result.json["version"] == {"execution_arn": arn}
        assert metadata["status"] == "Succeeded" and "had already finished (Succeeded)" in result.stderr
        assert time.monotonic() - started < 5  # no sleeping on a Conflict that cannot clear
    assert status_of(sm, arn) == "Succeeded"


def test_stop_of_a_stopping_execution_is_fine(run, emulator, pipeline, source, sm):
    emulator.set_lifecycle(stop_after_polls=2)
    arn = emulator.start_execution(pipeline)
    sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="x" * 32)
    result = run("out", {"source": source, "params": {"action": "stop", "execution_arn": arn, **FAST}})
    assert result.json["version"] == {"execution_arn": arn}
    assert status_of(sm, arn) == "Stopped"


def test_stop_on_timeout_racing_the_finish_reports_the_final_status(run, emulator, source):
    # It finishes after the last poll but before the stop arrives (the stop is slowed down): AWS refuses to
    # stop a finished execution, and that is no timeout: the put reports how it ended.
    emulator.set_lifecycle(finish_after_seconds=3, final_status="Succeeded")
    emulator.inject_fault("latency", count=1, operation="StopPipelineExecution", latency_seconds=3)
    params = {**FAST, "timeout": 1.5, "stop_on_timeout": True}
    result = run("out", {"source": source, "params": params})
    metadata = {item["name"]: item["value"] for item in result.json["metadata"]}
    assert metadata["status"] == "Succeeded"
    assert "had already finished (Succeeded)" in result.stderr and "timed out" not in result.stderr


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129), (signal.SIGQUIT, 131)]
)
def test_abort_during_the_wait_stops_the_execution(steps_dir, tmp_path, emulator, source, sm, signum, code):
    emulator.set_lifecycle()  # would run forever
    put = Running(steps_dir, tmp_path / "put", {"source": source, "params": FAST})
    put.wait_for("execution ")  # waiting
    arn = put.arn()
    sent = time.monotonic()
    put.process.send_signal(signum)
    returncode, stdout, stderr = put.finish(timeout=15)
    assert time.monotonic() - sent < 5, "the abort took more than a few seconds"
    assert returncode == code and stdout == ""
    name = signal.Signals(signum).name
    assert f"put: {name}: the build was aborted while waiting for {arn}" in stderr
    assert f"asked {arn} to stop" in stderr and "Traceback" not in stderr
    assert status_of(sm, arn) in ("Stopping", "Stopped")


def test_abort_with_stop_on_abort_false_leaves_it_running(steps_dir, tmp_path, emulator, source, sm):
    emulator.set_lifecycle()
    put = Running(steps_dir, tmp_path / "put", {"source": source, "params": {**FAST, "stop_on_abort": False}})
    put.wait_for("execution ")
    put.process.send_signal(signal.SIGTERM)
    returncode, _, stderr = put.finish(timeout=15)
    assert returncode == 143 and "keeps running (stop_on_abort is false)" in stderr
    assert status_of(sm, put.arn()) == "Executing"


def test_abort_during_a_gets_wait_exits_and_stops_nothing(steps_dir, tmp_path, emulator, pipeline, source, sm):
    """get waits for a running execution too; aborted, it exits 143 but stops nothing: only put stops what it
    started."""
    arn = emulator.start_execution(pipeline)
    payload = {"source": source, "version": {"execution_arn": arn}, "params": {"poll_interval": 1}}
    get = Running(steps_dir, tmp_path / "get", payload, step="in")
    get.wait_for("is still running: waiting")
    time.sleep(1)
    get.process.send_signal(signal.SIGTERM)
    returncode, stdout, stderr = get.finish(timeout=15)
    assert returncode == 143 and stdout == "" and "SIGTERM" in stderr and "Traceback" not in stderr
    assert status_of(sm, arn) == "Executing"


def test_abort_before_the_first_poll_still_stops_the_execution(steps_dir, tmp_path, emulator, source, sm):
    """Right after the start, AWS may not show the execution yet (the put asks again): an abort then is
    handled like one during the wait."""
    emulator.set_lifecycle()
    emulator.set_strictness(not_found_seconds=3)
    put = Running(steps_dir, tmp_path / "put", {"source": source, "params": FAST})
    put.wait_for("is not visible yet")
    put.process.send_signal(signal.SIGTERM)
    returncode, _, stderr = put.finish(timeout=20)
    assert returncode == 143 and "the build was aborted while waiting" in stderr, stderr
    arn = put.arn()
    time.sleep(3)  # visible now: the stop was taken, or the put said to stop it by hand
    assert status_of(sm, arn) in ("Stopping", "Stopped") or "stop it by hand" in stderr


@pytest.mark.parametrize("params", [FAST, {}], ids=["wait", "no-wait"])
def test_an_outage_right_after_the_start_is_ridden_out(run, emulator, source, params):
    """The describe right after StartPipelineExecution answers 5xx (beyond botocore's retries): the put rides
    it out within the outage budget, with or without wait, instead of failing while its execution runs on."""
    emulator.set_lifecycle(finish_after_polls=2, final_status="Succeeded")
    emulator.inject_fault("server_error", count=6, operation="DescribePipelineExecution")  # 3 calls' worth
    result = run("out", {"source": source, "params": params})
    assert result.json["version"]["execution_arn"] in result.stderr
    assert result.stderr.count("AWS is failing") == 1 and result.stderr.count("AWS answers again") == 1
    assert "Traceback" not in result.stderr


def test_the_marker_rides_out_an_outage(run, emulator, source, sm):
    """UpdatePipelineExecution (the marker a waiting put writes just before it succeeds) answers 5xx."""
    emulator.set_lifecycle(finish_after_polls=1, final_status="Succeeded")
    emulator.inject_fault("server_error", count=4, operation="UpdatePipelineExecution")
    result = run("out", {"source": source, "params": FAST})
    arn = result.json["version"]["execution_arn"]
    description = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionDescription"]
    assert re.search(r" saved[ \]]", description) and "AWS answers again" in result.stderr


def test_an_error_after_the_start_names_the_execution(run, emulator, source):
    """A permanent error once the execution exists: the message names it, not the put action."""
    emulator.set_lifecycle()
    emulator.credential_fault(ACCESS_KEY_ID, "access_denied", operation="DescribePipelineExecution")
    result = run("out", {"source": source, "params": FAST})
    assert result.returncode == 1 and result.stdout == ""
    arn = result.stderr.split("put: start ")[1].split()[0]
    assert f"error: AWS refused following up on the execution {arn} that this put started: AccessDenied" in (
        result.stderr
    )
    assert "the put action" not in result.stderr and "Traceback" not in result.stderr


def test_abort_while_aws_does_not_answer_ends_within_seconds(steps_dir, tmp_path, emulator, source, sm):
    """AWS stops answering (every call hangs), then the build is aborted: the stop is tried, briefly, and the
    put exits saying to stop the execution by hand, within a few seconds."""
    emulator.set_lifecycle()
    put = Running(steps_dir, tmp_path / "put", {"source": source, "params": FAST})
    put.wait_for("execution ")
    emulator.inject_fault("latency", count=10, latency_seconds=20)
    put.process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    returncode, stdout, stderr = put.finish(timeout=60)
    took = time.monotonic() - sent
    emulator.clear_faults()
    assert returncode == 143 and stdout == "" and "Traceback" not in stderr
    assert f"could not stop {put.arn()}" in stderr and "stop it by hand" in stderr
    assert took < 12, f"the abort took {took:.0f} s"  # the stop gives up after 5 s; before, it took 20 s
