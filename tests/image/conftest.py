"""Fixtures of the container tests: the image, built once per session, and a way to run it as Concourse does.

Without a Docker engine these tests skip, saying why; under CI (``CI=true``) that is a failure instead, so
a CI machine that lost its engine cannot pass green. Environment:

- ``RESOURCE_IMAGE``: test this image as it is instead of building one (e.g. a release candidate).
- ``RESOURCE_BASE_IMAGE``: the BASE_IMAGE to build on (default: the Debian stand-in, built if missing).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import build

TEST_TAG = "sagemaker-pipeline-resource:test"
# Where Concourse mounts the step's directory (any path works; these are the usual ones).
GET_DIR = "/tmp/build/get"
PUT_DIR = "/tmp/build/put"
# The environment Concourse gives every get and put step (check gets none of it).
BUILD_ENV = {
    "BUILD_ID": "1234",
    "BUILD_NAME": "42",
    "BUILD_JOB_NAME": "train",
    "BUILD_PIPELINE_NAME": "ml",
    "BUILD_TEAM_NAME": "main",
    "ATC_EXTERNAL_URL": "https://ci.example.com",
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Image:
    """The image under test."""

    tag: str
    base: str | None

    def inspect(self) -> dict[str, Any]:
        return json.loads(build.docker("image", "inspect", self.tag).stdout)[0]


@dataclass
class StepResult:
    """What one run of check, in or out left: exit code, streams and the wall time of ``docker run``."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        assert self.returncode == 0, f"exit code {self.returncode}; stderr:\n{self.stderr}"
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip (or, under CI, fail) when no Docker engine answers."""
    if build.docker_available():
        return
    reason = f"container tests need a Docker engine: {build.why_no_docker()}"
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: a missing engine is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def resource_image(docker_engine: None) -> Image:
    """The image, built once per session from this checkout (or ``RESOURCE_IMAGE`` as it is)."""
    given = os.environ.get("RESOURCE_IMAGE")
    if given:
        if not build.image_exists(given):
            pytest.fail(f"RESOURCE_IMAGE={given} does not exist in the engine", pytrace=False)
        return Image(given, None)
    try:
        base = os.environ.get("RESOURCE_BASE_IMAGE") or build.ensure_base_image()
        build.build_image(TEST_TAG, base, quiet=True)
    except build.BuildError as error:
        pytest.fail(str(error), pytrace=False)
    return Image(TEST_TAG, base)


def run_step(
    image: Image | str,
    command: Sequence[str],
    payload: Any = None,
    *,
    mounts: Mapping[Path, str] | None = None,
    env: Mapping[str, str] | None = None,
    docker_args: Sequence[str] = (),
    network: str = "host",
    timeout: float = 120,
) -> StepResult:
    """``docker run -i --rm --network host IMAGE COMMAND`` with ``payload`` as JSON on stdin, as Concourse runs
    a step: ``command`` is e.g. ``["/opt/resource/in", "/tmp/build/get"]``."""
    tag = image.tag if isinstance(image, Image) else image
    args = ["run", "-i", "--rm", "--network", network]
    for host_dir, container_dir in (mounts or {}).items():
        args += ["--volume", f"{host_dir}:{container_dir}"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    args += [*docker_args, tag, *command]
    stdin = "" if payload is None else (payload if isinstance(payload, str) else json.dumps(payload))
    started = time.monotonic()
    result = build.docker(*args, check=False, timeout=timeout, input=stdin)
    return StepResult(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


@pytest.fixture
def step_dir(tmp_path: Path) -> Iterator[Path]:
    """A host directory to mount as a step's argv[1], writable by any container user (e.g. 65534)."""
    path = tmp_path / "step"
    path.mkdir()
    path.chmod(0o777)
    yield path
    # Files a container wrote as root stay removable by pytest's cleanup as long as the dir is ours.
    subprocess.run(["chmod", "-R", "u+rwX", str(path)], check=False)
