"""Build the resource's container image, the way ``make image`` and the image tests do.

    python -m tests.image.build --tag sagemaker-pipeline-resource:dev [--base BASE_IMAGE] [--target tests]

Steps:
1. Make sure a Docker engine answers (``build/docker/start-dockerd.sh``: starts one if none does).
2. Unless ``--base`` is given, make sure the stand-in base image exists (``build/docker/make-base-image.sh``:
   Debian packages via debootstrap, for machines that cannot pull ``python:3.13-slim-trixie``).
3. ``docker build --network host`` with BASE_IMAGE, VERSION (from the package's __init__.py), REVISION (git)
   and SOURCE_URL (pyproject's [project.urls], else git's origin). The legacy builder (DOCKER_BUILDKIT=0)
   runs every stage in order, so the Dockerfile's smoke-test stage runs in every build.
4. Print the image's size and how much of it the resource adds over the base.

The functions are the helpers that tests/image/test_image.py uses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 reads the URL from git only
    tomllib = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[2]
DOCKER_SCRIPTS = ROOT / "build" / "docker"
DEFAULT_TAG = "sagemaker-pipeline-resource:dev"
# The stand-ins for python:*-slim-<suite>, built from Debian packages (build/docker/make-base-image.sh).
STAND_IN_SUITE = "trixie"
OTHER_STAND_IN_SUITE = "bookworm"
STAND_IN_BASE = f"sagemaker-pipeline-resource-base:{STAND_IN_SUITE}"
# Where the resource lives in the image (see the Dockerfile).
RESOURCE_DIR = "/opt/resource"
PYZ = f"{RESOURCE_DIR}/sagemaker-pipeline-resource.pyz"
# check, in and out link to it: it runs the zipapp's unpacked tree (build/docker/launcher.py).
LAUNCHER = f"{RESOURCE_DIR}/sagemaker-pipeline-resource"
SHIV_ROOT = f"{RESOURCE_DIR}/.shiv"


class BuildError(RuntimeError):
    """A step of the image build failed; the message says which and why."""


def docker_env() -> dict[str, str]:
    """The environment for docker commands: the legacy builder (no buildx plugin here, and no BuildKit
    front-end image can be pulled)."""
    env = dict(os.environ)
    env["DOCKER_BUILDKIT"] = "0"
    return env


def docker(
    *args: str, check: bool = True, timeout: float | None = 120, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS`` and capture its output as text."""
    return subprocess.run(
        ["docker", *args], check=check, timeout=timeout, text=True, capture_output=True, env=docker_env(), **kwargs
    )


def docker_available() -> bool:
    """True when a docker client is on PATH and an engine answers it."""
    if shutil.which("docker") is None:
        return False
    try:
        docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False
    return True


def why_no_docker() -> str:
    """One line saying why :func:`docker_available` is false."""
    if shutil.which("docker") is None:
        return "no docker client on PATH (Debian: apt-get install -y docker.io)"
    try:
        result = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=20)
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer within 20 s"
    if result.returncode == 0:
        return "a Docker engine answers"
    detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
    return f"no Docker engine answers ({detail}); start one with build/docker/start-dockerd.sh"


def ensure_engine() -> None:
    """Start a Docker engine with build/docker/start-dockerd.sh unless one answers already."""
    if docker_available():
        return
    _script("start-dockerd.sh")


def ensure_base_image(tag: str = STAND_IN_BASE, suite: str = STAND_IN_SUITE) -> str:
    """Make the stand-in base image of Debian ``suite`` (reused when it exists) and return its tag."""
    if not image_exists(tag):
        _script("make-base-image.sh", tag, env={**os.environ, "SUITE": suite})
    return tag


def stand_in_base(suite: str) -> str:
    """The stand-in base of Debian ``suite``, made if missing."""
    return ensure_base_image(f"sagemaker-pipeline-resource-base:{suite}", suite)


def _script(name: str, *args: str, env: dict[str, str] | None = None) -> None:
    path = DOCKER_SCRIPTS / name
    result = subprocess.run(["bash", str(path), *args], check=False, timeout=1800, env=env)
    if result.returncode != 0:
        raise BuildError(f"{path.relative_to(ROOT)} failed with exit code {result.returncode}")


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


def package_version() -> str:
    """``__version__`` from the package's __init__.py, read without importing the package."""
    text = (ROOT / "resource" / "sagemaker_pipeline_resource" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    return match.group(1) if match else "unknown"


def git_revision() -> str:
    """The commit the tree is at, or ``unknown`` outside git or before the first commit."""
    try:
        result = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True, text=True, capture_output=True, timeout=30
        )
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() or "unknown"


def source_url() -> str:
    """The repository's web address: pyproject's [project.urls], else git's ``origin`` as https, else ""."""
    if tomllib is not None:
        with (ROOT / "pyproject.toml").open("rb") as handle:
            urls = tomllib.load(handle).get("project", {}).get("urls", {})
        for key in ("Source", "Repository", "source", "repository", "Homepage"):
            if urls.get(key):
                return str(urls[key])
    try:
        result = subprocess.run(
            ["git", "-C", str(ROOT), "remote", "get-url", "origin"],
            check=True,
            text=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return ""
    url = result.stdout.strip()
    ssh = re.fullmatch(r"git@([^:]+):(.+?)(?:\.git)?", url)
    if ssh:
        return f"https://{ssh.group(1)}/{ssh.group(2)}"
    return re.sub(r"^(https://)[^@/]+@", r"\1", url).removesuffix(".git")


def build_image(
    tag: str = DEFAULT_TAG,
    base: str | None = None,
    *,
    target: str | None = None,
    quiet: bool = False,
    timeout: float = 1800,
) -> str:
    """Build the image (and, without ``base``, the stand-in base first); return the image ID.

    The engine must answer already (see :func:`ensure_engine`). With ``quiet`` the build's log is kept
    and shown only if the build fails.
    """
    base = base or ensure_base_image()
    command = [
        "docker", "build",
        "--network", "host",
        "--file", str(ROOT / "Dockerfile"),
        "--tag", tag,
        "--build-arg", f"BASE_IMAGE={base}",
        "--build-arg", f"VERSION={package_version()}",
        "--build-arg", f"REVISION={git_revision()}",
        "--build-arg", f"SOURCE_URL={source_url()}",
    ]  # fmt: skip
    if os.environ.get("SOURCE_DATE_EPOCH"):
        command += ["--build-arg", f"SOURCE_DATE_EPOCH={os.environ['SOURCE_DATE_EPOCH']}"]
    if target:
        command += ["--target", target]
    command.append(str(ROOT))
    output = subprocess.PIPE if quiet else None
    result = subprocess.run(
        command, check=False, text=True, stdout=output, stderr=subprocess.STDOUT, env=docker_env(), timeout=timeout
    )
    if result.returncode != 0:
        log = f"\n{result.stdout[-8000:]}" if quiet and result.stdout else ""
        raise BuildError(f"docker build of {tag} failed with exit code {result.returncode}{log}")
    return docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()


def image_sizes(tag: str, base: str | None = None) -> dict[str, Any]:
    """Sizes in bytes (uncompressed, as ``docker image ls`` shows them).

    ``image``: the whole image; ``base``: BASE_IMAGE; ``added``: what the resource adds over the base, i.e.
    the layers above the base's; ``layers``: those layers as ``[(bytes, instruction), ...]``.
    """
    info = json.loads(docker("image", "inspect", tag).stdout)[0]
    base = base or info.get("Config", {}).get("Labels", {}).get("org.opencontainers.image.base.name")
    listing = docker("history", "--no-trunc", "--human=false", "--format", "{{json .}}", tag).stdout
    history = [json.loads(line) for line in listing.splitlines() if line.strip()]
    base_size = 0
    base_history_len = 0
    if base and image_exists(base):
        base_info = json.loads(docker("image", "inspect", base).stdout)[0]
        base_size = int(base_info["Size"])
        base_history_len = len(docker("history", "--no-trunc", "-q", base).stdout.split())
    # `docker history` lists the newest layer first; the base's entries are the last ones.
    own = history[: len(history) - base_history_len] if base_history_len else history
    layers = [(int(entry["Size"]), _instruction(entry["CreatedBy"])) for entry in own if int(entry["Size"]) > 0]
    layers.reverse()
    return {
        "image": int(info["Size"]),
        "base": base_size,
        "added": int(info["Size"]) - base_size if base_size else sum(size for size, _ in layers),
        "layers": layers,
    }


def _instruction(created_by: str) -> str:
    text = re.sub(r"^/bin/sh -c (#\(nop\)\s*)?", "", created_by).strip()
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= 70 else text[:67] + "..."


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", default=DEFAULT_TAG, help="image tag (default: %(default)s)")
    parser.add_argument(
        "--base",
        help=f"BASE_IMAGE, e.g. python:3.13-slim-trixie (default: the stand-in {STAND_IN_BASE}, built if missing)",
    )
    parser.add_argument("--target", help="build only up to this stage, e.g. tests")
    parser.add_argument("--quiet", action="store_true", help="show the build's log only if it fails")
    args = parser.parse_args(argv)
    try:
        ensure_engine()
        started = time.monotonic()
        base = args.base or ensure_base_image()
        base_seconds = time.monotonic() - started
        started = time.monotonic()
        image_id = build_image(args.tag, base, target=args.target, quiet=args.quiet)
        build_seconds = time.monotonic() - started
    except (BuildError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"image build failed: {error}", file=sys.stderr)
        return 1
    sizes = image_sizes(args.tag, base)
    print(f"built {args.tag} ({image_id[:19]}) in {build_seconds:.0f} s (base ready in {base_seconds:.0f} s)")
    print(f"image size:            {_mb(sizes['image'])} (base {base}: {_mb(sizes['base'])})")
    print(f"added by the resource: {_mb(sizes['added'])}")
    for size, instruction in sizes["layers"]:
        print(f"  {_mb(size):>9}  {instruction}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
