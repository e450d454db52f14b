"""Keeping credentials out of stderr, without ever touching an answer.

stdout is the answer, byte for byte, and is never rewritten: nothing secret can reach it by construction (a
version is an execution ARN; metadata and the files ``in`` writes come from SageMaker's description of the
execution, never from ``source`` or from credentials). Rewriting it would be worse than useless: a
credential that also occurs in an ARN (``external_id`` set to the account id, ``secret_access_key: test``
with a pipeline named ``test-model``) would turn a good version into one that the next check refuses.

stderr (messages, tracebacks and, with ``debug``, botocore's request log) goes through
:class:`RedactingStream`, which escapes every control character but the newline (a last line of defence:
every message goes through :func:`errors.printable` already) and masks credentials in two ways:

- **By name** (:data:`_SHAPES`): the value of every field that carries a credential, in the shapes AWS and
  botocore print them: XML elements (``<SessionToken>``), JSON keys and Python dict/repr keys
  (``'X-Amz-Security-Token': b'...'``), HTTP header lines (``x-amz-security-token:...`` in the canonical
  request), ``name=value`` in query strings and forms, and the SigV4 signature. This needs no prior
  knowledge of the value, so the credentials STS returns for AssumeRole or web identity are masked in the
  very response body botocore logs before the call returns to us. Each value masked this way is also
  registered, so that a later stray mention of it is masked too.
- **By value**: every credential the process holds or sees is registered with :func:`register` as soon as it
  is known (``source``, the environment, the default chain, every assumed role, every session token a
  request is signed with) and masked wherever it appears as a whole value, that is, not inside a longer
  word: a registered ``abc...`` does not mask part of ``xabc...``. Each value is also masked in the forms
  it is printed in (URL-encoded, a Python ``repr`` of text or bytes, JSON, escaped: :func:`_forms`).

A value shorter than :data:`MIN_LENGTH` cannot be told apart from ordinary text, so it is not masked by value
and a warning says so (real AWS secrets are far longer: a secret access key has 40 characters, session and
web identity tokens hundreds). ``external_id`` is not a credential (AWS does not treat it as a secret: it is
useless without the caller's own credentials, and is often the account id) and is not masked.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sys
from typing import TextIO
from urllib.parse import quote

MASK = "***"
# What botocore's default chain reads from the environment that is secret (registered before any check).
SECRET_ENVIRONMENT = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)
# Secrets shorter than this are not masked by value (see the module docstring).
MIN_LENGTH = 16


class _Registry:
    """The values to mask, and one regular expression matching any of them as a whole value."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.warned: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) >= MIN_LENGTH and value != MASK and value not in self.values:
            self.values.update(_forms(value))
            self._pattern = None

    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.values:
            alternatives = "|".join(re.escape(value) for value in sorted(self.values, key=len, reverse=True))
            self._pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
        return self._pattern


def _forms(value: str) -> set[str]:
    """``value`` as it may be printed: as is, URL-encoded (a URL, a form body), in a Python ``repr`` of text
    or of bytes (botocore's debug log of headers and parameters: a ``\\`` or both quotes change it), in
    JSON, and with control characters escaped (as :func:`escape` writes them)."""
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1]}
    with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate (a payload not checked yet) has no bytes
        forms.update((quote(value, safe=""), repr(value.encode("utf-8"))[2:-1]))
    forms.add(_CONTROL.sub(lambda match: repr(match.group())[1:-1], value))
    return {form for form in forms if len(form) >= MIN_LENGTH}


# C0 and C1 controls, DEL, line/paragraph separators, bidirectional overrides (they reorder what is shown)
# and surrogates (not encodable): escaped wherever outside text reaches a message.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}.get(code, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape(text: str) -> str:
    """``text`` with every control character (C0, C1, DEL, line separators, bidi overrides) escaped."""
    return _CONTROL.sub(_escape, text)


_registry = _Registry()

# Field names that carry a credential. The SigV4 ``Authorization`` header is a special case: only its
# signature is masked (the access key id and signed headers in it are what one debugs with).
_XML_NAMES = r"SecretAccessKey|SessionToken|Token|WebIdentityToken|SAMLAssertion"
_KEY_NAMES = (
    r"SecretAccessKey|SessionToken|Token|WebIdentityToken|X-Amz-Security-Token|x-aws-ec2-metadata-token|"
    r"secret_key|secret_access_key|session_token|aws_secret_access_key|aws_session_token|aws_security_token|"
    r"AWS_CONTAINER_AUTHORIZATION_TOKEN|Authorization"
)
_HEADER_NAMES = r"x-amz-security-token|x-aws-ec2-metadata-token|authorization"
_ASSIGNMENT_NAMES = (
    r"X-Amz-Security-Token|X-Amz-Signature|Signature|WebIdentityToken|SessionToken|SecretAccessKey|"
    r"aws_secret_access_key|aws_session_token|aws_security_token|AWS_CONTAINER_AUTHORIZATION_TOKEN"
)
_SIGNATURE = re.compile(r"(?<![A-Za-z0-9_-])(Signature=)([0-9a-fA-F]+)")


def _mask_value(match: re.Match[str]) -> str:
    """The match with its ``value`` group masked (and the value registered for masking elsewhere)."""
    name, value = match.group("name"), match.group("value")
    if name.lower() == "authorization" and value.lstrip().startswith("AWS4-"):
        masked = _SIGNATURE.sub(lambda sig: sig.group(1) + MASK, value)
    else:
        if "signature" not in name.lower():  # a signature is good for one request only: no need to track it
            _registry.add(value.strip())
        masked = MASK if value.strip() else value
    start, end = match.start("value") - match.start(), match.end("value") - match.start()
    text = match.group(0)
    return text[:start] + masked + text[end:]


_SHAPES: tuple[re.Pattern[str], ...] = (
    # <SecretAccessKey>...</SecretAccessKey>: STS responses (AssumeRole, AssumeRoleWithWebIdentity).
    re.compile(rf"<(?P<name>{_XML_NAMES})>(?P<value>[^<]*)</(?P=name)>"),
    # "Token": "...", 'X-Amz-Security-Token': b'...': JSON (container and instance credentials) and the
    # dict reprs botocore logs (request headers, request parameters); quotes may be backslash-escaped.
    re.compile(
        rf"(?P<q>\\*[\"'])(?P<name>{_KEY_NAMES})(?P=q)\s*:\s*b?(?P<vq>\\*[\"'])(?P<value>[^\"'\\]*)(?P=vq)",
        re.IGNORECASE,
    ),
    # x-amz-security-token:... on a line of its own: the canonical request botocore.auth logs, raw HTTP.
    re.compile(rf"^(?P<name>{_HEADER_NAMES})[ \t]*:[ \t]*(?P<value>[^\r\n]*)$", re.IGNORECASE | re.MULTILINE),
    # X-Amz-Security-Token=...&, WebIdentityToken=..., Signature=...: query strings, forms, ini files.
    re.compile(rf"(?<![A-Za-z0-9_-])(?P<name>{_ASSIGNMENT_NAMES})[ \t]*=[ \t]*(?P<value>[^&\s'\",<>]+)", re.IGNORECASE),
    # botocore.auth logs "Signature:" and the hex signature on the next line.
    re.compile(r"(?P<name>Signature):[ \t]*\r?\n(?P<value>[0-9a-f]{64})\b"),
)


def register(value: str | None, name: str) -> None:
    """Mask ``value`` (the credential called ``name``, e.g. ``source.secret_access_key``) from now on.

    A value too short to tell apart from ordinary text is not masked by value: a warning naming it says so.
    """
    if not value:
        return
    if len(value) < MIN_LENGTH:
        if value not in _registry.warned:
            _registry.warned.add(value)
            print(
                f"warning: {name} is only {len(value)} characters long, too short to tell apart from ordinary "
                f"text, so it is not masked by its value on stderr (fields known to hold credentials still "
                f"are). Real AWS credentials are much longer (a secret access key has 40 characters): a value "
                f"this short can only be a placeholder for a local emulator.",
                file=sys.stderr,
            )
        return
    _registry.add(value)


def redact(text: str) -> str:
    """``text`` with credentials masked: fields that hold one by name, then registered values by value."""
    for shape in _SHAPES:
        text = shape.sub(_mask_value, text)
    pattern = _registry.pattern()
    return text if pattern is None else pattern.sub(MASK, text)


def _safe(lines: str) -> str:
    """Lines for stderr: masked, and every control character but the newlines between them escaped.

    The last line of defence: every message already goes through :func:`errors.printable`, which also
    escapes newlines inside a text from outside (only the writer knows where its lines end).
    """
    return redact("\n".join(escape(line) for line in redact(lines).split("\n")))


class RedactingStream(io.TextIOBase):
    """A text stream that masks credentials before writing to the stream it wraps.

    Text is passed on a line at a time (whatever is written up to the last newline of each write), so that a
    credential written in pieces (``print`` writes its arguments one by one) is still seen whole, and a
    multi-line log record (a response body, a canonical request) is matched as one.
    """

    def __init__(self, wrapped: TextIO) -> None:
        super().__init__()
        self.wrapped = wrapped
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        complete, newline, rest = self._pending.rpartition("\n")
        if newline:
            self.wrapped.write(_safe(complete) + newline)
            self._pending = rest
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.wrapped.write(_safe(self._pending))
            self._pending = ""
        self.wrapped.flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.wrapped, "encoding", "utf-8")


class RedactingFilter(logging.Filter):
    """Masks credentials in a log record's message before any handler formats it.

    The stream masks everything on stderr already; this also protects a handler whose stream is not one of
    ours (a library user's logging set-up).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


def debug_log(name: str) -> None:
    """Log ``name`` (``botocore``) at DEBUG to stderr, through :class:`RedactingFilter` (once per process).

    Instead of botocore's ``set_debug_logger``, whose handler would show credentials unmasked wherever its
    stream is not one of ours.
    """
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    if any(isinstance(f, RedactingFilter) for handler in logger.handlers for f in handler.filters):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
