"""Shared fixtures: the built .pyz run exactly as Concourse runs it, against the local emulator.

Behaviour tests never import the resource: they run ``dist/sagemaker-pipeline-resource.pyz`` through
symlinks named ``check``, ``in`` and ``out`` (the step is argv[0]), with the payload on stdin, the
directory as argv[1] and the BUILD_* variables in the environment.

Every run goes through the leak harness (:func:`find_leaks`): every credential the run could know (the
payload's ``source``, the environment's variables and token files, every credential the emulator's STS
has issued, and any a test adds to ``run.secrets``) is searched for in every byte of stdout, stderr and
the files in the step's directory, as is and URL-encoded.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagemaker_pipeline_resource.redact import MIN_LENGTH

pytest_plugins = ["tests.emulator.pytest_plugin"]

ROOT = Path(__file__).resolve().parent.parent
PYZ = ROOT / "dist" / "sagemaker-pipeline-resource.pyz"

# Fake credentials: the emulator accepts anything. They are "secrets" for the leak checks all the same.
ACCESS_KEY_ID = "AKIAEMULATORTESTKEY1"
SECRET_ACCESS_KEY = "emulator-secret-key-do-not-print-0123456789"
SESSION_TOKEN = "emulator-session-token-do-not-print-9876543210"
EXTERNAL_ID = "emulator-external-id-do-not-print"
SECRETS = (SECRET_ACCESS_KEY, SESSION_TOKEN)

BUILD_ENV = {
    "BUILD_ID": "4242",
    "BUILD_NAME": "17",
    "BUILD_JOB_NAME": "train",
    "BUILD_PIPELINE_NAME": "ml-models",
    "BUILD_TEAM_NAME": "data-science",
    "ATC_EXTERNAL_URL": "https://ci.example.com",
}


@dataclass
class Result:
    step: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        assert self.returncode == 0, f"{self.step} failed ({self.returncode}):\n{self.stderr}"
        return json.loads(self.stdout)


def assert_no_secrets(*texts: str, where: str = "output") -> None:
    for secret in SECRETS:
        for text in texts:
            assert secret not in text, f"a secret leaked into {where}"


# What botocore's default chain reads from the environment that is secret: values, and files holding one.
CREDENTIAL_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)
CREDENTIAL_FILE_ENV = ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")


def known_credentials(payload: object, env: dict[str, str], emulator: Any, extra: list[str]) -> dict[str, str]:
    """Every credential a run could know, by what it is: configured, in the environment, issued by STS."""
    found: dict[str, str] = {secret: "a conftest secret" for secret in SECRETS}
    source = payload.get("source") if isinstance(payload, dict) else None
    for key in ("secret_access_key", "session_token"):
        if isinstance(source, dict) and isinstance(source.get(key), str):
            found[source[key]] = f"source.{key}"
    for name in CREDENTIAL_ENV:
        if env.get(name):
            found[env[name]] = name
    for name in CREDENTIAL_FILE_ENV:
        if env.get(name) and Path(env[name]).is_file():
            found[Path(env[name]).read_text(encoding="utf-8").strip()] = f"the token in {name}"
    for value in emulator.issued_credentials() if emulator is not None else ():
        found[value] = "issued by the emulator's STS"
    for value in extra:
        found[value] = "added by the test"
    # Shorter values cannot be told apart from ordinary text (the resource warns about them instead).
    return {value: what for value, what in found.items() if len(value) >= MIN_LENGTH}


def find_leaks(credentials: dict[str, str], outputs: dict[str, bytes]) -> list[str]:
    """Where each credential occurs in ``outputs`` (name -> bytes), as is or URL-encoded: one line per leak."""
    leaks = []
    for value, what in credentials.items():
        for form in {value, urllib.parse.quote(value, safe="")}:
            needle = form.encode()
            for where, data in outputs.items():
                at = data.find(needle)
                if at >= 0:
                    context = data[max(0, at - 60) : at + len(needle) + 20].replace(needle, b"<CREDENTIAL>")
                    leaks.append(f"{what} leaked into {where}: ...{context.decode('utf-8', 'replace')}...")
    return leaks


@pytest.fixture(scope="session")
def pyz() -> Path:
    """The built zipapp (``make test`` builds it first; built here when a test is run on its own)."""
    if not PYZ.exists():
        build_pyz_once()
    return PYZ


def build_pyz_once() -> None:
    """Build the .pyz under a lock, into a temporary name renamed into place: pytest-xdist's workers each
    ask for it, and none may build it twice or run a half-written one."""
    PYZ.parent.mkdir(parents=True, exist_ok=True)
    with (PYZ.parent / ".pyz.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if PYZ.exists():
            return  # another worker built it while this one waited
        partial = PYZ.with_name(f".{PYZ.name}.{os.getpid()}")
        try:
            build = [sys.executable, str(ROOT / "build" / "build_pyz.py"), "--output", str(partial)]
            subprocess.run(build, check=True)
            partial.replace(PYZ)
        finally:
            partial.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def steps_dir(pyz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory like the image's /opt/resource: check, in and out are symlinks to the .pyz."""
    directory = tmp_path_factory.mktemp("opt-resource")
    for step in ("check", "in", "out"):
        (directory / step).symlink_to(pyz)
    return directory


@pytest.fixture(scope="session")
def launcher_dir(pyz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory laid out like the image's /opt/resource without Docker: the zipapp's site-packages
    unpacked (as shiv unpacks it), the image's launcher (build/docker/launcher.py), and check, in and out
    symlinks to it. No start-up snapshot: a test that wants one records it."""
    directory = tmp_path_factory.mktemp("opt-resource-unpacked")
    with zipfile.ZipFile(pyz) as archive:
        members = [name for name in archive.namelist() if name.startswith("site-packages/")]
        archive.extractall(directory, members)
    launcher = directory / "sagemaker-pipeline-resource"
    shutil.copy(ROOT / "build" / "docker" / "launcher.py", launcher)
    launcher.chmod(0o755)
    for step in ("check", "in", "out"):
        (directory / step).symlink_to(launcher.name)
    return directory


def shiv_python(pyz: Path, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the zipapp's own site-packages (shiv's SHIV_INTERPRETER mode)."""
    return subprocess.run(
        [sys.executable, "-I", "-S", str(pyz), "-c", code],
        env=clean_env({"SHIV_INTERPRETER": "1", **(env or {})}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def through_the_launcher(step: Path, report: str) -> str:
    """``python -I -S -c`` code that runs the image's launcher as ``step`` (as the image's shebang runs it) and
    prints ``report``'s value to stderr at exit, as a line ``report: JSON``."""
    return f"""
import atexit, json, sys
atexit.register(lambda: print("report:", json.dumps({report}), file=sys.stderr))
sys.argv = [{str(step)!r}, *sys.argv[1:]]
exec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"), {{"__name__": "__main__", "__file__": sys.argv[0]}})
"""


def reported(stderr: str) -> Any:
    lines = [line for line in stderr.splitlines() if line.startswith("report: ")]
    assert len(lines) == 1, stderr[-3000:]
    return json.loads(lines[0].removeprefix("report: "))


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: no AWS_* variables from the developer's shell can leak into a test."""
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # no instance-metadata lookups from a test
    env.update(extra or {})
    return env


class Runner:
    """Runs one step of the .pyz the way Concourse does (or ``doctor``), and searches it for leaks."""

    def __init__(self, steps_dir: Path, tmp_path: Path, emulator: Any = None) -> None:
        self.steps_dir = steps_dir
        self.tmp_path = tmp_path
        self.emulator = emulator
        self.secrets: list[str] = []  # more credentials to search for (a test's own credential server)

    def __call__(
        self,
        step: str,
        payload: Any,
        directory: Path | None = None,
        env: dict[str, str] | None = None,
        build: bool = True,
        raw: str | None = None,
        timeout: float = 120,
        leak_check: bool = True,
    ) -> Result:
        if step == "doctor":
            args = [str((self.steps_dir / "check").resolve()), "doctor"]  # under its own name
        else:
            args = [str(self.steps_dir / step)]
        if step in ("in", "out"):
            directory = directory or self.tmp_path / step
            directory.mkdir(parents=True, exist_ok=True)
            args.append(str(directory))
        full_env = clean_env({**(BUILD_ENV if build and step not in ("check", "doctor") else {}), **(env or {})})
        stdin = raw if raw is not None else json.dumps(payload)
        done = subprocess.run(
            args, input=stdin.encode(), capture_output=True, env=full_env, timeout=timeout, check=False
        )
        stdout, stderr = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        result = Result(step, done.returncode, stdout, stderr)
        if not leak_check:
            return result
        outputs = {f"{step}'s stdout": done.stdout, f"{step}'s stderr": done.stderr}
        if directory is not None and directory.exists():
            outputs.update({str(path): path.read_bytes() for path in directory.rglob("*") if path.is_file()})
        leaks = find_leaks(known_credentials(payload, full_env, self.emulator, self.secrets), outputs)
        assert not leaks, "\n".join(leaks)
        return result


@pytest.fixture
def run(steps_dir: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Runner:
    emulator = request.getfixturevalue("emulator_server") if "emulator" in request.fixturenames else None
    return Runner(steps_dir, tmp_path, emulator)


@pytest.fixture
def pipeline(emulator: Any) -> str:
    """A pipeline in the emulator, with a Train and an Evaluate step."""
    arn: str = emulator.create_pipeline(
        "churn-model",
        steps=[{"name": "Preprocess", "type": "Processing"}, {"name": "Train", "type": "Training"}],
        parameters={"Epochs": "10", "InstanceType": "ml.m5.large"},
    )
    return arn


@pytest.fixture
def source(emulator: Any, pipeline: str) -> dict[str, Any]:
    """A source for ``pipeline`` that reaches the emulator with static keys."""
    return {
        "pipeline": pipeline,
        "endpoint_url": emulator.url,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "max_attempts": 2,
    }


@pytest.fixture
def sts_source(emulator: Any, source: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield {**source, "sts_endpoint_url": emulator.url}


@pytest.fixture
def sm(emulator: Any) -> Any:
    """A plain boto3 SageMaker client on the emulator, for the tests' own assertions."""
    return boto3.client(
        "sagemaker",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def status_of(sm: Any, arn: str) -> str:
    return str(sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])


def parameters_of(sm: Any, arn: str) -> dict[str, str]:
    pages = sm.get_paginator("list_pipeline_parameters_for_execution").paginate(PipelineExecutionArn=arn)
    return {p["Name"]: p["Value"] for page in pages for p in page["PipelineParameters"]}
