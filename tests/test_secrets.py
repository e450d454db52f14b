"""Secrets: answers are never rewritten, and credentials are masked on stderr by name and by value.

The leak harness itself (every way to authenticate, every step, debug on and off) is in
``test_secrets_harness.py``; the ``run`` fixture applies its search to every run of every test.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_pipeline_resource import redact
from sagemaker_pipeline_resource.aws.session import AWS
from sagemaker_pipeline_resource.config.params import SourceConfig
from tests.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY

NOW = dt.datetime.now(dt.timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/concourse-deployer"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> redact._Registry:
    """A fresh set of registered values for one in-process test."""
    fresh = redact._Registry()
    monkeypatch.setattr(redact, "_registry", fresh)
    return fresh


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_answers_are_byte_identical_with_secrets_that_occur_in_arns(run, emulator, tmp_path):
    pipeline = emulator.create_pipeline("test-model")
    [older, newest] = emulator.seed_executions(pipeline, 2, start=NOW - dt.timedelta(hours=1))
    running = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=5))
    plain = {"pipeline": pipeline, "endpoint_url": emulator.url, "access_key_id": ACCESS_KEY_ID}
    plain["secret_access_key"] = SECRET_ACCESS_KEY
    colliding = {
        **plain,
        "secret_access_key": "test",  # too short to mask: a warning says so
        "session_token": pipeline,  # long enough to mask on stderr, and it is in every answer
        "role_arn": ROLE,
        "external_id": "123456789012",  # the account id: not a credential, never masked
        "sts_endpoint_url": emulator.url,
    }
    answers: dict[str, list[bytes]] = {"plain": [], "colliding": []}
    logs = ""
    # The colliding secrets are in the answers on purpose: the leak search does not apply here.
    for name, source in (("plain", plain), ("colliding", colliding)):
        checked = run("check", {"source": source, "version": {"execution_arn": older}}, leak_check=False)
        got = run("in", {"source": source, "version": {"execution_arn": newest}}, tmp_path / name, leak_check=False)
        files = b"".join(file.encode() + b"\0" + body for file, body in _files(tmp_path / name).items())
        answers[name] += [checked.stdout.encode(), got.stdout.encode(), files]
        logs += checked.stderr + got.stderr if name == "colliding" else ""
    # A put that does the same thing twice: stopping one execution (idempotent in effect), after the checks.
    for name, source in (("plain", plain), ("colliding", colliding)):
        stop = {"action": "stop", "execution_arn": running}
        put = run("out", {"source": source, "params": stop}, tmp_path / f"{name}-put", leak_check=False)
        answers[name].append(put.json and put.stdout.encode())
        logs += put.stderr if name == "colliding" else ""
    assert "source.secret_access_key is only 4 characters long" in logs
    assert pipeline.encode() in answers["colliding"][0]  # untouched on stdout...
    assert pipeline not in logs  # ...masked on stderr
    assert answers["plain"] == answers["colliding"]
    assert newest.encode() in answers["colliding"][0] and b"test-model" in answers["colliding"][1]


def test_debug_environment_variable_means_debug_true(run, source, emulator, pipeline):
    emulator.seed_executions(pipeline, 1, start=NOW - dt.timedelta(hours=1))
    quiet = run("check", {"source": source})
    loud = run("check", {"source": source}, env={"SAGEMAKER_PIPELINE_RESOURCE_DEBUG": "1"})
    assert quiet.json == loud.json
    assert "botocore.endpoint - DEBUG" not in quiet.stderr
    assert "botocore.endpoint - DEBUG" in loud.stderr and "Signature=***" in loud.stderr
    off = run("check", {"source": source}, env={"SAGEMAKER_PIPELINE_RESOURCE_DEBUG": "0"})
    assert "botocore.endpoint - DEBUG" not in off.stderr


def test_external_id_is_not_masked(run, sts_source, emulator, pipeline):
    emulator.seed_executions(pipeline, 1, start=NOW - dt.timedelta(hours=1))
    source = {**sts_source, "role_arn": ROLE, "external_id": "partner-external-id-0001", "debug": True}
    result = run("check", {"source": source})
    assert "ExternalId': 'partner-external-id-0001'" in result.stderr  # botocore's AssumeRole parameters


# In-process tests of the masking itself.

TOKEN = "FQoGZXIvYXdzEBYaDGDh3MJGwVesQtP0nKGpNTffrQ8wn4Aqe/dRKcLVdl8vACLEGoqtttvvhuQZs4HP89qRJhG9J9qWBYQ+f3arA=="
SECRET = "Q0UtDe0ECvFXBEjQgkAuGOmHmjX9IMmjId2CupYU"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey>"
            f"<SessionToken>{TOKEN}</SessionToken></Credentials>",
            "<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>***</SecretAccessKey>"
            "<SessionToken>***</SessionToken></Credentials>",
        ),
        (
            f'{{"AccessKeyId": "ASIAX", "SecretAccessKey" : "{SECRET}", "Token": "{TOKEN}", "NextToken": "n"}}',
            '{"AccessKeyId": "ASIAX", "SecretAccessKey" : "***", "Token": "***", "NextToken": "n"}',
        ),
        (
            f"headers={{'X-Amz-Date': b'20261127T130733Z', 'X-Amz-Security-Token': b'{TOKEN}', "
            "'Authorization': b'AWS4-HMAC-SHA256 Credential=ASIAX/20261127/us-east-1/sts/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=0123abcd'}",
            "headers={'X-Amz-Date': b'20261127T130733Z', 'X-Amz-Security-Token': b'***', "
            "'Authorization': b'AWS4-HMAC-SHA256 Credential=ASIAX/20261127/us-east-1/sts/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=***'}",
        ),
        ("{'Authorization': 'container-authorization-token-1'}", "{'Authorization': '***'}"),
        (
            f"host:127.0.0.1\nx-amz-security-token:{TOKEN}\nx-amz-target:X",
            "host:127.0.0.1\nx-amz-security-token:***\nx-amz-target:X",
        ),
        (
            "{'body': {'Action': 'AssumeRoleWithWebIdentity', 'WebIdentityToken': 'eyJhbGciOiJIUzI1NiJ9.e30.ZmFrZQ'}}",
            "{'body': {'Action': 'AssumeRoleWithWebIdentity', 'WebIdentityToken': '***'}}",
        ),
        (
            f"Action=AssumeRoleWithWebIdentity&WebIdentityToken={TOKEN}&Version=1",
            "Action=AssumeRoleWithWebIdentity&WebIdentityToken=***&Version=1",
        ),
        ("Signature:\n" + "ab" * 32 + "\nnext", "Signature:\n***\nnext"),
        (
            f"PUT /latest/api/token\nX-aws-ec2-metadata-token: {TOKEN}\n",
            "PUT /latest/api/token\nX-aws-ec2-metadata-token: ***\n",
        ),
        (f'\\"SessionToken\\": \\"{TOKEN}\\"', '\\"SessionToken\\": \\"***\\"'),
    ],
)
def test_credentials_are_masked_by_field_name(registry, text: str, expected: str) -> None:
    assert redact.redact(text) == expected


def test_a_value_masked_by_name_is_masked_everywhere_after(registry) -> None:
    redact.redact(f"<SessionToken>{TOKEN}</SessionToken>")
    assert redact.redact(f"error: the token {TOKEN} expired") == "error: the token *** expired"


def test_the_session_token_of_every_signed_request_is_registered(registry) -> None:
    """Credentials that appear without our resolving them (a refresh inside botocore) are still learnt."""
    source = {"pipeline": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p", "endpoint_url": "http://127.0.0.1:9"}
    aws = AWS(SourceConfig.from_json({**source, "max_attempts": 1, "connect_timeout": 1}))
    aws.session.set_credentials("ASIAREFRESHEDKEY0001", SECRET, TOKEN)  # behind our back, like a refresh
    assert redact.redact(TOKEN) == TOKEN
    client = aws.session.create_client("sagemaker", region_name="us-east-1", endpoint_url=source["endpoint_url"])
    with pytest.raises(Exception, match="Could not connect"):
        client.list_pipelines()
    assert redact.redact(f"token {TOKEN}") == "token ***"


def test_signatures_are_masked_but_not_tracked(registry) -> None:
    assert redact.redact("Signature:\n" + "ab" * 32 + "\nSignature=" + "cd" * 32) == "Signature:\n***\nSignature=***"
    assert not registry.values  # good for one request only: not worth a place in the pattern


def test_registered_values_are_masked_as_whole_values_only(registry) -> None:
    redact.register(SECRET, "source.secret_access_key")
    assert redact.redact(f"key={SECRET}.") == "key=***."
    assert redact.redact(f"'{SECRET}'") == "'***'"
    assert redact.redact(f"x{SECRET}") == f"x{SECRET}"  # part of a longer word: ordinary text
    assert redact.redact(f"{SECRET}9") == f"{SECRET}9"


def test_url_encoded_values_are_masked(registry) -> None:
    redact.register(TOKEN, "source.session_token")
    assert redact.redact("t=" + TOKEN.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D")) == "t=***"


def test_short_values_warn_and_are_not_masked(registry, capsys) -> None:
    redact.register("test", "source.secret_access_key")
    redact.register("test", "source.secret_access_key")
    assert redact.redact("arn:aws:sagemaker:us-east-1:123456789012:pipeline/test-model") == (
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/test-model"
    )
    warnings = capsys.readouterr().err
    assert warnings.count("warning: source.secret_access_key is only 4 characters long") == 1


def test_stream_masks_values_written_in_pieces(registry) -> None:
    redact.register(SECRET, "source.secret_access_key")
    target = io.StringIO()
    stream = redact.RedactingStream(target)
    for piece in ("the key ", SECRET[:10], SECRET[10:], " leaked\n", "tail ", SECRET):
        stream.write(piece)
    assert target.getvalue() == "the key *** leaked\n"
    stream.flush()
    assert target.getvalue() == "the key *** leaked\ntail ***"


def test_log_records_are_masked_before_any_handler(registry) -> None:
    target = io.StringIO()
    handler = logging.StreamHandler(target)
    handler.addFilter(redact.RedactingFilter())
    logger = logging.getLogger("tests.secrets")
    logger.addHandler(handler)
    try:
        logger.warning("Response body:\n%r", f"<SecretAccessKey>{SECRET}</SecretAccessKey>".encode())
    finally:
        logger.removeHandler(handler)
    assert SECRET not in target.getvalue() and "<SecretAccessKey>***</SecretAccessKey>" in target.getvalue()


# Text with no credential field and no registered value in it is never changed.
_ORDINARY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(text=_ORDINARY, secret=st.from_regex(r"[A-Za-z0-9+/]{16,60}", fullmatch=True))
def test_redaction_never_changes_text_without_a_credential(text: str, secret: str) -> None:
    registry = redact._Registry()
    registry.add(secret)
    saved, redact._registry = redact._registry, registry
    try:
        masked = redact.redact(text + " " + secret + "\n")
        if secret not in text and not any(
            name in text.lower() for name in ("token", "secret", "signature", "authorization")
        ):
            assert masked == text + " ***\n"
        assert f" {secret}\n" not in masked
    finally:
        redact._registry = saved
