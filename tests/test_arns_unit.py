"""arns.py in-process: exact messages, hints, default keys and the shortening of long values.

Written to kill the mutants that tests/test_arns.py let survive (``make mutation``): each assertion pins
one piece of the message a user reads, so that dropping or changing it fails a test.
"""

import pytest

from sagemaker_pipeline_resource.config.arns import (
    EXECUTION_FORM,
    PIPELINE_FORM,
    ExecutionArn,
    PipelineArn,
    parse_execution_arn,
    parse_pipeline_arn,
)
from sagemaker_pipeline_resource.errors import ResourceError

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"
EXECUTION = PIPELINE + "/execution/abc123"


def failure(parse, value, *args):
    with pytest.raises(ResourceError) as caught:
        parse(value, *args)
    return caught.value


def test_a_long_value_is_shortened_to_80_characters():
    exactly = "x" * 80
    assert f"got '{exactly}'." in failure(parse_pipeline_arn, exactly).message
    longer = "y" * 201
    assert f"got '{'y' * 80}...'." in failure(parse_pipeline_arn, longer).message
    assert "y" * 81 not in failure(parse_pipeline_arn, longer).message


def test_a_non_string_is_named_by_its_type():
    expected = "source.pipeline is not a valid SageMaker pipeline ARN: got a int."
    assert failure(parse_pipeline_arn, 42).message == expected
    assert failure(parse_execution_arn, None).message.endswith("got a NoneType.")


def test_default_keys_name_the_field():
    assert failure(parse_pipeline_arn, "churn").message.startswith("source.pipeline must be a pipeline ARN")
    assert failure(parse_execution_arn, "churn").message.startswith("version.execution_arn is not a valid")


def test_name_instead_of_arn():
    error = failure(parse_pipeline_arn, "churn-model", "k")
    assert error.message == "k must be a pipeline ARN, not a name: got 'churn-model'."
    assert error.hint == (
        f"Give the pipeline's full ARN, of the form {PIPELINE_FORM} "
        "(aws sagemaker describe-pipeline --pipeline-name NAME shows it)."
    )


def test_other_service():
    error = failure(parse_pipeline_arn, "arn:aws:s3:::bucket", "k")
    assert error.message == "k is an ARN for the service 's3', not a SageMaker pipeline: 'arn:aws:s3:::bucket'."
    assert error.hint == f"Give the pipeline's full ARN, of the form {PIPELINE_FORM}."


def test_two_colons_is_enough_to_name_the_service():
    error = failure(parse_pipeline_arn, "arn:aws:s3", "k")
    assert "service 's3'" in error.message
    one_colon = failure(parse_pipeline_arn, "arn:aws", "k")
    assert one_colon.message == "k is not a valid SageMaker pipeline ARN: got 'arn:aws'."


def test_sagemaker_arn_that_is_not_a_pipeline():
    error = failure(parse_pipeline_arn, "arn:aws:sagemaker:us-east-1:123456789012:model/churn", "k")
    assert error.message == (
        "k is not a valid SageMaker pipeline ARN: got 'arn:aws:sagemaker:us-east-1:123456789012:model/churn'."
    )
    assert error.hint == f"Give the pipeline's full ARN, of the form {PIPELINE_FORM}."


def test_execution_arn_where_a_pipeline_belongs():
    error = failure(parse_pipeline_arn, EXECUTION, "k")
    assert error.message == f"k is an execution ARN ('{EXECUTION}'), not a pipeline ARN."
    assert error.hint.endswith(": drop the '/execution/...' part.")


def test_pipeline_arn_where_an_execution_belongs():
    error = failure(parse_execution_arn, PIPELINE, "k")
    assert error.message == f"k is a pipeline ARN, not an execution ARN: '{PIPELINE}'."
    assert error.hint == f"Give a pipeline execution ARN, of the form {EXECUTION_FORM}."
    padded = failure(parse_execution_arn, f"  {PIPELINE}\n", "k")
    assert "is a pipeline ARN" in padded.message


def test_invalid_execution_arn():
    error = failure(parse_execution_arn, "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn/execution/", "k")
    assert error.message.startswith("k is not a valid SageMaker pipeline execution ARN: got 'arn:")
    assert error.hint == f"Give a pipeline execution ARN, of the form {EXECUTION_FORM}."


def test_execution_arn_parts_and_round_trip():
    parsed = parse_execution_arn(f" {EXECUTION} ")
    assert parsed == ExecutionArn(PipelineArn("aws", "us-east-1", "123456789012", "churn"), "abc123")
    assert str(parsed) == EXECUTION


@pytest.mark.parametrize(
    ("execution", "owned"),
    [
        (EXECUTION, True),
        ("arn:aws:sagemaker:us-east-1:123456789012:pipeline/CHURN/execution/a", True),
        ("arn:aws-cn:sagemaker:us-east-1:123456789012:pipeline/churn/execution/a", False),
        ("arn:aws:sagemaker:us-east-2:123456789012:pipeline/churn/execution/a", False),
        ("arn:aws:sagemaker:us-east-1:210987654321:pipeline/churn/execution/a", False),
        ("arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn2/execution/a", False),
    ],
)
def test_owns_compares_every_part(execution, owned):
    assert parse_pipeline_arn(PIPELINE).owns(parse_execution_arn(execution)) is owned


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/-churn",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/ch_urn",
        "arn:aws:sagemaker:useast1:123456789012:pipeline/churn",
        "arn:aws:sagemaker:us-east-1:12345678901:pipeline/churn",
        "arn:azure:sagemaker:us-east-1:123456789012:pipeline/churn",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/" + "a" * 257,
        " " + PIPELINE,
    ],
)
def test_pipeline_arn_form_is_exact(value):
    with pytest.raises(ResourceError):
        parse_pipeline_arn(value)


def test_longest_names_and_ids_are_accepted():
    assert parse_pipeline_arn(PIPELINE[: -len("churn")] + "a" * 256).name == "a" * 256
    assert parse_execution_arn(PIPELINE + "/execution/" + "b" * 64).execution_id == "b" * 64
    with pytest.raises(ResourceError):
        parse_execution_arn(PIPELINE + "/execution/" + "b" * 65)
