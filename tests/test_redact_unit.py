"""redact.py in-process: the edges tests/test_secrets.py does not pin (``make mutation`` found them).

Boundaries of the registry, the order values are tried in, whitespace-only fields, multi-line shapes
written in one go, the stream after a flush, and the debug logger's set-up.
"""

from __future__ import annotations

import io
import logging

import pytest

from sagemaker_pipeline_resource import redact

TOKEN = "IQoJb3JpZ2luX2VjEFAaCXVzLWVhc3QtMSJHMEUCIQD7exampletokenvalue0123456789abcdef"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> redact._Registry:
    fresh = redact._Registry()
    monkeypatch.setattr(redact, "_registry", fresh)
    return fresh


def test_nothing_registered_changes_nothing(registry) -> None:
    assert registry.pattern() is None
    assert redact.redact("plain text, 2026-11-27, key=value") == "plain text, 2026-11-27, key=value"


def test_short_values_and_the_mask_itself_are_not_registered(registry) -> None:
    registry.add("x" * (redact.MIN_LENGTH - 1))
    registry.add(redact.MASK)
    assert registry.values == set()
    registry.add("y" * redact.MIN_LENGTH)
    assert registry.values == {"y" * redact.MIN_LENGTH}


def test_register_masks_a_value_of_exactly_the_minimum_length(registry, capsys) -> None:
    value = "k" * redact.MIN_LENGTH
    redact.register(value, "source.secret_access_key")
    assert redact.redact(f"the key {value} here") == "the key *** here"
    assert capsys.readouterr().err == ""
    redact.register("", "source.session_token")
    redact.register(None, "source.session_token")
    assert capsys.readouterr().err == ""


def test_a_longer_value_wins_over_a_registered_prefix_of_it(registry) -> None:
    short = "abcdefghijklmnop"
    long = short + "/qrstuvwx"
    redact.register(short, "a")
    redact.register(long, "b")
    assert redact.redact(f"[{long}]") == "[***]"
    redact.register("zzzzzzzzzzzzzzzzzz", "c")  # a new value rebuilds the pattern
    assert redact.redact(f"{long} zzzzzzzzzzzzzzzzzz") == "*** ***"


def test_a_short_value_in_a_credential_field_is_masked_by_the_field(registry) -> None:
    assert redact.redact("{'Token': 'abc123'}") == "{'Token': '***'}"  # too short to be registered by value


def test_an_empty_field_stays_empty(registry) -> None:
    assert redact.redact("x-amz-security-token: \nhost:h") == "x-amz-security-token: \nhost:h"
    assert redact.redact("'Token': ''") == "'Token': ''"
    assert registry.values == set()


def test_authorization_keeps_everything_but_its_signature(registry) -> None:
    header = "authorization:\x0cAWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261127/us-east-1/sagemaker/aws4_request, "
    assert redact.redact(header + "Signature=0123abcd") == header + "Signature=***"
    assert redact.redact("{'Authorization': 'Bearer-token-for-a-container'}") == "{'Authorization': '***'}"


def test_a_multi_line_shape_written_at_once_is_masked(registry) -> None:
    target = io.StringIO()
    stream = redact.RedactingStream(target)
    stream.write("Signature:\n" + "ab" * 32 + "\nand more")
    assert target.getvalue() == "Signature:\n***\n"
    stream.flush()
    assert target.getvalue() == "Signature:\n***\nand more"


def test_the_stream_goes_on_after_a_flush(registry) -> None:
    target = io.StringIO()
    stream = redact.RedactingStream(target)
    assert stream.write("abc") == 3
    stream.flush()
    stream.flush()
    stream.write("def\n")
    assert target.getvalue() == "abcdef\n"
    assert stream.writable()
    assert stream.encoding is None  # the wrapped stream's (StringIO has none)


def test_the_encoding_defaults_to_utf_8() -> None:
    class Sink:
        def write(self, text: str) -> int:
            return len(text)

    assert redact.RedactingStream(Sink()).encoding == "utf-8"  # type: ignore[arg-type]


def test_the_filter_keeps_records(registry) -> None:
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "token %s", (f"SessionToken={TOKEN}",), None)
    assert redact.RedactingFilter().filter(record) is True
    assert record.getMessage() == "token SessionToken=***"


def test_debug_log_sets_up_one_masking_handler(registry, monkeypatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    name = "sagemaker_pipeline_resource.tests.debug"
    logger = logging.getLogger(name)
    try:
        redact.debug_log(name)
        redact.debug_log(name)
        assert logger.level == logging.DEBUG
        [handler] = logger.handlers
        assert handler.level == logging.DEBUG
        logger.debug("header X-Amz-Security-Token=%s sent", TOKEN)
        line = err.getvalue()
        assert line.endswith(f" - {name} - DEBUG - header X-Amz-Security-Token=*** sent\n")
        assert TOKEN not in line
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
