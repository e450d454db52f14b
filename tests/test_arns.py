"""ARN parsing: every partition, and a clear error (showing the expected form) for everything else."""

import pytest

from sagemaker_pipeline_resource.config.arns import parse_execution_arn, parse_pipeline_arn
from sagemaker_pipeline_resource.errors import ResourceError


@pytest.mark.parametrize(
    ("arn", "partition", "region"),
    [
        ("arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn", "aws", "us-east-1"),
        ("arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:pipeline/a-b-c", "aws-us-gov", "us-gov-west-1"),
        ("arn:aws-cn:sagemaker:cn-north-1:123456789012:pipeline/Model1", "aws-cn", "cn-north-1"),
        ("arn:aws-iso-b:sagemaker:us-isob-east-1:123456789012:pipeline/x", "aws-iso-b", "us-isob-east-1"),
    ],
)
def test_pipeline_arns_of_every_partition(arn: str, partition: str, region: str) -> None:
    parsed = parse_pipeline_arn(arn)
    assert (parsed.partition, parsed.region, parsed.account) == (partition, region, "123456789012")
    assert str(parsed) == arn


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("churn-model", "not a name"),
        ("arn:aws:s3:::my-bucket", "'s3'"),
        ("arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn/execution/abc123", "execution ARN"),
        ("arn:aws:sagemaker:us-east-1:1234:pipeline/churn", "not a valid"),
        ("arn:aws:sagemaker:us-east-1:123456789012:pipeline/", "not a valid"),
        ("arn:aws:sagemaker:us-east-1:123456789012:pipeline/under_score", "not a valid"),
        (42, "a int"),
        ("", "not a name"),
    ],
)
def test_bad_pipeline_arns_say_the_expected_form(value: object, fragment: str) -> None:
    with pytest.raises(ResourceError) as caught:
        parse_pipeline_arn(value)
    text = str(caught.value)
    assert fragment in text
    assert "arn:aws:sagemaker:REGION:ACCOUNT_ID:pipeline/PIPELINE_NAME" in text


def test_execution_arn_belongs_to_its_pipeline_case_insensitively() -> None:
    pipeline = parse_pipeline_arn("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/Churn-Model")
    execution = parse_execution_arn(
        "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-model/execution/ab12cd34ef56"
    )
    assert pipeline.owns(execution)
    other = parse_execution_arn("arn:aws:sagemaker:eu-west-2:123456789012:pipeline/churn-model/execution/ab12cd34ef56")
    assert not pipeline.owns(other)


def test_pipeline_arn_is_not_an_execution_arn() -> None:
    with pytest.raises(ResourceError, match="pipeline ARN, not an execution ARN"):
        parse_execution_arn("arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn")
