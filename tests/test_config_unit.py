"""config.py in-process: every refusal's exact message and hint, and the edges of every check.

tests/test_config.py shows that mistakes are refused; these pin what the user reads (``make mutation``).
"""

from __future__ import annotations

import pytest

from sagemaker_pipeline_resource.config import params as config
from sagemaker_pipeline_resource.config.params import GetParams, PutParams, SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"
EXECUTION = ARN + "/execution/abc123"
ROLE = "arn:aws:iam::123456789012:role/runner"
PEM_HINT = "Paste the CA certificates as PEM text, each from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
NO_ROLE = "only applies with source.role_arn, which is not set."
KEYS = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "secret-value"}


def refused(cls, raw) -> ResourceError:
    with pytest.raises(ResourceError) as caught:
        cls.from_json(raw)
    return caught.value


def source(**raw) -> dict:
    return {"pipeline": ARN, **raw}


@pytest.mark.parametrize(
    ("raw", "message", "hint"),
    [
        (
            source(statuses=[]),
            "source.statuses is empty.",
            "List at least one of: Executing, Stopping, Stopped, Failed, Succeeded, CompletedWithFailures.",
        ),
        (
            source(statuses=["succeeded"]),
            "source.statuses contains the unknown status 'succeeded' (did you mean 'Succeeded'?).",
            "Valid statuses are: Executing, Stopping, Stopped, Failed, Succeeded, CompletedWithFailures.",
        ),
        (
            source(statuses=["Succeeded", "Done"]),
            "source.statuses contains the unknown status 'Done'.",
            "Valid statuses are: Executing, Stopping, Stopped, Failed, Succeeded, CompletedWithFailures.",
        ),
        (source(retry_mode="legacy"), "source.retry_mode must be one of standard, adaptive, but it is 'legacy'.", None),
        (
            source(access_key_id="AKIAEXAMPLE"),
            "source.access_key_id and source.secret_access_key go together: only one of them is set.",
            "Set both (and session_token for temporary credentials), or neither to use the default chain.",
        ),
        (
            source(secret_access_key="secret-value"),
            "source.access_key_id and source.secret_access_key go together: only one of them is set.",
            "Set both (and session_token for temporary credentials), or neither to use the default chain.",
        ),
        (
            source(session_token="token-value"),
            "source.session_token is set without source.access_key_id and secret_access_key.",
            None,
        ),
        (
            source(role_session_name="me"),
            "source.role_session_name only applies with source.role_arn, which is not set.",
            None,
        ),
        (source(external_id="abc"), "source.external_id only applies with source.role_arn, which is not set.", None),
        (source(role_duration=900), "source.role_duration only applies with source.role_arn, which is not set.", None),
        (
            source(role_arn="arn:aws:iam::123456789012:user/me"),
            "source.role_arn is not an IAM role ARN: 'arn:aws:iam::123456789012:user/me'.",
            "Use the form arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME.",
        ),
        (
            source(ca_bundle="/etc/ssl/ca.pem"),
            "source.ca_bundle must be the PEM text of one or more CA certificates (not a file path).",
            PEM_HINT,
        ),
        (
            source(ca_bundle="-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"),
            "source.ca_bundle holds no certificate OpenSSL can read (SSLError).",
            PEM_HINT,
        ),
        (
            source(endpoint_url="https://host:99999"),
            "source.endpoint_url is not a valid URL (Port out of range 0-65535): 'https://host:99999'.",
            "For example https://api.sagemaker.us-east-1.amazonaws.com or a VPC endpoint's URL.",
        ),
        (
            source(sts_endpoint_url="ftp://sts.example.com"),
            "source.sts_endpoint_url must be an http(s) URL with a valid host name, but it is 'ftp://sts.example.com'.",
            "For example https://api.sagemaker.us-east-1.amazonaws.com or a VPC endpoint's URL.",
        ),
        (
            source(endpoint_url="https://user@host.example.com"),
            "source.endpoint_url must be an http(s) URL with a valid host name, but it is "
            "'https://user@host.example.com'.",
            "For example https://api.sagemaker.us-east-1.amazonaws.com or a VPC endpoint's URL.",
        ),
        (
            source(endpoint_url="https://bad host"),
            "source.endpoint_url must be an http(s) URL with a valid host name, but it is 'https://bad host'.",
            "For example https://api.sagemaker.us-east-1.amazonaws.com or a VPC endpoint's URL.",
        ),
    ],
)
def test_source_refusals(raw, message, hint):
    error = refused(SourceConfig, raw)
    assert (error.message, error.hint) == (message, hint)


def test_source_accepts_what_it_documents():
    full = SourceConfig.from_json(
        source(
            **KEYS,
            session_token="token-value",
            role_arn=ROLE,
            role_session_name="me",
            external_id="abc",
            role_duration=900,
            endpoint_url="http://127.0.0.1:5000",
            sts_endpoint_url="https://[::1]:443",
            retry_mode="adaptive",
            region="eu-west-1",
        )
    )
    assert full.effective_region == "eu-west-1"
    assert SourceConfig.from_json(source()).effective_region == "us-east-1"
    assert SourceConfig.from_json(source(role_arn="arn:aws-cn:iam::123456789012:role/a/b")).role_arn
    assert SourceConfig.from_json(source(statuses=["CompletedWithFailures"])).statuses == ("CompletedWithFailures",)
    assert str(SourceConfig.from_json(source()).pipeline_arn) == ARN


def test_role_arn_is_ascii_only():
    refused(SourceConfig, source(role_arn="arn:aws:iam::123456789012:role/\uff52ole"))  # a fullwidth r


def put_params(**raw) -> dict:
    return raw


@pytest.mark.parametrize(
    ("raw", "message", "hint"),
    [
        ({"action": "restart"}, "params.action must be one of start, stop, retry, but it is 'restart'.", None),
        (
            {"wait": True, "stop_on_timeout": True},
            "params.stop_on_timeout needs params.timeout.",
            "Set timeout (seconds).",
        ),
        (
            {"action": "stop", "execution_arn": EXECUTION, "execution_arn_file": "x"},
            "params.execution_arn and params.execution_arn_file are both set: give one.",
            None,
        ),
        (
            {"action": "retry", "execution_arn": EXECUTION, "parameters": {"A": "1"}},
            "params.parameters only applies to action 'start', not 'retry'.",
            None,
        ),
        (
            {"action": "stop", "execution_arn": EXECUTION, "pipeline_version_id": 2},
            "params.pipeline_version_id only applies to action 'start', not 'stop'.",
            None,
        ),
        (
            {"action": "stop"},
            "params.action 'stop' needs the execution to act on.",
            "Set params.execution_arn to its ARN, or params.execution_arn_file to the directory of a get of this "
            "resource (or a file holding the ARN).",
        ),
        (
            {"execution_arn": EXECUTION},
            "params.execution_arn and execution_arn_file only apply to actions 'stop' and 'retry'.",
            "For a selective execution, use params.selective_execution.source_execution_arn.",
        ),
        (
            {"execution_arn_file": "x"},
            "params.execution_arn and execution_arn_file only apply to actions 'stop' and 'retry'.",
            "For a selective execution, use params.selective_execution.source_execution_arn.",
        ),
        (
            {"action": "stop", "execution_arn": EXECUTION, "parallelism": 2},
            "params.parallelism does not apply to action 'stop'.",
            None,
        ),
        (
            {"pipeline_role_arn": ROLE},
            "params.pipeline_role_arn only applies with params.definition_file, which is not set.",
            "Set definition_file to the pipeline definition (JSON) to deploy before the start.",
        ),
        (
            {"pipeline_display_name": "x"},
            "params.pipeline_display_name only applies with params.definition_file, which is not set.",
            "Set definition_file to the pipeline definition (JSON) to deploy before the start.",
        ),
        (
            {"action": "retry", "execution_arn": EXECUTION, "definition_file": "d.json"},
            "params.definition_file only applies to action 'start', not 'retry'.",
            None,
        ),
        (
            {"definition_file": "d.json", "pipeline_role_arn": ROLE, "pipeline_version_id": 1},
            "params.pipeline_version_id and params.definition_file are both set: give one.",
            "With definition_file the execution runs the version that the deploy created or found.",
        ),
        (
            {"definition_file": "d.json"},
            "params.definition_file needs params.pipeline_role_arn: the IAM role the pipeline's steps run as.",
            "Use the form arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME (it is not source.role_arn, which is assumed to call "
            "AWS).",
        ),
        (
            {"definition_file": "d.json", "pipeline_role_arn": "runner"},
            "params.pipeline_role_arn is not an IAM role ARN: 'runner'.",
            "Use the form arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME (a role, not a user, policy or role name).",
        ),
        (
            {"definition_file": "d.json", "pipeline_role_arn": ROLE, "pipeline_display_name": "a_b"},
            "params.pipeline_display_name 'a_b' is not a valid pipeline display name.",
            "Use letters, digits and dashes (AWS's pattern), starting and ending with a letter or digit.",
        ),
        (
            {"selective_execution": {"steps": ["A"], "from": "x"}},
            "params.selective_execution has unknown keys: 'from'.",
            "It takes 'steps' (a list of step names) and optionally 'source_execution_arn'.",
        ),
        (
            {"selective_execution": {"steps": []}},
            "params.selective_execution.steps must be a non-empty list of step names.",
            "For example: steps: [Train, Evaluate].",
        ),
        (
            {"selective_execution": {"steps": ["A", ""]}},
            "params.selective_execution.steps must be a non-empty list of step names.",
            "For example: steps: [Train, Evaluate].",
        ),
        (
            {"selective_execution": {"steps": "A"}},
            "params.selective_execution.steps must be a non-empty list of step names.",
            "For example: steps: [Train, Evaluate].",
        ),
        (
            {"selective_execution": {"steps": [f"S{i}" for i in range(51)]}},
            "params.selective_execution.steps lists 51 steps; AWS allows 50.",
            None,
        ),
        (
            {"timeout": 60},
            "params.timeout only applies with params.wait: true, which is not set.",
            "Set wait: true to wait for the execution, or remove them.",
        ),
        (
            {"timeout": 60, "fail_on": ["Failed"]},
            "params.timeout, params.fail_on only apply with params.wait: true, which is not set.",
            "Set wait: true to wait for the execution, or remove them.",
        ),
        (
            {"wait": True, "fail_on": ["Executing"]},
            "params.fail_on contains the unknown status 'Executing'.",
            "Valid statuses are: Stopped, Failed, Succeeded, CompletedWithFailures.",
        ),
    ],
)
def test_put_refusals(raw, message, hint):
    error = refused(PutParams, raw)
    assert (error.message, error.hint) == (message, hint)


def test_put_accepts_what_it_documents():
    assert PutParams.from_json({"wait": True, "fail_on": []}).fail_on == ()
    stop = PutParams.from_json({"action": "stop", "execution_arn_file": "got"})
    assert stop.execution_arn_file == "got"
    deploy = PutParams.from_json(
        {"definition_file": "d.json", "pipeline_role_arn": ROLE, "pipeline_display_name": "a-b"}
    )
    assert deploy.pipeline_role_arn == ROLE
    assert PutParams.from_json({}).selective_execution_config() is None
    selective = PutParams.from_json({"selective_execution": {"steps": [f"S{i}" for i in range(50)]}})
    assert len(selective.selective_execution_config()["SelectedSteps"]) == 50
    with_source = PutParams.from_json({"selective_execution": {"steps": ["T"], "source_execution_arn": EXECUTION}})
    assert with_source.selective_execution_config() == {
        "SelectedSteps": [{"StepName": "T"}],
        "SourcePipelineExecutionArn": EXECUTION,
    }
    assert PutParams.from_json({"wait": True, "timeout": 60, "stop_on_timeout": True}).stop_on_timeout


def test_a_bad_source_execution_arn_is_named():
    error = refused(PutParams, {"selective_execution": {"steps": ["T"], "source_execution_arn": ARN}})
    assert error.message.startswith("params.selective_execution.source_execution_arn is a pipeline ARN")


def test_get_params():
    assert GetParams.from_json({}) == GetParams(True, 30.0, None, False, False, False)
    error = refused(GetParams, {"poll_interval": 0.5})
    assert error.message.startswith("params.poll_interval")


def test_status_tables():
    assert config.FINAL_STATUSES == ("Stopped", "Failed", "Succeeded", "CompletedWithFailures")
    assert config.RUNNING_STATUSES == frozenset({"Executing", "Stopping"})
    config.check_statuses((), "k", empty_ok=True)
    config.check_endpoint_url(None, "k")
    config.check_pem(None, "k")


def test_keys_named_in_nested_errors():
    assert refused(SourceConfig, {"pipeline": "churn"}).message.startswith("source.pipeline must be a pipeline ARN")
    assert refused(GetParams, {"skip_stepz": True}).message.startswith("params")
    assert "params." in str(refused(GetParams, {"skip_steps": "yes"}))
    error = refused(PutParams, {"action": "stop", "execution_arn": "nope"})
    assert error.message.startswith("params.execution_arn is not a valid SageMaker pipeline execution ARN")
    error = refused(PutParams, {"selective_execution": {"steps": ["A"], "b": 1, "a": 2}})
    assert error.message == "params.selective_execution has unknown keys: 'a', 'b'."
