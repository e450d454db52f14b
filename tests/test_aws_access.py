"""AWS access and resilience, through the .pyz: credentials, roles, retries under faults, secrets, doctor."""

import datetime as dt
import json
import subprocess

import pytest

from tests.conftest import ACCESS_KEY_ID, EXTERNAL_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, assert_no_secrets, clean_env

NOW = dt.datetime.now(dt.timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/concourse-deployer"


def versions(result) -> list[str]:
    return [version["execution_arn"] for version in result.json]


@pytest.fixture
def history(emulator, pipeline) -> list[str]:
    return emulator.seed_executions(pipeline, 3, start=NOW - dt.timedelta(hours=1))


def doctor(pyz, source, env=None):
    """Run ``PYZ doctor`` (under the zipapp's own name, the step is the first argument)."""
    done = subprocess.run(
        [str(pyz), "doctor"], input=json.dumps({"source": source}), capture_output=True, text=True,
        env=clean_env(env), check=False,
    )  # fmt: skip
    assert_no_secrets(done.stdout, done.stderr, where="doctor's output")
    return done


def test_static_keys_with_session_token(run, source, history):
    assert versions(run("check", {"source": {**source, "session_token": SESSION_TOKEN}})) == [history[-1]]


def test_assume_role_on_top_of_static_keys(run, sts_source, history):
    source = {**sts_source, "role_arn": ROLE, "external_id": EXTERNAL_ID, "role_duration": 900, "debug": True}
    result = run("check", {"source": source})
    assert versions(result) == [history[-1]]
    assert "AssumeRole" in result.stderr  # botocore's debug log is on, and redacted (checked by `run`)


def test_doctor_reports_each_step(pyz, sts_source, history):
    done = doctor(pyz, {**sts_source, "role_arn": ROLE, "role_session_name": "nightly"})
    assert done.returncode == 0, done.stderr
    for step in ("configuration", "credentials", "identity", "pipeline", "executions"):
        assert f"ok   {step}:" in done.stdout
    assert "assumed-role/concourse-deployer/nightly" in done.stdout
    assert "role arn:aws:iam::123456789012:role/concourse-deployer assumed with source (static keys)" in done.stdout


def test_doctor_names_the_failing_step(pyz, sts_source, emulator):
    missing = {**sts_source, "pipeline": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope"}
    done = doctor(pyz, missing)
    assert done.returncode == 1
    assert "ok   identity:" in done.stderr and "FAIL" in done.stderr and "Traceback" not in done.stderr


def test_default_chain_from_the_environment(run, source, history):
    ambient = {k: v for k, v in source.items() if k not in ("access_key_id", "secret_access_key")}
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    assert versions(run("check", {"source": ambient}, env=env)) == [history[-1]]


def test_web_identity_from_the_default_chain(run, emulator, source, history, tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJIUzI1NiJ9.e30.ZmFrZQ", encoding="utf-8")
    ambient = {k: v for k, v in source.items() if k not in ("access_key_id", "secret_access_key")}
    env = {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE,
        "AWS_ROLE_SESSION_NAME": "pod",
        "AWS_ENDPOINT_URL_STS": emulator.url,
    }
    assert versions(run("check", {"source": ambient}, env=env)) == [history[-1]]


def test_throttling_is_retried_with_backoff(run, emulator, source, history):
    emulator.inject_fault("throttle", count=2, operation="ListPipelineExecutions")
    emulator.clear_requests()
    result = run("check", {"source": {**source, "max_attempts": 5}})
    assert versions(result) == [history[-1]]
    assert emulator.request_counts()["ListPipelineExecutions"] == 3


def test_persistent_throttling_is_a_clean_error_and_no_partial_answer(run, emulator, source, history):
    emulator.inject_fault("throttle", count=50, operation="ListPipelineExecutions")
    result = run("check", {"source": {**source, "max_attempts": 3}, "version": {"execution_arn": history[0]}})
    assert result.returncode == 1 and result.stdout == ""
    assert "ThrottlingException" in result.stderr and "retry_mode: adaptive" in result.stderr
    assert "Traceback" not in result.stderr


def test_server_errors_are_retried(run, emulator, source, history):
    emulator.inject_fault("server_error", count=2, status_code=503)
    assert versions(run("check", {"source": {**source, "max_attempts": 5}})) == [history[-1]]


def test_persistent_server_errors(run, emulator, source, history):
    emulator.inject_fault("server_error", count=50, status_code=500)
    result = run("check", {"source": {**source, "max_attempts": 2}})
    assert result.returncode == 1 and "try again later" in result.stderr


def test_dropped_connections_are_retried(run, emulator, source, history):
    emulator.inject_fault("drop", count=1, operation="ListPipelineExecutions")
    assert versions(run("check", {"source": {**source, "max_attempts": 3}})) == [history[-1]]


def test_read_timeout_names_the_endpoint(run, emulator, source, history):
    emulator.inject_fault("latency", count=10, latency_seconds=3)
    result = run("check", {"source": {**source, "read_timeout": 1, "max_attempts": 1}})
    assert result.returncode == 1 and emulator.url in result.stderr and "read_timeout" in result.stderr


def test_bad_endpoint_dns(run, source):
    result = run("check", {"source": {**source, "endpoint_url": "http://no-such-host.invalid:1", "max_attempts": 1}})
    assert result.returncode == 1 and "no-such-host.invalid" in result.stderr


def test_unknown_pipeline_says_so(run, source):
    missing = {**source, "pipeline": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/missing"}
    result = run("check", {"source": missing})
    assert result.returncode == 1 and "Check source.pipeline" in result.stderr


def test_lost_put_response_does_not_start_a_second_execution(run, emulator, pipeline, source, sm):
    emulator.inject_fault("lose_response", count=1, operation="StartPipelineExecution")
    emulator.clear_requests()
    first = run("out", {"source": {**source, "max_attempts": 3}, "params": {}}).json["version"]
    again = run("out", {"source": source, "params": {}}).json["version"]  # Concourse retrying the step
    assert first == again
    listed = sm.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]
    assert len(listed) == 1
    assert emulator.request_counts()["StartPipelineExecution"] == 3  # lost, retried by botocore, re-put


def test_secrets_stay_out_of_debug_output_and_files(run, emulator, sts_source, history, tmp_path):
    source = {
        **sts_source,
        "session_token": SESSION_TOKEN,
        "role_arn": ROLE,
        "external_id": EXTERNAL_ID,
        "debug": True,
    }
    checked = run("check", {"source": source})
    assert "x-amz-security-token" in checked.stderr.lower() or "Authorization" in checked.stderr
    run("in", {"source": source, "version": {"execution_arn": history[-1]}}, directory=tmp_path / "got").json
    run("out", {"source": source, "params": {}}, directory=tmp_path / "put").json
    # `run` asserts on every output and file; a failure here is one more chance to leak:
    failed = run("check", {"source": {**source, "pipeline": "not-an-arn"}})
    assert failed.returncode == 1


def test_verify_ssl_false_warns(run, source, history):
    result = run("check", {"source": {**source, "verify_ssl": False}})
    assert result.returncode == 0 and "verify_ssl is false" in result.stderr


def test_ca_bundle_must_be_pem(run, source):
    result = run("check", {"source": {**source, "ca_bundle": "/etc/ssl/certs/ca.pem"}})
    assert result.returncode == 1 and "PEM" in result.stderr


def test_cross_region_pipeline(run, emulator, source):
    arn = emulator.create_pipeline("eu-model", region="eu-west-1")
    seeded = emulator.seed_executions(arn, 2, start=NOW - dt.timedelta(hours=1))
    assert versions(run("check", {"source": {**source, "pipeline": arn}})) == [seeded[-1]]


def test_cross_account_pipeline_through_a_role(run, emulator, sts_source):
    arn = emulator.create_pipeline("shared-model", account="210987654321")
    seeded = emulator.seed_executions(arn, 2, start=NOW - dt.timedelta(hours=1))
    source = {**sts_source, "pipeline": arn, "role_arn": "arn:aws:iam::210987654321:role/concourse-sagemaker"}
    assert versions(run("check", {"source": source})) == [seeded[-1]]
    without_role = {k: v for k, v in source.items() if k != "role_arn"}
    assert run("check", {"source": without_role}).returncode == 1  # the keys' own account has no such pipeline
