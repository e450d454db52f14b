"""Parsing SageMaker pipeline and execution ARNs.

The seed example split the ARN on ``:`` and ``/`` with tuple unpacking, which accepts garbage, rejects
other partitions' ARNs for the wrong reason and says nothing useful. Here an ARN is matched against the
documented form in full, and every rejection names the form that was expected.

Forms (any partition: ``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso``, ``aws-eusc``..., and any region of
the form ``xx-name-1``, ``eusc-de-east-1``, ``us-isob-east-1``: tests/test_arns.py tries every region of every
partition that the locked botocore knows)::

    arn:PARTITION:sagemaker:REGION:ACCOUNT:pipeline/NAME
    arn:PARTITION:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sagemaker_pipeline_resource.errors import ResourceError, shown

PIPELINE_FORM = "arn:aws:sagemaker:REGION:ACCOUNT_ID:pipeline/PIPELINE_NAME"
EXECUTION_FORM = "arn:aws:sagemaker:REGION:ACCOUNT_ID:pipeline/PIPELINE_NAME/execution/EXECUTION_ID"

# A region name as AWS writes it (lower case): also how source.region is checked.
# Digits are [0-9]: ``\d`` would also take other scripts' digits (an account of Arabic-Indic digits).
REGION = r"[a-z]{2,}(?:-[a-z]+)+-[0-9]+"
_PREFIX = rf"arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>{REGION}):(?P<account>[0-9]{{12}}):"
_NAME = r"(?P<name>[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,255})"
_PIPELINE_RE = re.compile(_PREFIX + r"pipeline/" + _NAME)
_EXECUTION_RE = re.compile(_PREFIX + r"pipeline/" + _NAME + r"/execution/(?P<execution_id>[a-zA-Z0-9]{1,64})")


@dataclass(frozen=True)
class PipelineArn:
    """A parsed pipeline ARN; ``str()`` gives it back unchanged."""

    partition: str
    region: str
    account: str
    name: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:pipeline/{self.name}"

    def owns(self, execution: ExecutionArn) -> bool:
        """Whether ``execution`` belongs to this pipeline (AWS compares pipeline names case-insensitively)."""
        return (
            execution.pipeline.partition == self.partition
            and execution.pipeline.region == self.region
            and execution.pipeline.account == self.account
            and execution.pipeline.name.lower() == self.name.lower()
        )


@dataclass(frozen=True)
class ExecutionArn:
    """A parsed pipeline execution ARN."""

    pipeline: PipelineArn
    execution_id: str

    def __str__(self) -> str:
        return f"{self.pipeline}/execution/{self.execution_id}"


def _describe(value: object) -> str:
    """The value quoted as every message quotes one: escaped, masked, at most 80 characters."""
    return shown(value) if isinstance(value, str) else f"a {type(value).__name__}"


def parse_pipeline_arn(value: object, key: str = "source.pipeline") -> PipelineArn:
    """Parse a pipeline ARN, or explain what is wrong with ``value``."""
    if isinstance(value, str):
        match = _PIPELINE_RE.fullmatch(value)
        if match:
            return PipelineArn(match["partition"], match["region"], match["account"], match["name"])
    hint = f"Give the pipeline's full ARN, of the form {PIPELINE_FORM}"
    if isinstance(value, str):
        if _EXECUTION_RE.fullmatch(value):
            raise ResourceError(
                f"{key} is an execution ARN ({_describe(value)}), not a pipeline ARN.",
                f"{hint}: drop the '/execution/...' part.",
            )
        if not value.startswith("arn:"):
            raise ResourceError(
                f"{key} must be a pipeline ARN, not a name: got {_describe(value)}.",
                f"{hint} (aws sagemaker describe-pipeline --pipeline-name NAME shows it).",
            )
        service = value.split(":")[2] if value.count(":") >= 2 else ""
        if service and service != "sagemaker":
            raise ResourceError(
                f"{key} is an ARN for the service '{service}', not a SageMaker pipeline: {_describe(value)}.",
                f"{hint}.",
            )
    raise ResourceError(f"{key} is not a valid SageMaker pipeline ARN: got {_describe(value)}.", f"{hint}.")


def parse_execution_arn(value: object, key: str = "version.execution_arn", *, quote: bool = True) -> ExecutionArn:
    """Parse a pipeline execution ARN, or explain what is wrong with ``value``.

    ``quote=False`` for a value read from a file: the error says what is wrong, never what the file holds
    (it may not be the file the author meant: a hard link, a secret).
    """
    if isinstance(value, str):
        match = _EXECUTION_RE.fullmatch(value.strip())
        if match:
            pipeline = PipelineArn(match["partition"], match["region"], match["account"], match["name"])
            return ExecutionArn(pipeline, match["execution_id"])
    hint = f"Give a pipeline execution ARN, of the form {EXECUTION_FORM}."
    if not quote:
        length = len(value) if isinstance(value, str) else 0
        raise ResourceError(
            f"{key} does not hold a pipeline execution ARN (it holds {length} characters, not shown: an error "
            "never quotes a file).",
            f"Point it at a get step's directory or its execution_arn file. {hint}",
        )
    if isinstance(value, str) and _PIPELINE_RE.fullmatch(value.strip()):
        raise ResourceError(f"{key} is a pipeline ARN, not an execution ARN: {_describe(value)}.", hint)
    raise ResourceError(f"{key} is not a valid SageMaker pipeline execution ARN: got {_describe(value)}.", hint)
