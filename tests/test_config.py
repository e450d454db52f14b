"""Source and params validation: every mistake is named, with the fix, before any AWS call."""

import pytest

from sagemaker_pipeline_resource.config.params import DEFAULT_STATUSES, PutParams, SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"


def error_of(raw: object, cls: type = SourceConfig) -> str:
    with pytest.raises(ResourceError) as caught:
        cls.from_json(raw)
    return str(caught.value)


def test_defaults_and_region_from_the_arn() -> None:
    config = SourceConfig.from_json({"pipeline": ARN})
    assert config.statuses == DEFAULT_STATUSES
    assert config.effective_region == "us-east-1"
    assert SourceConfig.from_json({"pipeline": ARN, "region": "eu-west-1"}).effective_region == "eu-west-1"


def test_defaults_are_not_shared_between_instances() -> None:
    first = PutParams.from_json({})
    second = PutParams.from_json({})
    assert first.parameters is not second.parameters
    assert isinstance(SourceConfig.from_json({"pipeline": ARN}).statuses, tuple)  # immutable


def test_unknown_key_suggests_the_right_one() -> None:
    text = error_of({"pipeline": ARN, "statues": ["Failed"]})
    assert "unknown key 'statues'" in text and "Did you mean 'statuses'" in text


def test_missing_pipeline() -> None:
    assert "source.pipeline is required" in error_of({})


def test_wrong_types_are_named() -> None:
    assert "source.statuses must be a list of strings, but it is a string" in error_of(
        {"pipeline": ARN, "statuses": "Succeeded"}
    )
    assert "source.max_pages must be a whole number" in error_of({"pipeline": ARN, "max_pages": "3"})
    assert "source.debug must be true or false" in error_of({"pipeline": ARN, "debug": "yes"})


def test_unknown_status_lists_valid_ones() -> None:
    text = error_of({"pipeline": ARN, "statuses": ["succeeded"]})
    assert "unknown status 'succeeded' (did you mean 'Succeeded'?)" in text
    assert "Executing, Stopping, Stopped, Failed, Succeeded" in text


def test_secret_values_are_never_echoed() -> None:
    text = error_of({"pipeline": ARN, "access_key_id": "AKIA", "secret_access_key": ["s3cr3t-value"]})
    assert "s3cr3t" not in text
    text = error_of({"pipeline": ARN, "access_key_id": "AKIA", "secret_access_key": 123456789})
    assert "123456789" not in text


def test_half_a_key_pair_is_an_error() -> None:
    assert "go together" in error_of({"pipeline": ARN, "access_key_id": "AKIA"})


def test_role_options_need_a_role() -> None:
    assert "only applies with source.role_arn" in error_of({"pipeline": ARN, "external_id": "xy"})
    assert "not an IAM role ARN" in error_of({"pipeline": ARN, "role_arn": "my-role"})


def test_put_params_validation() -> None:
    assert "params.action must be one of start, stop, retry" in error_of({"action": "restart"}, PutParams)
    assert "needs the execution to act on" in error_of({"action": "stop"}, PutParams)
    assert "only applies to action 'start'" in error_of(
        {"action": "retry", "execution_arn": ARN + "/execution/abc", "parameters": {"a": "b"}}, PutParams
    )
    assert "params.parallelism must be at least 1" in error_of({"parallelism": 0}, PutParams)
    assert "32 to 128 characters" in error_of({"client_request_token": "short"}, PutParams)
    assert "stop_on_timeout needs params.timeout" in error_of({"wait": True, "stop_on_timeout": True}, PutParams)
    assert "non-empty list of step names" in error_of({"selective_execution": {"steps": []}}, PutParams)
    assert "not a valid SageMaker pipeline execution ARN" in error_of(
        {"selective_execution": {"steps": ["Train"], "source_execution_arn": "nope"}}, PutParams
    )
