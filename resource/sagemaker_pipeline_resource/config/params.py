"""Source configuration and step params, as validated dataclasses.

Every key a pipeline author can write is a field below; the README's tables are written from them.
Validation happens before any AWS call, so a bad configuration never costs an API request.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

from sagemaker_pipeline_resource.config.arns import (
    REGION,
    ExecutionArn,
    PipelineArn,
    parse_execution_arn,
    parse_pipeline_arn,
)
from sagemaker_pipeline_resource.config.fields import bounded, check_bounds, from_json, secret, sized, text
from sagemaker_pipeline_resource.errors import ResourceError, shown

# Every PipelineExecutionStatus of the locked botocore model (tests/test_config.py compares the two).
# CompletedWithFailures is final: the execution ended and some of its steps failed.
EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures")
RUNNING_STATUSES = frozenset({"Executing", "Stopping"})
FINAL_STATUSES = tuple(status for status in EXECUTION_STATUSES if status not in RUNNING_STATUSES)
DEFAULT_STATUSES = ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")
DEFAULT_FAIL_ON = ("Failed", "Stopped", "CompletedWithFailures")
RETRY_MODES = ("standard", "adaptive")
# CreatePipeline/UpdatePipeline's RoleArn and PipelineDisplayName patterns (botocore's SageMaker model).
PIPELINE_ROLE_ARN = re.compile(r"arn:aws[a-z\-]*:iam::[0-9]{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
PIPELINE_DISPLAY_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}")


def check_statuses(
    statuses: tuple[str, ...], key: str, allowed: tuple[str, ...] = EXECUTION_STATUSES, *, empty_ok: bool = False
) -> None:
    """Reject unknown or empty status lists, listing the valid names (statuses are case-sensitive in AWS)."""
    if not statuses and not empty_ok:
        raise ResourceError(f"{key} is empty.", f"List at least one of: {', '.join(allowed)}.")
    for status in statuses:
        if status not in allowed:
            lowered = {name.lower(): name for name in allowed}
            close = lowered.get(status.lower())
            suggestion = f" (did you mean '{close}'?)" if close else ""
            raise ResourceError(
                f"{key} contains the unknown status {shown(status)}{suggestion}.",
                f"Valid statuses are: {', '.join(allowed)}.",
            )


def check_endpoint_url(url: str | None, key: str) -> None:
    """Refuse what botocore would refuse when it makes the client (a ValueError then), and bad ports."""
    if url is None:
        return
    hint = "For example https://api.sagemaker.us-east-1.amazonaws.com or a VPC endpoint's URL."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise ResourceError(f"{key} is not a valid URL ({error}): {shown(url)}.", hint) from error
    valid = is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)
    if parts.scheme not in ("http", "https") or not valid or parts.username is not None:
        raise ResourceError(f"{key} must be an http(s) URL with a valid host name, but it is {shown(url)}.", hint)


def check_pem(bundle: str | None, key: str) -> None:
    """Load the certificates as OpenSSL will, so that a bad bundle is refused before any call."""
    if bundle is None:
        return
    hint = "Paste the CA certificates as PEM text, each from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
    if "-----BEGIN CERTIFICATE-----" not in bundle:
        raise ResourceError(f"{key} must be the PEM text of one or more CA certificates (not a file path).", hint)
    try:
        ssl.create_default_context(cadata=bundle)
    except (ssl.SSLError, ValueError) as error:
        raise ResourceError(f"{key} holds no certificate OpenSSL can read ({type(error).__name__}).", hint) from error


@dataclass(frozen=True)
class SourceConfig:
    """The resource's ``source``: which pipeline, which executions count, and how to reach AWS."""

    pipeline: str
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    # check: how long an execution that is still running holds back the newer ones that have finished, so that
    # it is emitted in start order once it finishes; past this it no longer blocks (see README "Ordering").
    hold_back_hours: float = bounded(24.0, 0, 672)
    # check: at most this many pages of 100 executions are listed in one check.
    max_pages: int = bounded(10, 1, 1000)
    region: str | None = text(pattern=REGION, form="a region name such as us-east-1 (lower case)")
    endpoint_url: str | None = None
    # STS (for role_arn) has its own endpoint: a SageMaker VPC endpoint does not answer STS.
    sts_endpoint_url: str | None = None
    # Printable ASCII without spaces (what an HTTP header can carry): AWS's are [A-Z0-9], emulators take anything.
    access_key_id: str | None = text(pattern=r"[!-~]{1,128}", form="printable ASCII without spaces")
    secret_access_key: str | None = secret(pattern=r"[!-~]{1,128}", form="printable ASCII without spaces")
    session_token: str | None = secret(pattern=r"[!-~]+", form="printable ASCII without spaces", length=(1, 8192))
    role_arn: str | None = None
    role_session_name: str | None = text(
        pattern=r"[A-Za-z0-9_+=,.@-]+", form="letters, digits and _+=,.@- only", length=(2, 64)
    )
    # Not a credential (AWS does not treat it as a secret; it is often the account id): shown like any value.
    external_id: str | None = text(
        pattern=r"[A-Za-z0-9_+=,.@:/-]+", form="letters, digits and _+=,.@:/- only", length=(2, 1224)
    )
    role_duration: int | None = bounded(None, 900, 43200)
    ca_bundle: str | None = text(multiline=True, max_length=1024 * 1024)
    verify_ssl: bool = True
    retry_mode: str = "standard"
    max_attempts: int = bounded(5, 1, 20)
    connect_timeout: float = bounded(10.0, 1, 300)
    read_timeout: float = bounded(60.0, 1, 900)
    debug: bool = False
    pipeline_arn: PipelineArn = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pipeline_arn", parse_pipeline_arn(self.pipeline, "source.pipeline"))
        check_statuses(self.statuses, "source.statuses")
        check_bounds(self, "source")
        if self.retry_mode not in RETRY_MODES:
            raise ResourceError(
                f"source.retry_mode must be one of {', '.join(RETRY_MODES)}, but it is {shown(self.retry_mode)}."
            )
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ResourceError(
                "source.access_key_id and source.secret_access_key go together: only one of them is set.",
                "Set both (and session_token for temporary credentials), or neither to use the default chain.",
            )
        if self.session_token is not None and self.access_key_id is None:
            raise ResourceError("source.session_token is set without source.access_key_id and secret_access_key.")
        if self.role_arn is None:
            for key in ("role_session_name", "external_id", "role_duration"):
                if getattr(self, key) is not None:
                    raise ResourceError(f"source.{key} only applies with source.role_arn, which is not set.")
        elif not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", self.role_arn, flags=re.ASCII):
            raise ResourceError(
                f"source.role_arn is not an IAM role ARN: {shown(self.role_arn)}.",
                "Use the form arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME.",
            )
        check_pem(self.ca_bundle, "source.ca_bundle")
        check_endpoint_url(self.endpoint_url, "source.endpoint_url")
        check_endpoint_url(self.sts_endpoint_url, "source.sts_endpoint_url")

    @property
    def effective_region(self) -> str:
        """The region to call: ``region`` if set, else the pipeline ARN's."""
        return self.region or self.pipeline_arn.region

    @classmethod
    def from_json(cls, raw: object) -> SourceConfig:
        return from_json(cls, raw, "source")


@dataclass(frozen=True)
class GetParams:
    """``params`` of a ``get`` step: whether to wait for a running execution, and which files to skip.

    ``wait`` defaults to true: a version handed to a get is usually final (check emits finished executions),
    but put's version is of a running execution, and Concourse never hands that version over again once it
    has finished; a get that wrote ``Executing`` would be the only one its job ever sees.
    """

    wait: bool = True
    poll_interval: float = bounded(30.0, 1.0, 3600)  # put's floor (MIN_POLL_INTERVAL) for the same reason
    timeout: float | None = bounded(None, 1)
    skip_definition: bool = False
    skip_steps: bool = False
    skip_parameters: bool = False

    def __post_init__(self) -> None:
        check_bounds(self, "params")

    @classmethod
    def from_json(cls, raw: object) -> GetParams:
        return from_json(cls, raw, "params")


PUT_ACTIONS = ("start", "stop", "retry")
# A poll is two or more API calls (describe, then the step list's pages): below a second, a wait would spend
# the account's request rate (shared with every other build and user of SageMaker) on nothing.
MIN_POLL_INTERVAL = 1.0
# How long a wait keeps polling through failures that may pass (throttling, 5xx, dropped connections,
# timeouts) before it gives up: long enough for a regional blip or a throttling storm, short enough that a
# real outage fails the build within the hour.
DEFAULT_OUTAGE_BUDGET = 1800.0
WAIT_ONLY = ("poll_interval", "timeout", "stop_on_timeout", "stop_on_abort", "fail_on", "outage_budget")


@dataclass(frozen=True)
class PutParams:
    """``params`` of a ``put`` step: what to do (start, stop, retry) and whether to wait for the result."""

    action: str = "start"
    # start
    parameters: dict[str, object] = field(default_factory=dict)
    parameters_file: str | None = None
    display_name: str | None = sized(1, 82, checked_later=True)  # templated first: put.py checks it
    description: str | None = sized(1, 3072, checked_later=True)
    parallelism: int | None = bounded(None, 1)
    selective_execution: dict[str, object] | None = None
    pipeline_version_id: int | None = bounded(None, 1)
    client_request_token: str | None = sized(32, 128, hint="Leave it out to derive one from the Concourse build.")
    # start: deploy this definition first (create or update the pipeline), then run exactly that version
    definition_file: str | None = None
    pipeline_role_arn: str | None = None
    pipeline_description: str | None = sized(1, 3072)  # empty: leave it out
    pipeline_display_name: str | None = sized(1, 256)
    # stop / retry: the execution to act on
    execution_arn: str | None = None
    execution_arn_file: str | None = None
    # waiting
    wait: bool = False
    poll_interval: float = bounded(30.0, MIN_POLL_INTERVAL, 3600)
    timeout: float | None = bounded(None, 1, 28 * 24 * 3600)  # AWS ends an execution after 28 days
    stop_on_timeout: bool = False
    # on SIGTERM/SIGINT (an aborted build) during the wait, stop the execution this put started or retried
    stop_on_abort: bool = True
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    # seconds of continuous transient failure (throttling, 5xx, connection errors) a wait rides out
    outage_budget: float = bounded(DEFAULT_OUTAGE_BUDGET, 0, 86400)

    def __post_init__(self) -> None:
        if self.action not in PUT_ACTIONS:
            raise ResourceError(
                f"params.action must be one of {', '.join(PUT_ACTIONS)}, but it is {shown(self.action)}.",
            )
        check_bounds(self, "params")
        check_statuses(self.fail_on, "params.fail_on", FINAL_STATUSES, empty_ok=True)
        if self.stop_on_timeout and self.timeout is None:
            raise ResourceError("params.stop_on_timeout needs params.timeout.", "Set timeout (seconds).")
        if self.execution_arn is not None and self.execution_arn_file is not None:
            raise ResourceError("params.execution_arn and params.execution_arn_file are both set: give one.")
        if self.execution_arn is not None:
            parse_execution_arn(self.execution_arn, "params.execution_arn")
        start_only = ("parameters", "parameters_file", "display_name", "description", "selective_execution")
        if self.action != "start":
            for key in (*start_only, "pipeline_version_id"):
                if getattr(self, key):
                    raise ResourceError(f"params.{key} only applies to action 'start', not '{self.action}'.")
            if self.execution_arn is None and self.execution_arn_file is None:
                raise ResourceError(
                    f"params.action '{self.action}' needs the execution to act on.",
                    "Set params.execution_arn to its ARN, or params.execution_arn_file to the directory of a "
                    "get of this resource (or a file holding the ARN).",
                )
        elif self.execution_arn is not None or self.execution_arn_file is not None:
            raise ResourceError(
                "params.execution_arn and execution_arn_file only apply to actions 'stop' and 'retry'.",
                "For a selective execution, use params.selective_execution.source_execution_arn.",
            )
        if self.action == "stop" and self.parallelism is not None:
            raise ResourceError("params.parallelism does not apply to action 'stop'.")
        self.selective_execution_config()  # validates
        self._check_deploy()

    def _check_deploy(self) -> None:
        """The deploy params go together, and only with a start (the file itself is read by :mod:`deploy`)."""
        deploy_only = ("pipeline_role_arn", "pipeline_description", "pipeline_display_name")
        if self.definition_file is None:
            for key in deploy_only:
                if getattr(self, key) is not None:
                    raise ResourceError(
                        f"params.{key} only applies with params.definition_file, which is not set.",
                        "Set definition_file to the pipeline definition (JSON) to deploy before the start.",
                    )
            return
        if self.action != "start":
            raise ResourceError(f"params.definition_file only applies to action 'start', not '{self.action}'.")
        if self.pipeline_version_id is not None:
            raise ResourceError(
                "params.pipeline_version_id and params.definition_file are both set: give one.",
                "With definition_file the execution runs the version that the deploy created or found.",
            )
        if self.pipeline_role_arn is None:
            raise ResourceError(
                "params.definition_file needs params.pipeline_role_arn: the IAM role the pipeline's steps run as.",
                "Use the form arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME (it is not source.role_arn, which is "
                "assumed to call AWS).",
            )
        if not PIPELINE_ROLE_ARN.fullmatch(self.pipeline_role_arn):
            raise ResourceError(
                f"params.pipeline_role_arn is not an IAM role ARN: '{self.pipeline_role_arn}'.",
                "Use the form arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME (a role, not a user, policy or role name).",
            )
        name = self.pipeline_display_name
        if name is not None and not PIPELINE_DISPLAY_NAME.fullmatch(name):
            raise ResourceError(
                f"params.pipeline_display_name '{name}' is not a valid pipeline display name.",
                "Use letters, digits and dashes (AWS's pattern), starting and ending with a letter or digit.",
            )

    def selective_execution_config(self) -> dict[str, object] | None:
        """``selective_execution`` as the API's SelectiveExecutionConfig, validated."""
        raw = self.selective_execution
        if raw is None:
            return None
        unknown = set(raw) - {"source_execution_arn", "steps"}
        if unknown:
            raise ResourceError(
                f"params.selective_execution has unknown keys: {', '.join(shown(key) for key in sorted(unknown))}.",
                "It takes 'steps' (a list of step names) and optionally 'source_execution_arn'.",
            )
        steps = raw.get("steps")
        if not isinstance(steps, list) or not steps or not all(isinstance(s, str) and s for s in steps):
            raise ResourceError(
                "params.selective_execution.steps must be a non-empty list of step names.",
                "For example: steps: [Train, Evaluate].",
            )
        if len(steps) > 50:
            raise ResourceError(f"params.selective_execution.steps lists {len(steps)} steps; AWS allows 50.")
        config: dict[str, object] = {"SelectedSteps": [{"StepName": name} for name in steps]}
        source = raw.get("source_execution_arn")
        if source is not None:
            parsed: ExecutionArn = parse_execution_arn(source, "params.selective_execution.source_execution_arn")
            config["SourcePipelineExecutionArn"] = str(parsed)
        return config

    @classmethod
    def from_json(cls, raw: object) -> PutParams:
        params = from_json(cls, raw, "params")
        given = [key for key in WAIT_ONLY if isinstance(raw, dict) and key in raw]
        if given and not params.wait:
            raise ResourceError(
                f"params.{', params.'.join(given)} only appl{'ies' if len(given) == 1 else 'y'} with params.wait: "
                "true, which is not set.",
                "Set wait: true to wait for the execution, or remove them.",
            )
        return params
