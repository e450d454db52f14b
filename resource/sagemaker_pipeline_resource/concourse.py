"""The concoursetools resource class: one ``source``, three steps.

Each method parses its params into a dataclass and hands over to the module that implements the step
(:mod:`check`, :mod:`get`, :mod:`put`); this class only ties them to concoursetools' interface, so that
the resource can also be driven by concoursetools' own test wrappers. Each step's module is imported when
the step runs: a check (every minute, in a fresh container) does not pay for loading get's and put's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from concoursetools import BuildMetadata, ConcourseResource

from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.config.params import GetParams, PutParams, SourceConfig
from sagemaker_pipeline_resource.versions.version import ExecutionVersion


class PipelineResource(ConcourseResource[ExecutionVersion]):
    """Tracks (``check``/``in``) and triggers (``out``) the executions of one SageMaker pipeline.

    concoursetools passes ``source`` and ``params`` as keyword arguments; the dispatcher instead hands
    over the JSON objects as they are (:meth:`from_source`, :meth:`get`, :meth:`put`), so that a key named
    like a Python argument (``self``, ``version``, ``sources_dir``...) is an unknown key, not a TypeError.
    """

    def __init__(self, /, **source: Any) -> None:
        self._configure(SourceConfig.from_json(source))

    @classmethod
    def from_source(cls, source: object) -> PipelineResource:
        """The resource for a ``source`` JSON object (any value: it is validated)."""
        resource = cls.__new__(cls)
        resource._configure(SourceConfig.from_json(source))
        return resource

    def _configure(self, config: SourceConfig) -> None:
        super().__init__(ExecutionVersion)
        self.config = config

    def _aws(self, build: BuildMetadata | None = None) -> AWS:
        if build is None:
            return AWS(self.config)
        return AWS(self.config, team=build.BUILD_TEAM_NAME or None, pipeline=build.BUILD_PIPELINE_NAME)

    def fetch_new_versions(self, previous_version: ExecutionVersion | None = None) -> list[ExecutionVersion]:
        from sagemaker_pipeline_resource import check

        return check.check(self._aws(), previous_version)

    def get(
        self, version: ExecutionVersion, destination: Path, build: BuildMetadata, params: object
    ) -> tuple[ExecutionVersion, dict[str, str]]:
        """``in``, with ``params`` as the JSON object from the payload."""
        from sagemaker_pipeline_resource.get import step as get

        parsed = GetParams.from_json(params)
        return version, get.download(self._aws(build), version, destination, parsed)

    def put(self, sources: Path, build: BuildMetadata, params: object) -> tuple[ExecutionVersion, dict[str, str]]:
        """``out``, with ``params`` as the JSON object from the payload."""
        from sagemaker_pipeline_resource.put import step as put

        parsed = PutParams.from_json(params)
        return put.publish(self._aws(build), parsed, sources, build)

    def download_version(
        self, version: ExecutionVersion, destination_dir: Path, build_metadata: BuildMetadata, **params: Any
    ) -> tuple[ExecutionVersion, dict[str, str]]:
        return self.get(version, destination_dir, build_metadata, params)

    def publish_new_version(
        self, sources_dir: Path, build_metadata: BuildMetadata, **params: Any
    ) -> tuple[ExecutionVersion, dict[str, str]]:
        return self.put(sources_dir, build_metadata, params)
