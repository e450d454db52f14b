"""The AWS session: credentials, assumed roles, endpoints, TLS, retries and timeouts, and AWS errors.

In Concourse a ``check`` gets no environment from the worker, so credentials come from ``source`` (static
keys, optionally with a role to assume on top) or, when ``source`` names none, from botocore's default chain
(instance profile, ECS/EKS container credentials, web identity through ``AWS_WEB_IDENTITY_TOKEN_FILE``).
Every credential the process holds or sees is registered with :mod:`redact` as soon as it is known, so that
stderr never shows it: ``source``'s, the environment's (read before botocore makes its first request), the
credentials each client signs with (resolved before the client is made), every assumed role's (before our
fetch returns) and the session token of every signed request. What botocore logs before any of that (the
body of an STS response) is masked by field name. ``external_id`` is not a credential and is not masked.

Clients are made from a bare ``botocore`` session rather than ``boto3``: the resource needs nothing boto3
adds on top for clients, and importing it costs start-up time in a process that Concourse runs every minute.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import urllib3
from botocore import exceptions as bex
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
)
from botocore.httpsession import where
from botocore.parsers import ResponseParserError

from sagemaker_pipeline_resource import __version__, redact
from sagemaker_pipeline_resource.config import SourceConfig
from sagemaker_pipeline_resource.errors import DEBUG_ENV, ResourceError, printable

DEFAULT_ROLE_SESSION_NAME = "concourse-sagemaker-pipeline-resource"
# What botocore's default chain reads from the environment that is secret: values, and files holding one.
SECRET_ENVIRONMENT = redact.SECRET_ENVIRONMENT
SECRET_ENVIRONMENT_FILES = ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
# Concourse mounts the worker's certificates into a resource container's /etc/ssl/certs (concoursetools:
# ConcourseResource.certs_dir), so a TLS-inspecting proxy trusted by the worker is trusted here too. The
# bundle file's name depends on the distribution; without one, botocore's own bundle is used.
CERTS_DIR = Path("/etc/ssl/certs")
SYSTEM_BUNDLES = ("ca-certificates.crt", "ca-bundle.crt", "cert.pem")


def trust_store(certs_dir: Path = CERTS_DIR) -> str:
    """The CA bundle to verify TLS with: the system's (the worker's certificates) if any, else botocore's."""
    for name in SYSTEM_BUNDLES:
        if (certs_dir / name).is_file():
            return str(certs_dir / name)
    return where()


def role_session_name(team: str | None, pipeline: str | None) -> str:
    """A session name that says which Concourse pipeline assumed the role (seen in CloudTrail)."""
    if not team and not pipeline:
        return DEFAULT_ROLE_SESSION_NAME
    name = "concourse-" + "-".join(part for part in (team, pipeline) if part)
    return re.sub(r"[^\w+=,.@-]", "-", name)[:64]


def debug_requested(config: SourceConfig) -> bool:
    """``debug: true`` in source, or ``SAGEMAKER_PIPELINE_RESOURCE_DEBUG`` set (to anything but 0)."""
    return config.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def register_environment() -> None:
    """Register the credentials the default chain may read from the environment, before it reads them."""
    for name in SECRET_ENVIRONMENT:
        redact.register(os.environ.get(name), f"the environment's {name}")
    for name in SECRET_ENVIRONMENT_FILES:
        path = os.environ.get(name)
        if path:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                redact.register(Path(path).read_text(encoding="utf-8").strip(), f"the token in {name}")


def register_frozen(credentials: Credentials | None, what: str) -> None:
    """Register the secret parts of ``credentials`` (resolving them, which may call STS or a metadata service)."""
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        redact.register(frozen.secret_key, f"the secret key of {what}")
        redact.register(frozen.token, f"the session token of {what}")


def _register_signed_token(request: Any, **_: Any) -> None:
    """Register the session token a request was just signed with (a refreshed one is new to us)."""
    token = request.headers.get("X-Amz-Security-Token")
    if token:
        redact.register(token.decode() if isinstance(token, bytes) else str(token), "a request's session token")


class _FixedProvider(CredentialProvider):
    """Hands the session credentials we built (botocore's resolver API has no other public way in)."""

    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


# AWS's DurationSeconds when AssumeRole is not given one.
DEFAULT_ROLE_DURATION = 3600
# botocore refreshes credentials when fewer than 15 minutes remain (advisory: a failure is only logged) and
# insists below 10 (mandatory); these are RefreshableCredentials' class attributes in the locked botocore
# (tests/test_role_refresh.py fails if they move). A 15-minute role session is always under both, so every
# call would assume the role again: the windows scale down with the session instead.
BOTOCORE_ADVISORY_REFRESH = 15 * 60
BOTOCORE_MANDATORY_REFRESH = 10 * 60


def refresh_windows(duration: int) -> tuple[int, int]:
    """(advisory, mandatory) seconds before expiry to refresh a role session of ``duration`` seconds: botocore's
    15 and 10 minutes, but at most a third and a sixth of the session (5 and 2.5 minutes at 900 s)."""
    return min(BOTOCORE_ADVISORY_REFRESH, duration // 3), min(BOTOCORE_MANDATORY_REFRESH, duration // 6)


class RoleCredentials(DeferredRefreshableCredentials):
    """botocore's deferred refreshable credentials, refreshing ahead of expiry in proportion to the session."""

    def __init__(
        self, refresh_using: Callable[[], dict[str, Any]], duration: int, time_fetcher: Callable[[], Any] | None = None
    ) -> None:
        if time_fetcher is None:
            super().__init__(refresh_using=refresh_using, method="assume-role")
        else:
            super().__init__(refresh_using=refresh_using, method="assume-role", time_fetcher=time_fetcher)
        self._advisory_refresh_timeout, self._mandatory_refresh_timeout = refresh_windows(duration)


def in_memory_file(text: str, suffix: str) -> tuple[str, Callable[[], None]]:
    """A path that reads ``text``, and how to release it.

    On Linux an anonymous in-memory file (``memfd_create``) read through ``/proc/self/fd/N``: nothing is
    written, so it works on a read-only root filesystem and as any user. Elsewhere (or without /proc), a
    temporary file, removed at exit.
    """
    data = text.encode("utf-8")
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        try:
            descriptor = os.memfd_create("sagemaker-pipeline-resource" + suffix, getattr(os, "MFD_CLOEXEC", 0))
        except OSError:
            pass
        else:
            os.write(descriptor, data)
            return f"/proc/self/fd/{descriptor}", functools.partial(os.close, descriptor)
    import tempfile  # noqa: PLC0415 (start-up: only the fallback needs it; see startup.py)

    handle = tempfile.NamedTemporaryFile("wb", suffix=suffix, delete=False)  # noqa: SIM115
    with handle:
        handle.write(data)
    path = Path(handle.name)
    return str(path), functools.partial(path.unlink, missing_ok=True)


class AWS:
    """Creates the SageMaker (and STS) clients for one ``source``."""

    def __init__(self, config: SourceConfig, team: str | None = None, pipeline: str | None = None) -> None:
        self.config = config
        self.session = botocore.session.Session()
        self._ca_file: str | None = None
        self.credential_source = "default chain"
        self._resolved: Credentials | None = None
        redact.register(config.secret_access_key, "source.secret_access_key")
        redact.register(config.session_token, "source.session_token")
        register_environment()
        self._watch(self.session)
        if debug_requested(config):
            redact.debug_log("botocore")
        if not config.verify_ssl:
            print(
                "warning: source.verify_ssl is false: TLS certificates are not checked, so anyone on the network "
                "path can read and change the requests. Prefer source.ca_bundle for a private CA.",
                file=sys.stderr,
            )
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if config.access_key_id is not None and config.secret_access_key is not None:
            self.session.set_credentials(config.access_key_id, config.secret_access_key, config.session_token)
            self.credential_source = "source (static keys)"
        if config.role_arn is not None:
            self._assume_role(role_session_name(team, pipeline))

    @property
    def verify(self) -> bool | str:
        """What TLS trusts: the worker's trust store (plus ``ca_bundle``), or nothing with ``verify_ssl: false``."""
        if not self.config.verify_ssl:
            return False
        trusted = trust_store()
        if self.config.ca_bundle is None:
            return trusted
        if self._ca_file is None:
            # The private CA is added to the trust store, not put in its place: STS and public endpoints
            # must still verify while a VPC endpoint or proxy presents a certificate of the private CA.
            text = Path(trusted).read_text(encoding="utf-8").rstrip("\n") + "\n" + self.config.ca_bundle.strip()
            self._ca_file, release = in_memory_file(text + "\n", ".pem")
            atexit.register(release)
        return self._ca_file

    def botocore_config(self) -> Config:
        return Config(
            retries={"mode": self.config.retry_mode, "total_max_attempts": self.config.max_attempts},  # type: ignore[arg-type]
            connect_timeout=self.config.connect_timeout,
            read_timeout=self.config.read_timeout,
            user_agent_extra=f"sagemaker-pipeline-resource/{__version__}",
        )

    @staticmethod
    def _watch(session: botocore.session.Session) -> None:
        """Have every client of ``session`` register the session token of each request it signs."""
        session.get_component("event_emitter").register_last("request-created", _register_signed_token)

    def client(self, service: str, endpoint_url: str | None = None) -> Any:
        """A client for ``service`` in the pipeline's region, with the source's endpoint, TLS and retries.

        The credentials are resolved (and registered for redaction) first, so that botocore never logs a
        request signed with credentials we do not know yet.
        """
        self.resolved_credentials()
        return self.session.create_client(
            service,
            region_name=self.config.effective_region,
            endpoint_url=endpoint_url,
            verify=self.verify,
            config=self.botocore_config(),
        )

    def sagemaker(self, *, quick: bool = False) -> Any:
        """The SageMaker client; ``quick``: short timeouts and one retry, for the last call after an abort.

        Every answer it receives is checked (:func:`check_answer`) before the resource reads it.
        """
        if not quick:
            client = self.client("sagemaker", self.config.endpoint_url)
        else:
            config = self.botocore_config().merge(
                Config(retries={"total_max_attempts": 2}, connect_timeout=3, read_timeout=5)
            )
            self.resolved_credentials()  # registered for redaction before any request, as in client()
            client = self.session.create_client(
                "sagemaker",
                region_name=self.config.effective_region,
                endpoint_url=self.config.endpoint_url,
                verify=self.verify,
                config=config,
            )
        endpoint = client.meta.endpoint_url
        client.meta.events.register("before-parse.sagemaker", functools.partial(check_body, endpoint))
        client.meta.events.register("after-call.sagemaker", functools.partial(check_answer, endpoint))
        return client

    @property
    def refreshable(self) -> bool:
        """Whether the credentials renew themselves (an assumed role, an instance or container role)."""
        return isinstance(self.session.get_credentials(), RefreshableCredentials)

    def sts(self) -> Any:
        return self.client("sts", self.config.sts_endpoint_url)

    def _assume_role(self, default_session_name: str) -> None:
        role_arn = str(self.config.role_arn)
        source = self.session.get_credentials()
        if source is None:
            raise ResourceError(
                f"source.role_arn is set but there are no credentials to assume {self.config.role_arn} with.",
                "Set source.access_key_id and secret_access_key, or run the worker with an instance or pod role.",
            )
        extra: dict[str, Any] = {"RoleSessionName": self.config.role_session_name or default_session_name}
        if self.config.external_id is not None:
            extra["ExternalId"] = self.config.external_id
        if self.config.role_duration is not None:
            extra["DurationSeconds"] = self.config.role_duration
        client_creator = functools.partial(
            self.session.create_client,
            region_name=self.config.effective_region,
            endpoint_url=self.config.sts_endpoint_url,
            verify=self.verify,
            config=self.botocore_config(),
        )
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=client_creator, source_credentials=source, role_arn=role_arn, extra_args=extra
        )

        source_name = self.credential_source

        def fetch() -> dict[str, Any]:
            with translate_errors(f"assuming the role {self.config.role_arn}", self.config, service="sts"):
                register_frozen(source, source_name)
                fetched: dict[str, Any] = fetcher.fetch_credentials()
            redact.register(fetched.get("secret_key"), f"the secret key of the role {role_arn}")
            redact.register(fetched.get("token"), f"the session token of the role {role_arn}")
            return fetched

        credentials = RoleCredentials(fetch, self.config.role_duration or DEFAULT_ROLE_DURATION)
        # The source credentials stay with the session that assumes the role; clients get a fresh session
        # whose only credentials are the role's (a session caches the first credentials it resolves).
        self.session = botocore.session.Session()
        self._watch(self.session)
        self.session.register_component("credential_provider", CredentialResolver([_FixedProvider(credentials)]))
        self.credential_source = f"role {self.config.role_arn} assumed with {self.credential_source}"

    def resolved_credentials(self) -> Credentials:
        """The credentials requests will be signed with, registered; says where to get some when there are none."""
        if self._resolved is not None:
            return self._resolved
        with translate_errors("getting AWS credentials", self.config, service="sts"):
            try:
                credentials = self.session.get_credentials()
                if credentials is not None:
                    register_frozen(credentials, f"the credentials from the {self.credential_source}")
            except ValueError as error:  # botocore refusing a value of the default chain's environment
                raise ResourceError(
                    f"The AWS credentials could not be loaded from the {self.credential_source}: {error}.",
                    "Check the worker's AWS_* environment variables and the files they name (a token file "
                    "must not end with a newline for AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).",
                ) from error
        if credentials is None:
            raise ResourceError(
                "No AWS credentials were found: source has no access_key_id/secret_access_key and the worker "
                "offers none (no instance profile, container role or web identity).",
                "Set source.access_key_id and source.secret_access_key (from a credential manager, e.g. "
                "((aws_access_key_id))), optionally with source.role_arn.",
            )
        if self.credential_source == "default chain":
            self.credential_source = f"default chain ({credentials.method})"
        self._resolved = credentials
        return credentials


# What the resource reads from each answer: (list key, or None for the answer itself; keys each item must have).
# A missing list is an empty one to botocore, so an answer that is not what it seems (an HTML page with 200:
# botocore parses it as an empty answer) would look like "no executions" if the list were not required.
_REQUIRED: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "ListPipelineExecutions": ("PipelineExecutionSummaries", ("PipelineExecutionArn",)),
    "ListPipelineExecutionSteps": ("PipelineExecutionSteps", ()),
    "ListPipelineParametersForExecution": ("PipelineParameters", ("Name", "Value")),
    "ListPipelineVersions": ("PipelineVersionSummaries", ("PipelineVersionId",)),
    "DescribePipelineExecution": (None, ("PipelineExecutionArn", "PipelineExecutionStatus")),
    "StartPipelineExecution": (None, ("PipelineExecutionArn",)),
    "RetryPipelineExecution": (None, ("PipelineExecutionArn",)),
    "DescribePipeline": (None, ("PipelineArn",)),
}


# Values the resource prints or parses, which must have their documented form (not any text).
_FORMS = {
    "PipelineExecutionArn": re.compile(
        r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:pipeline/[A-Za-z0-9-]{1,256}/execution/[A-Za-z0-9]{1,64}"
    ),
    "PipelineExecutionStatus": re.compile(r"[A-Za-z]{1,32}"),
    "StepStatus": re.compile(r"[A-Za-z]{1,32}"),
}


def body_problem(status: int, body: bytes) -> str | None:
    """What makes an answer's body unreadable as a JSON service's answer (None if nothing): never its text.

    An error status with a body that is not JSON (a proxy's HTML page for a 431) is left to botocore, which
    makes an error of the status and the page's title.
    """
    if not body.strip():
        return None
    try:
        document = json.loads(body)
    except ValueError:
        if status >= 300:
            return None
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "not JSON"
        return f"it is {kind} ({len(body)} bytes), with HTTP status {status}"
    if not isinstance(document, dict):
        return f"it is {'null' if document is None else 'not a JSON object'}, with HTTP status {status}"
    return None


def answer_problem(operation: str, parsed: object) -> str | None:
    """What makes a parsed answer unusable (None if nothing): a field missing, or not of its form."""
    if not isinstance(parsed, dict):
        return "it is not a JSON object"
    listed, keys = _REQUIRED.get(operation, (None, ()))
    items: object = [parsed] if listed is None else parsed.get(listed)
    if not isinstance(items, list):
        return f"it has no {listed} list"
    for number, item in enumerate(items, start=1):
        where = "" if listed is None else f"entry {number} of {listed} "
        if not isinstance(item, dict):
            return f"{where}is not an object"
        missing = [key for key in keys if item.get(key) in (None, "")]
        if missing:
            return f"{where}has no {', '.join(missing)}"
        for key, form in _FORMS.items():
            if key in item and not (isinstance(item[key], str) and form.fullmatch(item[key])):
                return f"{where}has a {key} that is not of its form"
    return None


def _unreadable(operation: str, endpoint: str, problem: str) -> ResourceError:
    return ResourceError(
        f"The answer of SageMaker's {operation} from {endpoint} could not be read: {problem}.",
        f"Check that {endpoint} is the SageMaker API (not a proxy's or another service's page); if it is, try "
        "again later.",
    )


def check_body(endpoint: str, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's ``before-parse`` hook: refuse a body that is not a JSON object (``null``, a proxy's HTML page
    with 200) before botocore's parser fails on it or reads it as an empty answer."""
    problem = body_problem(int(response_dict.get("status_code") or 0), bytes(response_dict.get("body") or b""))
    if problem:
        raise _unreadable(operation_model.name, endpoint, problem)


def check_answer(endpoint: str, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    """botocore's ``after-call`` hook: refuse an answer the resource cannot read, as one error paragraph
    naming the operation and the endpoint (rather than a crash, or an empty answer taken for a real one)."""
    problem = answer_problem(model.name, parsed) if http_response.status_code < 300 else None
    if problem:
        raise _unreadable(model.name, endpoint, problem)


_CODE_HINTS = {
    "AccessDeniedException": "The credentials are valid but not allowed to do this: check the IAM policy "
    "(README, 'Required IAM permissions') of {who}.",
    "AccessDenied": "The credentials are not allowed to do this: check the IAM policy and the role's trust policy.",
    "UnrecognizedClientException": "The access key is not known to AWS: check source.access_key_id and "
    "secret_access_key (and the region/partition).",
    "InvalidClientTokenId": "The access key is not known to AWS: check source.access_key_id.",
    "InvalidSignatureException": "The request signature is wrong: check source.secret_access_key.",
    "SignatureDoesNotMatch": "The request signature is wrong: check source.secret_access_key.",
    "ExpiredToken": "The temporary credentials have expired: refresh source.session_token (or use role_arn).",
    "ExpiredTokenException": "The temporary credentials have expired: refresh source.session_token.",
    "ThrottlingException": "AWS kept throttling the requests after {attempts} attempts: try again later, raise "
    "source.max_attempts, or use retry_mode: adaptive.",
    "ResourceLimitExceeded": "An AWS quota was reached (e.g. concurrent pipeline executions): wait for running "
    "executions to finish or ask for a higher quota.",
    "ConflictException": "The execution is in a state that does not allow this (e.g. it is not running, or is "
    "changing state): check its status and try again.",
}


# botocore's network-level failures (after its retries): what happened, and what to check.
_NETWORK_ERRORS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str, str], ...] = (
    (
        bex.EndpointConnectionError,
        "Could not connect to {url} while {action}: {error}.",
        "Check source.{endpoint_key}/region, DNS and that the worker can reach the endpoint.",
    ),
    (
        (bex.ConnectTimeoutError, bex.ReadTimeoutError),
        "Timed out talking to {url} while {action} ({error}).",
        "Check network access to the endpoint, or raise source.connect_timeout/read_timeout.",
    ),
    (
        bex.SSLError,
        "TLS failed with {url} while {action}: {error}.",
        "For a private CA set source.ca_bundle to its PEM certificate.",
    ),
    (
        (bex.ConnectionClosedError, bex.HTTPClientError),
        "The connection to {url} failed while {action}: {error}.",
        "botocore gave up after its retries (source.max_attempts): check the endpoint and try again.",
    ),
)


def _one_line(text: str, limit: int = 300) -> str:
    """An answer's text as one short line: a proxy's HTML page (for a 431, say) loses its tags and newlines.

    Masked first: a credential in an XML element is masked by its element's name, which the tags carry.
    """
    text = redact.redact(text)
    if text.lstrip().startswith("<"):
        text = re.sub(r"<[^>]*>", " ", text)
    return printable(" ".join(text.split()), limit)


def _raised_parsing(error: BaseException) -> bool:
    """Whether ``error`` came from botocore reading an answer (a bad timestamp is a ValueError, bad bytes a
    UnicodeDecodeError, bad XML a ResponseParserError): the answer was malformed, the resource is not at fault."""
    frame = error.__traceback__
    while frame is not None:
        if Path(frame.tb_frame.f_code.co_filename).match("botocore/parsers.py"):
            return True
        frame = frame.tb_next
    return False


@contextlib.contextmanager
def translate_errors(action: str, config: SourceConfig, service: str = "sagemaker") -> Iterator[None]:
    """Turn botocore's exceptions raised while doing ``action`` into one-paragraph :class:`ResourceError`.

    ``service`` is ``sts`` for STS calls, which go to ``source.sts_endpoint_url``: the hints name that key.
    """
    endpoint_key = "sts_endpoint_url" if service == "sts" else "endpoint_url"
    if service == "sts":  # the default chain's STS (web identity) may be set in the environment instead
        configured = config.sts_endpoint_url or os.environ.get("AWS_ENDPOINT_URL_STS")
    else:
        configured = config.endpoint_url
    endpoint = configured or f"the {'STS' if service == 'sts' else 'SageMaker'} endpoint of {config.effective_region}"
    try:
        yield
    except bex.ClientError as error:
        info = error.response.get("Error", {})
        code = printable(str(info.get("Code", "Unknown")), 100)
        message = _one_line(str(info.get("Message", ""))).rstrip(".")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        hint = _CODE_HINTS.get(code, "")
        lowered = message.lower()
        if code in ("ResourceNotFound", "ValidationException") and (
            "does not exist" in lowered or "could not find" in lowered
        ):
            hint = "Check source.pipeline (ARN, region and account) and that the credentials are for that account."
        if not hint and isinstance(status, int) and status >= 500:
            hint = f"AWS failed after {config.max_attempts} attempts: try again later."
        hint = hint.format(who="the credentials in use", attempts=config.max_attempts)
        raise ResourceError(f"AWS refused {action}: {code}: {message or '(no message)'}.", hint or None) from error
    except bex.NoCredentialsError as error:
        raise ResourceError(
            f"No AWS credentials were found for {action}.",
            "Set source.access_key_id and source.secret_access_key, or give the worker a role.",
        ) from error
    except bex.ParamValidationError as error:
        raise ResourceError(f"AWS would not accept the request for {action}: {error}.") from error
    except bex.CredentialRetrievalError as error:
        provider = error.kwargs.get("provider", "?")
        raise ResourceError(
            f"The AWS credentials could not be loaded from the {printable(str(provider), 40)} provider while "
            f"{action} (its output is not shown: it may hold credentials).",
            "Run the credential_process (or the credential source) by hand to see why, or set "
            "source.access_key_id and secret_access_key."
            if provider == "custom-process"
            else None,
        ) from error
    except bex.BotoCoreError as error:
        for kinds, what, hint in _NETWORK_ERRORS:
            if isinstance(error, kinds):
                url = error.kwargs.get("endpoint_url", endpoint)
                raise ResourceError(
                    what.format(url=url, action=action, error=error), hint.format(endpoint_key=endpoint_key)
                ) from error
        raise ResourceError(f"AWS client error while {action}: {error}.") from error
    except Exception as error:
        if not isinstance(error, ResponseParserError) and not _raised_parsing(error):
            raise
        raise ResourceError(
            f"The answer to {action} could not be read ({type(error).__name__}: {_one_line(str(error))}).",
            f"Check that {endpoint} is the AWS API (not a proxy's or another service's page).",
        ) from error
