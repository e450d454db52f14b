"""Issue 24's rough input, one named regression test each, through the built .pyz (and the emulator).

Nothing from outside (a file, AWS's answers and errors, the environment) reaches stderr raw: it is masked,
escaped and only then shortened (errors.printable); an answer that cannot be read is one error paragraph
naming the operation and the endpoint, exit 1; closed standard streams are no bug.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SECRET_ACCESS_KEY, Result, clean_env
from tests.test_hostile_input import CONTROL, fake_aws, fake_source, put, quiet, refused

__all__ = ["fake_aws", "quiet"]  # fixtures shared with test_hostile_input

# What the emulator's hostile_strings appends, as it must look on stderr: escaped, on the line it belongs to.
FORGED = re.compile(r"^error: forged", re.MULTILINE)
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def no_raw_text(result: Result) -> None:
    assert not RAW.search(result.stderr), f"a raw control character on stderr: {result.stderr[-1500:]!r}"
    assert not FORGED.search(result.stderr), f"a forged line on stderr: {result.stderr[-1500:]!r}"


def pieces(secret: str, size: int = 12) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


# --- 1. file contents are never quoted ---------------------------------------------------------------------


def test_execution_arn_file_contents_are_not_quoted(run: Any, source: dict[str, Any], quiet: Any) -> None:
    sources = run.tmp_path / "sources"
    sources.mkdir()
    (sources / "arn").write_text("my-db-password=hunter2\n", encoding="utf-8")
    result = put(run, source, {"action": "stop", "execution_arn_file": "arn"}, sources)
    refused(result, "params.execution_arn_file (arn) does not hold a pipeline execution ARN", emulator=quiet)
    assert "hunter2" not in result.stderr


def test_a_hard_link_to_a_file_outside_is_not_quoted(run: Any, source: dict[str, Any], quiet: Any) -> None:
    outside = run.tmp_path / "outside.txt"
    outside.write_text("root:x:0:0:top-secret-outside\n", encoding="utf-8")
    sources = run.tmp_path / "sources"
    sources.mkdir()
    os.link(outside, sources / "linked")
    for params in ({"action": "stop", "execution_arn_file": "linked"}, {"parameters_file": "linked"}):
        result = put(run, source, params, sources)
        refused(result, emulator=quiet)
        assert "top-secret" not in result.stderr and "root:" not in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("p.json", '{"Epochs": "1", "hunter2 password": "x"}', "(p.json), key 2: the name"),
        ("p.yml", 'Epochs: 1\n"hunter2 password": x\n', "(p.yml), line 2: the name"),
        ("p.json", '{"Epochs": {"hunter2": 1}}', "(p.json), key 1: the value is an object"),
    ],
)
def test_parameters_file_keys_are_not_quoted(
    run: Any, source: dict[str, Any], quiet: Any, name: str, content: str, where: str
) -> None:
    sources = run.tmp_path / "sources"
    sources.mkdir()
    (sources / name).write_text(content, encoding="utf-8")
    result = put(run, source, {"parameters_file": name}, sources)
    refused(result, f"params.parameters_file {where}", emulator=quiet)
    assert "hunter2" not in result.stderr


def test_a_yaml_null_is_blamed_on_its_line(run: Any, source: dict[str, Any], quiet: Any) -> None:
    sources = run.tmp_path / "sources"
    sources.mkdir()
    (sources / "p.yml").write_text("Epochs: 3\nInstanceType: ~\n", encoding="utf-8")
    result = put(run, source, {"parameters_file": "p.yml"}, sources)
    refused(result, "params.parameters_file (p.yml), line 2: the value is null", emulator=quiet)
    assert "params.parameters.InstanceType" not in result.stderr


# --- 2. a directory where a file belongs -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["dir", "."])
@pytest.mark.parametrize("key", ["parameters_file", "definition_file"])
def test_a_directory_as_a_file_param(run: Any, source: dict[str, Any], quiet: Any, key: str, path: str) -> None:
    sources = run.tmp_path / "sources"
    (sources / "dir").mkdir(parents=True)
    params: dict[str, Any] = {key: path}
    if key == "definition_file":
        params["pipeline_role_arn"] = "arn:aws:iam::123456789012:role/SageMakerPipelines"
    refused(put(run, source, params, sources), f"params.{key}", "is a directory", emulator=quiet)


# --- 3. AWS's words during a wait --------------------------------------------------------------------------

HOSTILE_REASON = "disk full\nerror: forged by the job \x1b[2J\x1b[31mred\x07\x85\u202eevil"


def test_a_failure_reason_is_escaped_in_the_progress_lines(run: Any, emulator: Any, source: dict[str, Any]) -> None:
    emulator.set_lifecycle(finish_after_polls=1, final_status="Failed", failure_reason=HOSTILE_REASON)
    result = put(run, source, {"wait": True, "poll_interval": 1, "fail_on": []})
    assert result.returncode in (0, 1), result.stderr
    assert "disk full\\nerror: forged by the job \\x1b[2J" in result.stderr
    no_raw_text(result)


def test_an_outage_message_is_escaped(run: Any, emulator: Any, source: dict[str, Any]) -> None:
    emulator.set_lifecycle(finish_after_polls=1)
    emulator.inject_fault("throttle", count=1, operation="ListPipelineExecutionSteps")
    emulator.hostile_strings(errors_only=True)
    result = put(run, source | {"max_attempts": 1}, {"wait": True, "poll_interval": 1})
    assert result.returncode == 0, result.stderr
    assert "wait: AWS is failing (ThrottlingException: Rate exceeded\\nerror: forged by AWS" in result.stderr
    no_raw_text(result)


# --- 4. masked before shortened ----------------------------------------------------------------------------

TOKEN = "IQoJb3JpZ2luX2VjEJr0kenThatIsLongEnoughToBeCutInTwo0123456789abcdefXYZ"
SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


@pytest.mark.parametrize(("before", "after"), [(120, 300), (170, 60), (600, 0), (600, 30)])
def test_a_credential_echoed_in_a_long_error_is_masked_before_it_is_cut(
    run: Any, fake_aws: Any, before: int, after: int
) -> None:
    """The message is cut to 300 characters in the middle: the credential straddles the head or the tail."""
    message = "x" * before + f" token {TOKEN} Signature={SIGNATURE} " + "y" * after
    body = json.dumps({"__type": "ValidationException", "message": message}).encode()
    fake_aws.answer = (400, "application/x-amz-json-1.1", body)
    result = run("check", {"source": fake_source(fake_aws) | {"session_token": TOKEN}})
    refused(result, "ValidationException")
    for piece in pieces(TOKEN) + pieces(SIGNATURE):
        assert piece not in result.stderr, f"{piece!r} of a credential on stderr"


# --- 5. a session token that repr changes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["Tk\\9f8e7d6c5b4a3210zzYYxxWWvv", "Tk'9f8e\"7d6c5b4a3210zzYYxxWW", "Tk\\'9f\"8e7d6c\\5b4a3210zzYY"]
)
def test_a_session_token_with_backslashes_or_quotes_is_masked_with_debug_on(
    run: Any, emulator: Any, source: dict[str, Any], token: str
) -> None:
    result = run("check", {"source": source | {"session_token": token, "debug": True}})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "X-Amz-Security-Token" in result.stderr  # botocore's request log is on
    for piece in pieces(token, 10):
        assert piece not in result.stderr, f"{piece!r} of the session token on stderr"
    assert repr(token)[1:-1] not in result.stderr and repr(token.encode())[2:-1] not in result.stderr


# --- 6. answers that cannot be read ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["null", "html", "missing"])
@pytest.mark.parametrize("step", ["check", "in", "out"])
def test_an_answer_that_cannot_be_read(
    run: Any, emulator: Any, source: dict[str, Any], pipeline: str, step: str, kind: str
) -> None:
    [execution] = emulator.seed_executions(pipeline, 1)
    emulator.answer_fault(kind, count=100)
    payload: dict[str, Any] = {"source": source}
    if step == "check":
        payload["version"] = None
    if step == "in":
        payload["version"] = {"execution_arn": execution}
    if step == "out":
        payload["params"] = {}
    result = run(step, payload)
    refused(result, "The answer of SageMaker's ", f"from {emulator.url} could not be read")


@pytest.mark.parametrize("body", [b"null", b"<html><body>Sign in</body></html>"], ids=["null", "html"])
def test_an_unreadable_answer_from_any_endpoint(run: Any, fake_aws: Any, body: bytes) -> None:
    fake_aws.answer = (200, "application/x-amz-json-1.1", body)
    refused(run("check", {"source": fake_source(fake_aws)}), "ListPipelineExecutions", "could not be read")


def test_a_null_error_answer(run: Any, fake_aws: Any) -> None:
    fake_aws.answer = (400, "application/x-amz-json-1.1", b"null")
    refused(run("check", {"source": fake_source(fake_aws)}), "ListPipelineExecutions", "could not be read")


# --- 7. ARNs quoted at most 80 characters; ASCII digits only ------------------------------------------------


def test_arn_errors_quote_at_most_80_characters(run: Any) -> None:
    for value in ("arn:aws:sagemaker:" + "x" * 300, "y" * 300):
        result = run("check", {"source": {"pipeline": value}})
        refused(result, "source.pipeline")
        assert "x" * 81 not in result.stderr and "y" * 81 not in result.stderr


def test_non_ascii_digits_are_not_an_account(run: Any) -> None:
    arabic = "".join(chr(0x0660 + int(d)) for d in "123456789012")
    result = run("check", {"source": {"pipeline": f"arn:aws:sagemaker:us-east-1:{arabic}:pipeline/p"}})
    refused(result, "source.pipeline is not a valid SageMaker pipeline ARN")


# --- lower ------------------------------------------------------------------------------------------------


def test_a_secret_placed_in_another_field_is_masked(run: Any, source: dict[str, Any], emulator: Any) -> None:
    for payload in (
        {"source": source | {"pipeline": SECRET_ACCESS_KEY}},
        {"source": source | {"region": SECRET_ACCESS_KEY}},
        {"source": source, "version": {"execution_arn": SECRET_ACCESS_KEY}},
    ):
        result = run("check", payload)
        refused(result)
        assert SECRET_ACCESS_KEY not in result.stderr and SECRET_ACCESS_KEY[:20] not in result.stderr


def shell(steps_dir: Path, script: str, payload: str, env: dict[str, str] | None = None) -> Result:
    done = subprocess.run(
        ["sh", "-c", script, "sh", str(steps_dir / "check")], input=payload.encode(), capture_output=True,
        env=clean_env(env), timeout=120, check=False,
    )  # fmt: skip
    return Result("check", done.returncode, done.stdout.decode(), done.stderr.decode())


def test_stdin_closed(steps_dir: Path) -> None:
    result = shell(steps_dir, '"$1" <&-', "")
    refused(result, "stdin was empty")


def test_stdout_a_closed_pipe(steps_dir: Path, source: dict[str, Any], emulator: Any) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [str(steps_dir / "check")], input=json.dumps({"source": source}).encode(), stdout=write,
            stderr=subprocess.PIPE, env=clean_env(), timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert stderr.splitlines()[-1].startswith("error: the answer could not be written to stdout")


def test_stderr_closed(steps_dir: Path, source: dict[str, Any], emulator: Any, pipeline: str) -> None:
    emulator.seed_executions(pipeline, 1)
    good = shell(steps_dir, '"$1" 2>&-', json.dumps({"source": source}))
    assert good.returncode == 0 and json.loads(good.stdout), good
    bad = shell(steps_dir, '"$1" 2>&-', json.dumps({"source": {"pipeline": "nope"}}))
    assert bad.returncode == 1 and bad.stdout == ""


@pytest.mark.parametrize("where", ["HOME", "SHIV_ROOT"])
def test_an_unusable_home_is_one_paragraph(steps_dir: Path, tmp_path: Path, where: str) -> None:
    """shiv unpacks the dependencies before the resource's code runs: an unusable HOME or SHIV_ROOT."""
    unusable = {"HOME": "/dev/null"} if where == "HOME" else {"HOME": str(tmp_path), "SHIV_ROOT": "/dev/null/shiv"}
    done = subprocess.run(
        [str(steps_dir / "check")], input=b"{}", capture_output=True, timeout=120, check=False,
        env={**clean_env(), **unusable},
    )  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 1 and done.stdout == b"", stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("error: The resource could not unpack its dependencies") and "/dev/null" not in stderr
    assert "Set SHIV_ROOT to a writable directory" in stderr


def test_a_missing_home_is_created(steps_dir: Path, tmp_path: Path) -> None:
    """The README: the first run unpacks into ~/.shiv, creating it (and HOME) when missing."""
    home = tmp_path / "new-home"
    done = subprocess.run(
        [str(steps_dir / "check")], input=b"{}", capture_output=True, timeout=120, check=False,
        env={**clean_env(), "HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 1 and b"has no 'source'" in done.stderr, done.stderr
    assert any((unpacked / "site-packages").is_dir() for unpacked in (home / ".shiv").iterdir())


def test_credential_process_output_is_not_echoed(run: Any, source: dict[str, Any], tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[default]\ncredential_process = sh -c 'echo leaked-hunter2 >&2; printf \"\\033[31m\\nerror: x\"; exit 3'\n",
        encoding="utf-8",
    )
    ambient = {k: v for k, v in source.items() if k not in ("access_key_id", "secret_access_key")}
    env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    result = run("check", {"source": ambient}, env=env)
    refused(result, "custom-process", "credential_process")
    assert "hunter2" not in result.stderr


def test_web_identity_sts_answer_names_sts(run: Any, fake_aws: Any, source: dict[str, Any], tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJIUzI1NiJ9.e30.ZmFrZQ", encoding="utf-8")
    fake_aws.answer = (200, "text/xml", b"<AssumeRoleWithWebIdentityResponse><unclosed>")
    url = f"http://127.0.0.1:{fake_aws.server_address[1]}"
    ambient = {k: v for k, v in source.items() if k not in ("access_key_id", "secret_access_key")}
    env = {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/pod",
        "AWS_ROLE_SESSION_NAME": "pod",
        "AWS_ENDPOINT_URL_STS": url,
    }
    result = run("check", {"source": ambient}, env=env)
    refused(result, "could not be read", f"Check that {url} is the AWS API")
    assert "SageMaker endpoint" not in result.stderr


def test_every_aws_string_hostile(run: Any, emulator: Any, source: dict[str, Any], pipeline: str) -> None:
    """The emulator's hostile_strings switch on every step: nothing raw reaches stderr, no exit 70."""
    [execution] = emulator.seed_executions(pipeline, 1)
    emulator.hostile_strings()
    for step, payload in (
        ("check", {"source": source}),
        ("in", {"source": source, "version": {"execution_arn": execution}}),
        ("out", {"source": source, "params": {}}),
    ):
        result = run(step, payload)
        assert result.returncode in (0, 1), result.stderr
        no_raw_text(result)
        assert not CONTROL.search(result.stderr)
