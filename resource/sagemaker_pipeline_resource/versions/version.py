"""The version Concourse stores for one pipeline execution.

A version is the execution's ARN and nothing else. The ARN is unique and known the moment an execution
starts, so the version ``put`` returns for a running execution is byte for byte the version ``check`` emits
once it has finished, and the implicit ``get`` after ``put`` agrees with later checks. Anything that changes
during an execution's life (status, end time) would make the two disagree and give Concourse two versions
of one execution. Order is not carried in the version: ``check`` establishes it (see :mod:`history`).
"""

from __future__ import annotations

from dataclasses import dataclass

from concoursetools import TypedVersion

from sagemaker_pipeline_resource.config.arns import ExecutionArn, parse_execution_arn
from sagemaker_pipeline_resource.config.fields import from_json


@dataclass
class ExecutionVersion(TypedVersion):
    """``{"execution_arn": "arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID"}``."""

    execution_arn: str

    def __post_init__(self) -> None:
        self.execution_arn = self.execution_arn.strip()
        parse_execution_arn(self.execution_arn, "version.execution_arn")

    @property
    def arn(self) -> ExecutionArn:
        return parse_execution_arn(self.execution_arn)

    @classmethod
    def from_json(cls, raw: object) -> ExecutionVersion:
        """Parse a version from Concourse, naming what is wrong when it is not one of ours."""
        return from_json(cls, raw, "version")
