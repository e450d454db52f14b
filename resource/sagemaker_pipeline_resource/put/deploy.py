"""Deploying the pipeline definition before a start: ``put`` with ``definition_file``.

What ``Pipeline.upsert()`` then ``start()`` do in the SageMaker Python SDK, made safe for CI:

- The definition file is read and checked (JSON, ``Version`` and ``Steps``, under the API's size limit)
  before any AWS call, so a bad file costs nothing.
- A pipeline that does not exist is created with a ``ClientRequestToken`` derived from the build, so a put
  that Concourse retries after its response was lost does not fail on "already exists" nor create twice.
  CreatePipeline makes the pipeline in the caller's account and region, which need not be the ones of
  ``source.pipeline``: STS GetCallerIdentity (which needs no permission) is asked first, and a mismatch
  refused, rather than creating a pipeline that the resource would never see. The same goes for updates.
- An existing pipeline is updated only when its definition or role (or a description or display name that
  the put sets) differs from the newest version's: each UpdatePipeline with a definition makes a new pipeline
  version, and a version per build of an unchanged definition would bury the ones that matter.
- The start is pinned to the version this deploy created or found (``PipelineVersionId``), not to "the
  latest", which another build may have replaced in between.

DescribePipeline does not report a version id, so the newest version is read from ListPipelineVersions
first and then described by id: what is compared is exactly the version the execution will run.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sagemaker_pipeline_resource import inputs
from sagemaker_pipeline_resource.aws.errors import translate_errors
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.config.params import PutParams
from sagemaker_pipeline_resource.errors import ResourceError

# PipelineDefinition's maximum length in CreatePipeline and UpdatePipeline (botocore's SageMaker model).
MAX_DEFINITION_LENGTH = 1_048_576
REQUIRED_KEYS = ("Version", "Steps")
_TOO_LARGE = (
    f"CreatePipeline and UpdatePipeline take a definition of at most {MAX_DEFINITION_LENGTH:,} characters "
    "(1 MiB) inline."
)
_INSTEAD = (
    "Larger definitions go through S3 (PipelineDefinitionS3Location), which this resource does not upload: "
    "deploy those with the SageMaker SDK or `aws sagemaker update-pipeline --pipeline-definition-s3-location`, "
    "then put without definition_file; or make the definition smaller."
)


@dataclass(frozen=True)
class Definition:
    """A pipeline definition read from ``definition_file`` and checked: what is sent, and what is compared."""

    text: str
    document: dict[str, Any]

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Deployment:
    """What the deploy did: ``created``, ``updated`` or ``unchanged``, and the version to start."""

    outcome: str
    version_id: int
    changed: tuple[str, ...] = ()

    def metadata(self) -> dict[str, str]:
        """``deploy``, and what changed; the version is the execution's ``pipeline_version_id``."""
        items = {"deploy": self.outcome}
        if self.changed:
            items["deploy_changed"] = ", ".join(self.changed)
        return items


def read_text_file(sources: Path, relative: str, key: str) -> str:
    """The text of ``relative`` inside the build's directory, read by :mod:`inputs` (confined, non-blocking).

    UTF-8 takes at most 4 bytes a character, so a file larger than 4 bytes per allowed character is over the
    API's limit unread; one that passes is measured in characters by :func:`load_definition`.
    """
    path = inputs.confined(sources, relative, key)
    try:
        size = path.stat().st_size  # stat does not open, so a FIFO cannot block here
    except OSError:
        size = 0  # inputs.read_text says what is wrong with it
    if size > 4 * MAX_DEFINITION_LENGTH:
        raise ResourceError(f"{key}: {relative} is {size:,} bytes; " + _TOO_LARGE, _INSTEAD)
    return inputs.read_text(path, key, max_bytes=4 * MAX_DEFINITION_LENGTH)


def load_definition(params: PutParams, sources: Path) -> Definition | None:
    """The checked definition of ``params.definition_file``, or None without one. Makes no AWS call."""
    if params.definition_file is None:
        return None
    key = "params.definition_file"
    relative = params.definition_file
    text = read_text_file(sources, relative, key)
    if len(text) > MAX_DEFINITION_LENGTH:
        raise ResourceError(f"{key}: {relative} is {len(text):,} characters; " + _TOO_LARGE, _INSTEAD)
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ResourceError(
            f"{key}: {relative} is not valid JSON: {error}.",
            "Write it with the SageMaker SDK's pipeline.definition() (a JSON document).",
        ) from error
    missing = [name for name in REQUIRED_KEYS if not isinstance(document, dict) or name not in document]
    if missing:
        raise ResourceError(
            f"{key}: {relative} is not a pipeline definition: it has no {' or '.join(missing)}.",
            "A SageMaker pipeline definition is a JSON object with Version, Parameters and Steps, as written "
            "by the SageMaker SDK's pipeline.definition().",
        )
    if not isinstance(document["Steps"], list):
        raise ResourceError(f"{key}: {relative} is not a pipeline definition: Steps is not a list.")
    return Definition(text, document)


# put's request_token for this build: (action, request) -> ClientRequestToken.
TokenMaker = Callable[[str, dict[str, Any]], str]


def _check_account(aws: AWS, why: str) -> None:
    """Create and Update take a name, not an ARN: they act in the credentials' account and region.

    Refuse when that is not ``source.pipeline``'s (a pipeline shared from another account can be listed
    and described by ARN, but an update by name would go to a namesake in the caller's own account).
    """
    pipeline = aws.config.pipeline_arn
    if aws.config.effective_region != pipeline.region:
        raise ResourceError(
            f"source.region ({aws.config.effective_region}) differs from the region of source.pipeline "
            f"({pipeline.region}): the pipeline would be created where the resource does not look for it.",
            "Leave source.region unset to use the pipeline ARN's region.",
        )
    with translate_errors("asking STS which account the credentials belong to", aws.config, service="sts"):
        account = str(aws.sts().get_caller_identity()["Account"])
    if account != pipeline.account:
        raise ResourceError(
            f"The pipeline {pipeline} {why}, and the credentials belong to account {account}, not "
            f"{pipeline.account}: CreatePipeline and UpdatePipeline would act in {account}.",
            "Use credentials (or source.role_arn) of the pipeline's account, or fix the account in source.pipeline.",
        )


def _newest_version(client: Any, pipeline: str, order: str = "Descending") -> int | None:
    """The newest (or, ascending, the first) version id of ``pipeline``; None when the pipeline does not exist."""
    try:
        page = client.list_pipeline_versions(PipelineName=pipeline, SortOrder=order, MaxResults=1)
    except client.exceptions.ResourceNotFound:
        return None
    summaries = page.get("PipelineVersionSummaries") or []
    if not summaries:
        raise ResourceError(f"SageMaker listed no version of the pipeline {pipeline}.", "Try the put again.")
    return int(summaries[0]["PipelineVersionId"])


def _changes(described: dict[str, Any], params: PutParams, definition: Definition) -> tuple[str, ...]:
    """Which of the put's settings differ from the described version (definitions compared as JSON)."""
    try:
        current: object = json.loads(str(described.get("PipelineDefinition", "")))
    except ValueError:
        current = None
    changed = []
    if current != definition.document:
        changed.append("definition")
    if described.get("RoleArn") != params.pipeline_role_arn:
        changed.append("role")
    if params.pipeline_description is not None and described.get("PipelineDescription") != params.pipeline_description:
        changed.append("description")
    name = params.pipeline_display_name
    if name is not None and described.get("PipelineDisplayName") != name:
        changed.append("display name")
    return tuple(changed)


def _settings(params: PutParams, definition: Definition) -> dict[str, Any]:
    arguments: dict[str, Any] = {"PipelineDefinition": definition.text, "RoleArn": params.pipeline_role_arn}
    if params.pipeline_description is not None:
        arguments["PipelineDescription"] = params.pipeline_description
    if params.pipeline_display_name is not None:
        arguments["PipelineDisplayName"] = params.pipeline_display_name
    return arguments


def _create(aws: AWS, client: Any, params: PutParams, definition: Definition, token: TokenMaker) -> Deployment | None:
    """Create the pipeline; None when another build created it meanwhile (then it is compared like any other)."""
    pipeline = str(aws.config.pipeline_arn)
    _check_account(aws, "does not exist")
    arguments = {"PipelineName": aws.config.pipeline_arn.name, **_settings(params, definition)}
    identity = {**arguments, "PipelineDefinition": definition.digest}
    try:
        client.create_pipeline(**arguments, ClientRequestToken=token("create-pipeline", identity))
    except ClientError:
        # Two first deploys at once: the second create is refused because the name is taken (AWS's error code
        # for that is not documented). If the pipeline exists now, it is the other build's: compare with it.
        if _newest_version(client, pipeline) is None:
            raise
        print("put: the pipeline was created meanwhile (another build?): comparing with it", file=sys.stderr)
        return None
    first = _newest_version(client, pipeline, "Ascending")
    if first is None:
        raise ResourceError(f"SageMaker created {pipeline} but then did not find it.", "Try the put again.")
    return Deployment("created", first)


def _update_if_changed(aws: AWS, client: Any, params: PutParams, definition: Definition, newest: int) -> Deployment:
    """Compare the newest version with the put's settings; update (a new version) only when they differ."""
    pipeline = str(aws.config.pipeline_arn)
    described = client.describe_pipeline(PipelineName=pipeline, PipelineVersionId=newest)
    changed = _changes(described, params, definition)
    if not changed:
        return Deployment("unchanged", newest)
    _check_account(aws, "needs an update")
    name = aws.config.pipeline_arn.name
    response = client.update_pipeline(PipelineName=name, **_settings(params, definition))
    version = response.get("PipelineVersionId")
    if version is None:  # optional in the API's model: then the newest is the one just made
        version = _newest_version(client, pipeline)
    return Deployment("updated", int(version or newest), changed)


def deploy(aws: AWS, params: PutParams, definition: Definition, token: TokenMaker) -> Deployment:
    """Create or update ``source.pipeline`` from ``definition``; return the version the start must run.

    ``token`` is put's request_token for this build: the create's token covers the pipeline's name, role,
    description, display name and the definition's digest, so the same put gets the same token.
    """
    pipeline = str(aws.config.pipeline_arn)
    with translate_errors(f"deploying {params.definition_file} to {pipeline}", aws.config):
        client = aws.sagemaker()
        newest = _newest_version(client, pipeline)
        deployment = _create(aws, client, params, definition, token) if newest is None else None
        if deployment is None:
            newest = newest or _newest_version(client, pipeline)
            if newest is None:
                raise ResourceError(f"The pipeline {pipeline} vanished during the deploy.", "Try the put again.")
            deployment = _update_if_changed(aws, client, params, definition, newest)
    detail = f" ({', '.join(deployment.changed)} changed)" if deployment.changed else ""
    print(f"put: pipeline {deployment.outcome}{detail}: version {deployment.version_id}", file=sys.stderr)
    return deployment
