"""Issue #13's hostile inputs, one named regression test each, through the built .pyz and the emulator.

Every refusal is checked against the error contract (:func:`refused`): the exit code, nothing on stdout,
one line on stderr that starts with ``error:`` and names what was wrong, no traceback, no raw control
character, a bounded length, and (where an emulator is involved) no AWS call at all.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Result, clean_env

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model"
OTHER_EXECUTION = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/other-model/execution/abc123"
ROLE = "arn:aws:iam::123456789012:role/concourse-deployer"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
MAX_MESSAGE = 2500


def refused(result: Result, *fragments: str, code: int = 1, emulator: Any = None) -> None:
    """The error contract for a refused input."""
    assert result.returncode == code, f"exit {result.returncode}, expected {code}:\n{result.stderr[:2000]}"
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "This is a bug" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines and lines[-1].startswith("error: "), result.stderr[:2000]
    assert not CONTROL.search(result.stderr), "a raw control character reached stderr"
    assert len(lines[-1]) < MAX_MESSAGE, f"a {len(lines[-1])}-character message"
    for fragment in fragments:
        assert fragment in lines[-1], f"{fragment!r} not in {lines[-1][:1000]!r}"
    if emulator is not None:
        assert emulator.request_counts() == {}, "the input was refused after AWS calls"


@pytest.fixture
def quiet(emulator: Any) -> Any:
    """The emulator with an empty request log, to assert that a refused input cost no AWS call."""
    emulator.clear_requests()
    return emulator


def put(run: Any, source: dict[str, Any], params: dict[str, Any], sources: Path | None = None) -> Result:
    return run("out", {"source": source, "params": params}, directory=sources)  # type: ignore[no-any-return]


# --- exit 70 on input errors -------------------------------------------------------------------------------


def test_integer_of_5000_digits_on_stdin(run: Any, source: dict[str, Any], quiet: Any) -> None:
    raw = '{"source": {"pipeline": "' + ARN + '", "max_pages": ' + "9" * 5000 + "}}"
    refused(run("check", None, raw=raw), "an integer of 5000 digits", emulator=quiet)


def test_json_nested_100000_deep_on_stdin(run: Any) -> None:
    raw = '{"source": ' + "[" * 100_000 + "]" * 100_000 + "}"
    refused(run("check", None, raw=raw), "nests lists and objects more than 32 deep")


def test_json_nested_100000_deep_in_a_parameters_file(run: Any, source: dict[str, Any], quiet: Any) -> None:
    result = put_file(run, source, "deep.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused(result, "params.parameters_file", emulator=quiet)


def test_number_1e400_in_a_number_field(run: Any, source: dict[str, Any], quiet: Any) -> None:
    raw = '{"source": {"pipeline": "' + ARN + '", "hold_back_hours": 1e400}}'
    refused(run("check", None, raw=raw), "too large", emulator=quiet)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_in_hold_back_hours(run: Any, constant: str) -> None:
    raw = '{"source": {"pipeline": "' + ARN + '", "hold_back_hours": ' + constant + "}}"
    refused(run("check", None, raw=raw), constant)


def test_nan_poll_interval_starts_nothing(run: Any, source: dict[str, Any], quiet: Any) -> None:
    raw = with_params(source, '{"wait": true, "poll_interval": NaN}')
    refused(run("out", None, raw=raw), "NaN", emulator=quiet)


@pytest.mark.parametrize("url", ["http://exa_mple.com", "http://127.0.0.1:99999", "http://user@host.example"])
def test_endpoint_url_that_botocore_rejects(run: Any, source: dict[str, Any], quiet: Any, url: str) -> None:
    refused(run("check", {"source": {**source, "endpoint_url": url}}), "source.endpoint_url", emulator=quiet)


@pytest.mark.parametrize("key", ["self", "version", "destination_dir", "build_metadata", "sources_dir", "params"])
def test_source_key_named_like_a_python_argument(run: Any, key: str) -> None:
    refused(run("check", {"source": {"pipeline": ARN, key: "x"}}), f"source has an unknown key '{key}'")


@pytest.mark.parametrize("key", ["self", "version", "destination_dir", "build_metadata", "sources_dir"])
def test_params_key_named_like_a_python_argument(run: Any, source: dict[str, Any], quiet: Any, key: str) -> None:
    refused(put(run, source, {key: "x"}), f"params has an unknown key '{key}'", emulator=quiet)
    version = {"execution_arn": ARN + "/execution/abc123"}
    got = run("in", {"source": source, "version": version, "params": {key: "x"}})
    refused(got, f"params has an unknown key '{key}'", emulator=quiet)


def in_payload(source: dict[str, Any], pipeline: str) -> dict[str, Any]:
    return {"source": source, "version": {"execution_arn": pipeline + "/execution/abc123"}}


def step(steps_dir: Path, name: str, payload: object, *args: str) -> Result:
    """A step run with these arguments as they are (the ``run`` fixture makes and scans its directory)."""
    done = subprocess.run(
        [str(steps_dir / name), *args], input=_json(payload), capture_output=True, text=True, env=clean_env(),
        check=False, timeout=60,
    )  # fmt: skip
    return Result(name, done.returncode, done.stdout, done.stderr)


def test_in_given_a_file(steps_dir: Path, tmp_path: Path, source: dict[str, Any], pipeline: str, quiet: Any) -> None:
    target = tmp_path / "a-file"
    target.write_text("", encoding="utf-8")
    refused(step(steps_dir, "in", in_payload(source, pipeline), str(target)), "is not a directory", emulator=quiet)


@pytest.mark.parametrize(
    ("directory", "fragment"), [("/proc/self", "cannot be written"), ("/proc/x/y", "cannot be made")]
)
def test_in_given_a_directory_under_proc(
    steps_dir: Path, source: dict[str, Any], pipeline: str, quiet: Any, directory: str, fragment: str
) -> None:
    refused(step(steps_dir, "in", in_payload(source, pipeline), directory), fragment, emulator=quiet)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_in_given_an_unwritable_directory(
    steps_dir: Path, tmp_path: Path, source: dict[str, Any], pipeline: str, quiet: Any
) -> None:
    target = tmp_path / "read-only"
    target.mkdir()
    target.chmod(0o500)
    refused(step(steps_dir, "in", in_payload(source, pipeline), str(target)), "cannot be written", emulator=quiet)


def test_nul_and_lone_surrogate_in_a_path(run: Any, source: dict[str, Any], quiet: Any) -> None:
    for escaped in ("a\\u0000b.json", "a\\ud800.json"):
        raw = with_params(source, '{"parameters_file": "' + escaped + '"}')
        refused(run("out", None, raw=raw), "params.parameters_file contains a NUL", emulator=quiet)


def test_nul_and_lone_surrogate_in_a_credential(run: Any, source: dict[str, Any], quiet: Any) -> None:
    for escaped in ("\\u0000", "\\udc80"):
        raw = '{"source": ' + _json({**source, "access_key_id": "AKIA@@"}).replace("@@", escaped) + "}"
        refused(run("check", None, raw=raw), "source.access_key_id contains a NUL", emulator=quiet)


def test_execution_arn_file_that_is_not_utf8(run: Any, source: dict[str, Any], quiet: Any) -> None:
    sources = run.tmp_path / "sources"
    sources.mkdir()
    (sources / "arn").write_bytes(b"arn:aws:sagemaker:\xff\xfe")
    result = put(run, source, {"action": "stop", "execution_arn_file": "arn"}, sources)
    refused(result, "params.execution_arn_file", "not UTF-8", emulator=quiet)


def test_execution_arn_file_with_a_300_character_name(run: Any, source: dict[str, Any], quiet: Any) -> None:
    result = put(run, source, {"action": "stop", "execution_arn_file": "x" * 300}, run.tmp_path / "sources")
    refused(result, "params.execution_arn_file", emulator=quiet)


class _Answers(http.server.BaseHTTPRequestHandler):
    """Answers every request with the server's ``answer``: (status, content type, body)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, content_type, body = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_aws() -> Iterator[http.server.ThreadingHTTPServer]:
    """An endpoint on 127.0.0.1 that gives whatever answer a test sets (a proxy, a broken service)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def fake_source(server: http.server.ThreadingHTTPServer) -> dict[str, Any]:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return {"pipeline": ARN, "endpoint_url": url, "sts_endpoint_url": url, "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY, "max_attempts": 1}  # fmt: skip


@pytest.mark.parametrize(
    "answer",
    [
        (200, "application/x-amz-json-1.1", b'{"PipelineExecutionSummaries": [{"StartTime": "not a time"}]}'),
        (200, "application/x-amz-json-1.1", b"\xff\xfe not UTF-8"),
    ],
    ids=["bad-timestamp", "not-utf8"],
)
def test_malformed_aws_response(run: Any, fake_aws: Any, answer: tuple[int, str, bytes]) -> None:
    fake_aws.answer = answer
    refused(run("check", {"source": fake_source(fake_aws)}), "could not be read")


def test_malformed_sts_response_in_doctor(pyz: Path, fake_aws: Any) -> None:
    fake_aws.answer = (200, "text/xml", b"<GetCallerIdentityResponse><unclosed>")
    done = _doctor(pyz, fake_source(fake_aws))
    refused(done, "FAIL", "could not be read", "ResponseParserError")


# --- hangs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["parameters_file", "execution_arn_file"])
def test_fifo_is_refused_without_blocking(run: Any, source: dict[str, Any], quiet: Any, param: str) -> None:
    sources = run.tmp_path / "sources"
    sources.mkdir()
    os.mkfifo(sources / "fifo")
    params: dict[str, Any] = {param: "fifo"} if param == "parameters_file" else {"action": "stop", param: "fifo"}
    refused(put(run, source, params, sources), "not a regular file", emulator=quiet)  # `run` times out at 120 s


@pytest.mark.parametrize("timeout", ["NaN", "Infinity", "1e400"])
def test_non_finite_timeout_with_wait(run: Any, source: dict[str, Any], quiet: Any, timeout: str) -> None:
    raw = with_params(source, '{"wait": true, "timeout": ' + timeout + "}")
    refused(run("out", None, raw=raw, timeout=30), emulator=quiet)


# --- accepted although invalid ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [False, "", [], 0, {}])
def test_check_with_a_falsy_version(run: Any, source: dict[str, Any], quiet: Any, version: object) -> None:
    refused(run("check", {"source": source, "version": version}), "version", emulator=quiet)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_parameter_values(run: Any, source: dict[str, Any], quiet: Any, value: str) -> None:
    raw = with_params(source, '{"parameters": {"Epochs": ' + value + "}}")
    refused(run("out", None, raw=raw), "stdin holds", emulator=quiet)


@pytest.mark.parametrize("key", ["display_name", "description"])
def test_empty_params_are_not_replaced_by_defaults(run: Any, source: dict[str, Any], quiet: Any, key: str) -> None:
    refused(put(run, source, {key: ""}), f"params.{key} must be non-empty", emulator=quiet)


@pytest.mark.parametrize("key", ["region", "role_session_name"])
def test_empty_source_keys_are_not_replaced_by_defaults(run: Any, source: dict[str, Any], quiet: Any, key: str) -> None:
    refused(run("check", {"source": {**source, "role_arn": ROLE, key: " "}}), f"source.{key} must be", emulator=quiet)


def test_region_in_upper_case(run: Any, source: dict[str, Any], quiet: Any) -> None:
    refused(run("check", {"source": {**source, "region": "EU-WEST-1"}}), "source.region must be", emulator=quiet)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("role_session_name", "has spaces", "source.role_session_name must be letters"),
        ("role_session_name", "x" * 65, "source.role_session_name must be 2 to 64 characters"),
        ("external_id", "Z", "source.external_id must be 2 to 1224 characters"),
        ("external_id", "bad id!", "source.external_id must be letters"),
    ],
)
def test_role_options_checked_before_the_call(
    run: Any, sts_source: dict[str, Any], quiet: Any, key: str, value: str, fragment: str
) -> None:
    result = run("check", {"source": {**sts_source, "role_arn": ROLE, key: value}})
    refused(result, fragment, emulator=quiet)
    assert "RoleSessionName" not in result.stderr and "ExternalId" not in result.stderr  # botocore's words


def test_ca_bundle_that_is_not_a_certificate(run: Any, source: dict[str, Any], quiet: Any) -> None:
    bundle = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    refused(run("check", {"source": {**source, "ca_bundle": bundle}}), "source.ca_bundle", emulator=quiet)


def test_selective_execution_of_another_pipeline(run: Any, source: dict[str, Any], quiet: Any) -> None:
    params = {"selective_execution": {"steps": ["Train"], "source_execution_arn": OTHER_EXECUTION}}
    refused(put(run, source, params), "another pipeline", emulator=quiet)


@pytest.mark.parametrize(("name", "args"), [("in", ["DIR", "extra"]), ("out", ["DIR", "x", "y"]), ("check", ["x"])])
def test_extra_arguments(steps_dir: Path, tmp_path: Path, name: str, args: list[str]) -> None:
    payload: dict[str, Any] = {"source": {"pipeline": ARN}}
    if name == "in":
        payload["version"] = {"execution_arn": ARN + "/execution/a"}
    arguments = [str(tmp_path) if arg == "DIR" else arg for arg in args]
    refused(step(steps_dir, name, payload, *arguments), "argument", code=2)


# --- paths leave the build's directory, errors echo file contents -----------------------------------------


@pytest.mark.parametrize(
    ("path", "content"),
    [("../../../../../../../../etc/passwd", "root:"), ("/proc/self/environ", "PATH="), ("/etc/hostname", "")],
)
def test_parameters_file_outside_the_build(
    run: Any, source: dict[str, Any], quiet: Any, path: str, content: str
) -> None:
    result = put(run, source, {"parameters_file": path}, run.tmp_path / "sources")
    refused(result, "leads out of the build's directory", emulator=quiet)
    if content:
        assert content not in result.stderr


def test_symlink_out_of_the_build_is_refused(run: Any, source: dict[str, Any], quiet: Any) -> None:
    sources = run.tmp_path / "sources"
    sources.mkdir()
    (sources / "link.yml").symlink_to("/etc/passwd")
    refused(put(run, source, {"parameters_file": "link.yml"}, sources), "symbolic link", emulator=quiet)


def put_file(run: Any, source: dict[str, Any], name: str, content: str) -> Result:
    """A put whose parameters_file is ``name`` in the build's directory, holding ``content``."""
    sources = run.tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / name).write_text(content, encoding="utf-8")
    return put(run, source, {"parameters_file": name}, sources)


def test_parameters_file_errors_never_quote_the_file(run: Any, source: dict[str, Any], quiet: Any) -> None:
    result = put_file(run, source, "secrets.txt", "db_password=hunter2-do-not-print\n")
    refused(result, "params.parameters_file (secrets.txt), line 1", emulator=quiet)
    assert "hunter2" not in result.stderr


# --- messages ----------------------------------------------------------------------------------------------


def test_a_100000_character_value_is_shortened(run: Any, source: dict[str, Any], quiet: Any) -> None:
    long = "x" * 100_000
    for key, value in (("region", long), ("role_arn", long), ("retry_mode", long), (long, 1), ("statuses", [long])):
        result = run("check", {"source": {**source, key: value}})
        refused(result, "source", emulator=quiet)
        assert len(result.stderr) < 1000


def test_newlines_and_ansi_escapes_are_escaped(run: Any, source: dict[str, Any], quiet: Any) -> None:
    forged = "x\nerror: everything is fine\x1b[2J\x1b[31m"
    for payload in (
        {"source": {**source, "role_arn": forged}},
        {"source": {**source, "retry_mode": forged}},
        {"source": {**source, forged: 1}},
        {"source": {**source, "statuses": [forged]}},
    ):
        result = run("check", payload)
        refused(result, "\\nerror: everything is fine\\x1b[2J", emulator=quiet)
        assert result.stderr.count("\n") == 1


def test_role_session_name_names_the_source_key(run: Any, sts_source: dict[str, Any], quiet: Any) -> None:
    result = run("check", {"source": {**sts_source, "role_arn": ROLE, "role_session_name": "a"}})
    refused(result, "source.role_session_name", emulator=quiet)
    assert "Invalid length for parameter" not in result.stderr


def test_parameters_file_problems_blame_the_file(run: Any, source: dict[str, Any], quiet: Any) -> None:
    result = put_file(run, source, "params.json", '{"Epochs": "1", "bad name": "x"}')
    refused(result, "params.parameters_file (params.json), key 2: the name is not a valid", emulator=quiet)
    assert "bad name" not in result.stderr  # issue 24: a key is file content too


def test_http_431_html_body_is_one_short_line(run: Any, fake_aws: Any) -> None:
    page = b"<html>\r\n<head><title>431 Request Header Fields Too Large</title></head>\r\n<body>\r\n" + b" " * 5000
    fake_aws.answer = (431, "text/html", page + b"<center>nginx</center>\r\n</body>\r\n</html>\r\n")
    result = run("check", {"source": fake_source(fake_aws)})
    refused(result, "431 Request Header Fields Too Large")
    assert "<html>" not in result.stderr and len(result.stderr) < 800


def test_secrets_in_hostile_values_stay_masked(run: Any, source: dict[str, Any], quiet: Any) -> None:
    """A secret is never quoted back, even when it is refused for holding a newline or an escape."""
    for bad in (SECRET_ACCESS_KEY + "\n", SECRET_ACCESS_KEY + "\x1b[2J"):
        result = run("check", {"source": {**source, "secret_access_key": bad}})
        refused(result, "source.secret_access_key", emulator=quiet)
        assert SECRET_ACCESS_KEY not in result.stderr


def _json(value: object) -> str:
    return json.dumps(value)


def with_params(source: dict[str, Any], params: str) -> str:
    """A put payload whose params are raw JSON text (NaN, 1e400, \\u escapes: what json.dumps cannot write)."""
    return '{"source": ' + _json(source) + ', "params": ' + params + "}"


def _doctor(pyz: Path, source: dict[str, Any]) -> Result:
    done = subprocess.run(
        [str(pyz), "doctor"], input=json.dumps({"source": source}), capture_output=True, text=True,
        env=clean_env(), check=False, timeout=60,
    )  # fmt: skip
    return Result("doctor", done.returncode, done.stdout, done.stderr)
