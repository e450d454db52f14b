"""The emulator's in-memory state: pipelines by account/region/name, executions by ARN, idempotency tokens.

One re-entrant lock guards everything. Requests are short (a dict lookup or a binary search), so a
single lock costs nothing measurable and rules out torn reads between the sorted indexes and the ARN map.
"""

from __future__ import annotations

import random
import string
import threading
from typing import Any

from tests.emulator.errors import not_found, validation_error
from tests.emulator.model import (
    DEFAULT_FAILURE_REASON,
    TERMINAL_STATUSES,
    Execution,
    Lifecycle,
    Pipeline,
    PipelineVersion,
    now_ms,
    parse_definition,
    parse_execution_arn,
    parse_pipeline_arn,
    partition_of,
    pipeline_arn,
)
from tests.emulator.strict import Strictness, TokenUse

_ID_ALPHABET = string.ascii_lowercase + string.digits
_DOMAIN_ID = "d-emulator0001"


class Store:
    """All pipelines and executions the emulator knows, across accounts and regions."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._random = random.Random()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.pipelines: dict[tuple[str, str, str], Pipeline] = {}
            self.executions: dict[str, Execution] = {}
            self.tokens: dict[tuple[str, ...], str] = {}
            self.lifecycle = Lifecycle()
            self.strict = Strictness()
            self.token_uses: dict[tuple[str, ...], TokenUse] = {}

    # Pipelines -------------------------------------------------------------------------------------

    def create_pipeline(
        self,
        *,
        account: str,
        region: str,
        name: str,
        definition: str,
        role_arn: str,
        display_name: str | None = None,
        description: str | None = None,
        parallelism: dict[str, Any] | None = None,
        tags: list[dict[str, str]] | None = None,
    ) -> Pipeline:
        key = (account, region, name.lower())
        if key in self.pipelines:
            raise validation_error(
                "Pipeline names must be unique within an AWS account and region. "
                f"Pipeline with name ({name}) already exists."
            )
        now = now_ms()
        pipeline = Pipeline(
            name=name,
            arn=pipeline_arn(region, account, name),
            account=account,
            region=region,
            display_name=display_name or name,
            description=description,
            role_arn=role_arn,
            created_ms=now,
            modified_ms=now,
            versions=[parse_definition(definition, 1, now)],
            parallelism=parallelism,
            tags=list(tags or []),
        )
        self.pipelines[key] = pipeline
        return pipeline

    def add_version(self, pipeline: Pipeline, definition: str) -> PipelineVersion:
        now = now_ms()
        version = parse_definition(definition, pipeline.latest.version_id + 1, now)
        pipeline.versions.append(version)
        pipeline.modified_ms = now
        return version

    def find_pipeline(self, name_or_arn: str, account: str, region: str) -> Pipeline:
        """A pipeline by name (any case, as the ARN is lower-case) or by ARN, as the caller sees it.

        An ARN for another account or region is not found: the regional endpoint only holds its own.
        """
        if name_or_arn.startswith("arn:"):
            parsed = parse_pipeline_arn(name_or_arn)
            if parsed is None:
                raise validation_error(f"Invalid pipeline ARN: {name_or_arn}")
            key = (parsed.account, parsed.region, parsed.pipeline)
            missing_arn = name_or_arn
            if (parsed.account, parsed.region) != (account, region):
                raise not_found(f"Pipeline '{missing_arn}' does not exist.")
        else:
            key = (account, region, name_or_arn.lower())
            missing_arn = pipeline_arn(region, account, name_or_arn)
        pipeline = self.pipelines.get(key)
        if pipeline is None:
            raise not_found(f"Pipeline '{missing_arn}' does not exist.")
        return pipeline

    def pipeline_by_arn(self, arn: str) -> Pipeline:
        """Control-API lookup: the ARN itself says which account and region."""
        parsed = parse_pipeline_arn(arn)
        if parsed is None:
            raise validation_error(f"Invalid pipeline ARN: {arn}")
        return self.find_pipeline(arn, parsed.account, parsed.region)

    def delete_pipeline(self, pipeline: Pipeline) -> None:
        for execution in list(pipeline.executions):
            self.executions.pop(execution.arn, None)
        del self.pipelines[pipeline.key]

    # Executions ------------------------------------------------------------------------------------

    def new_execution(
        self,
        pipeline: Pipeline,
        *,
        created_ms: int,
        display_name: str | None = None,
        description: str | None = None,
        parameters: dict[str, str] | None = None,
        version: PipelineVersion | None = None,
        parallelism: dict[str, Any] | None = None,
        selective: dict[str, Any] | None = None,
        created_by: dict[str, Any] | None = None,
        index: bool = True,
    ) -> Execution:
        """Create an ``Executing`` execution (``index=False`` leaves indexing to a bulk caller)."""
        version = version or pipeline.latest
        execution_id = self._unique_id(pipeline)
        pipeline.execution_count += 1
        execution = Execution(
            arn=f"{pipeline.arn}/execution/{execution_id}",
            execution_id=execution_id,
            pipeline=pipeline,
            seq=pipeline.execution_count,
            version=version,
            display_name=display_name or f"execution-{created_ms}",
            description=description,
            parameters=merge_parameters(version, parameters or {}),
            created_ms=created_ms,
            modified_ms=created_ms,
            parallelism=parallelism or pipeline.parallelism,
            selective=selective,
            created_by=created_by,
        )
        self.executions[execution.arn] = execution
        if index:
            pipeline.executions.add(execution)
        if pipeline.last_run_ms is None or created_ms > pipeline.last_run_ms:
            pipeline.last_run_ms = created_ms
        return execution

    def _unique_id(self, pipeline: Pipeline) -> str:
        while True:
            candidate = "".join(self._random.choices(_ID_ALPHABET, k=12))
            if f"{pipeline.arn}/execution/{candidate}" not in self.executions:
                return candidate

    def seed(
        self,
        pipeline: Pipeline,
        *,
        count: int,
        statuses: list[str],
        start_ms: int,
        interval_ms: int,
        user_profile: str | None = None,
    ) -> list[Execution]:
        """``count`` historical executions, oldest first, ``interval_ms`` apart, statuses cycled.

        Finished ones end half an interval after they start (never in the future); seeded failures and
        stops happen on the last step, as for a run that got that far.
        """
        now = now_ms()
        created_by = self.user_context(pipeline, user_profile) if user_profile else None
        last_step = len(pipeline.latest.steps) - 1
        made: list[Execution] = []
        for i in range(count):
            created = start_ms + i * interval_ms
            execution = self.new_execution(pipeline, created_ms=created, created_by=created_by, index=False)
            status = statuses[i % len(statuses)]
            execution.status = status
            if status in TERMINAL_STATUSES:
                execution.modified_ms = max(created, min(created + max(1, interval_ms // 2), now))
            if status == "Failed":
                execution.failure_reason = DEFAULT_FAILURE_REASON
            execution.progress = len(pipeline.latest.steps) if status == "Succeeded" else last_step
            if status == "Executing":
                execution.progress = 0
            made.append(execution)
        pipeline.executions.extend(made)
        return made

    @staticmethod
    def user_context(pipeline: Pipeline, user_profile: str) -> dict[str, Any]:
        """``CreatedBy`` as SageMaker reports it for a run started from a Studio user profile."""
        partition = partition_of(pipeline.region)
        return {
            "UserProfileArn": (
                f"arn:{partition}:sagemaker:{pipeline.region}:{pipeline.account}:user-profile/{_DOMAIN_ID}/{user_profile}"
            ),
            "UserProfileName": user_profile,
            "DomainId": _DOMAIN_ID,
        }

    def find_execution(self, arn: str, account: str | None = None, region: str | None = None) -> Execution:
        """An execution by ARN (the pipeline part is matched case-insensitively, like the service)."""
        parsed = parse_execution_arn(arn)
        if parsed is None:
            raise validation_error(f"Invalid pipeline execution ARN: {arn}")
        canonical = f"{pipeline_arn(parsed.region, parsed.account, parsed.pipeline)}/execution/{parsed.execution_id}"
        execution = self.executions.get(canonical)
        visible = account is None or (parsed.account, parsed.region) == (account, region)
        if execution is None or not visible:
            raise not_found(f"Pipeline execution '{arn}' does not exist.")
        return execution

    def delete_execution(self, execution: Execution) -> None:
        self.executions.pop(execution.arn, None)
        execution.pipeline.executions.remove(execution)


def merge_parameters(version: PipelineVersion, given: dict[str, str]) -> list[dict[str, str]]:
    """The parameters an execution ran with: definition defaults overridden by the values given."""
    merged: dict[str, str] = {name: default for name, default in version.parameters if default is not None}
    merged.update(given)
    return [{"Name": name, "Value": value} for name, value in merged.items()]
