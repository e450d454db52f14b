"""The leak harness: every way to authenticate, every step and ``doctor``, debug on and off.

The search itself is the ``run`` fixture's (``tests/conftest.py``): every credential the run could know
(configured, in the environment or its token files, issued by the emulator's STS, or served by the
container credentials endpoint below) is looked for in every byte of stdout, stderr and the files written.
Each test also checks that the runs did what they should (a run that fails early leaks nothing), and with
debug that botocore's log was there to leak from, masked.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SESSION_TOKEN

NOW = dt.datetime.now(dt.timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/concourse-deployer"
ENV_ACCESS_KEY_ID = "AKIAENVIRONMENTKEY01"
ENV_SECRET = "environment-secret-key-do-not-print-0123"
ENV_TOKEN = "environment-session-token-do-not-print-" + "Zm9vYmFy" * 8
WEB_IDENTITY_TOKEN = (
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2kifQ.c2lnbmF0dXJlLWRvLW5vdC1wcmludA"
)
CONTAINER_AUTH_TOKEN = "container-authorization-token-do-not-print-4242"
CONTAINER_SECRET = "container-secret-key-do-not-print-9876543"
CONTAINER_TOKEN = "container-session-token-do-not-print-" + "YmFyYmF6" * 8

METHODS = (
    "static keys",
    "session token",
    "role from static keys",
    "role from the default chain",
    "environment chain",
    "web identity",
    "container credentials",
)


class _ContainerCredentials(BaseHTTPRequestHandler):
    """ECS/EKS's container credentials endpoint: credentials for the right Authorization header only."""

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != CONTAINER_AUTH_TOKEN:
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps(
            {
                "AccessKeyId": "ASIACONTAINERKEY0001",
                "SecretAccessKey": CONTAINER_SECRET,
                "Token": CONTAINER_TOKEN,
                "Expiration": (NOW + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def container_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ContainerCredentials)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2/credentials/ci"
    server.shutdown()
    server.server_close()


def authentication(method: str, base: dict[str, Any], url: str, container: str, tmp_path: Path):
    """(source, environment) for one way to authenticate; ``base`` has static keys."""
    ambient = {key: value for key, value in base.items() if key not in ("access_key_id", "secret_access_key")}
    env_keys = {"AWS_ACCESS_KEY_ID": ENV_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": ENV_SECRET}
    if method == "static keys":
        return base, {}
    if method == "session token":
        return {**base, "session_token": SESSION_TOKEN}, {}
    if method == "role from static keys":
        return {**base, "role_arn": ROLE}, {}
    if method == "role from the default chain":
        return {**ambient, "role_arn": ROLE}, env_keys
    if method == "environment chain":
        return ambient, {**env_keys, "AWS_SESSION_TOKEN": ENV_TOKEN}
    if method == "web identity":
        token = tmp_path / "web-identity-token"
        token.write_text(WEB_IDENTITY_TOKEN, encoding="utf-8")
        env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": ROLE, "AWS_ROLE_SESSION_NAME": "pod"}
        return ambient, {**env, "AWS_ENDPOINT_URL_STS": url}
    token = tmp_path / "container-token"
    token.write_text(CONTAINER_AUTH_TOKEN, encoding="utf-8")  # botocore refuses a trailing newline
    return ambient, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token),
    }


@pytest.mark.parametrize("debug", [False, True], ids=["quiet", "debug"])
@pytest.mark.parametrize("method", METHODS)
def test_no_credential_leaks(run, emulator, pipeline, sts_source, container_endpoint, tmp_path, method, debug):
    run.secrets += [CONTAINER_SECRET, CONTAINER_TOKEN]
    [older, newest] = emulator.seed_executions(pipeline, 2, start=NOW - dt.timedelta(hours=1))
    source, env = authentication(method, {**sts_source, "debug": debug}, emulator.url, container_endpoint, tmp_path)
    issued_before = len(emulator.issued_credentials())

    checked = run("check", {"source": source, "version": {"execution_arn": older}}, env=env)
    assert checked.json[-1] == {"execution_arn": newest}
    got = run("in", {"source": source, "version": {"execution_arn": newest}}, tmp_path / "got", env=env)
    assert got.json["version"] == {"execution_arn": newest}
    put = run("out", {"source": source, "params": {}}, tmp_path / "put", env=env)
    assert put.json["version"]["execution_arn"].startswith(pipeline + "/execution/")
    doctor = run("doctor", {"source": source}, env=env)
    assert doctor.returncode == 0 and "ok   executions:" in doctor.stdout, doctor.stderr
    missing = {**source, "pipeline": pipeline.replace("churn-model", "missing-model")}
    failed = run("check", {"source": missing}, env=env)  # an AWS error, with a traceback in debug mode
    assert failed.returncode == 1 and "does not exist" in failed.stderr

    if "role" in method or method == "web identity":
        assert len(emulator.issued_credentials()) > issued_before  # STS issued credentials, searched for
    logs = checked.stderr + got.stderr + put.stderr + doctor.stderr + failed.stderr
    if not debug:
        assert "botocore" not in logs
        return
    assert "botocore.endpoint - DEBUG - Sending http request" in logs and "Signature=***" in logs
    assert "Traceback" in failed.stderr
    if method not in ("static keys",):
        assert "'X-Amz-Security-Token': b'***'" in logs and "x-amz-security-token:***" in logs
    if "role" in method or method == "web identity":
        assert "<SecretAccessKey>***</SecretAccessKey><SessionToken>***</SessionToken>" in logs
    if method == "web identity":
        assert "'WebIdentityToken': '***'" in logs


def test_a_bad_container_token_file_is_a_clean_error(run, source, container_endpoint, tmp_path):
    token = tmp_path / "container-token"
    token.write_text(CONTAINER_AUTH_TOKEN + "\n", encoding="utf-8")  # as an editor saves it
    ambient = {key: value for key, value in source.items() if key not in ("access_key_id", "secret_access_key")}
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container_endpoint,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token),
    }
    result = run("check", {"source": ambient}, env=env)
    assert result.returncode == 1, result.stderr
    assert "not a legal header value" in result.stderr and "must not end with a newline" in result.stderr
