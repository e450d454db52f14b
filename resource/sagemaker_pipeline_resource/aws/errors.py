"""AWS's errors in words: each botocore failure becomes one :class:`errors.ResourceError` paragraph that says
what failed and how to fix it, with AWS's own words escaped and masked before they are shortened."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from botocore import exceptions as bex
from botocore.parsers import ResponseParserError

from sagemaker_pipeline_resource import redact
from sagemaker_pipeline_resource.config.params import SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError, printable

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
