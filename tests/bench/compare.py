"""What the resource is compared with: a bare boto3 script, and the same code packaged the naive way.

- :data:`PLAIN_CHECK`: the boto3 script. It reads the same payload as ``check`` from stdin and makes the
  same call (the first page of ListPipelineExecutions, newest first) with the same client settings that
  matter (region, endpoint, static keys), then prints the newest execution as a version.
- :func:`naive_pyz`: shiv with its defaults (shebang ``/usr/bin/env python3``, unpacked on first run)
  over the whole locked dependency tree, with every botocore model: what packaging the resource with shiv
  looks like before any of build/prune.py and build/build_pyz.py's work.
- :func:`comparison_image`: one image on the same base as the resource's, holding both comparisons: the
  naive .pyz as ``/opt/naive/check`` (never run at build time, so each fresh container unpacks it), and the
  locked dependency tree installed under ``/opt/boto3`` and byte-compiled, as ``pip install`` leaves it, for
  the boto3 script.

Both are cached by content (the lock file, the resource's code, the base image, this file): in
``.cache/bench/`` and as an image tag, so that ``make bench`` builds them once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.image import build

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "bench"
REQUIREMENTS = ROOT / "build" / "requirements.txt"
ENTRY_POINT = "sagemaker_pipeline_resource.cli:main"
COMPARISON_REPOSITORY = "sagemaker-pipeline-resource-bench"
# Where things are in the comparison image.
NAIVE_CHECK = "/opt/naive/check"
BOTO3_DIR = "/opt/boto3"

PLAIN_CHECK = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import boto3
source = json.load(sys.stdin)["source"]
client = boto3.client(
    "sagemaker",
    region_name=source["pipeline"].split(":")[3],
    endpoint_url=source["endpoint_url"],
    aws_access_key_id=source["access_key_id"],
    aws_secret_access_key=source["secret_access_key"],
)
page = client.list_pipeline_executions(
    PipelineName=source["pipeline"], SortBy="CreationTime", SortOrder="Descending", MaxResults=100
)
newest = page["PipelineExecutionSummaries"][0]["PipelineExecutionArn"]
print(json.dumps([{"execution_arn": newest}]))
"""

DOCKERFILE = f"""\
ARG BASE_IMAGE
FROM ${{BASE_IMAGE}}
COPY naive.pyz /opt/naive/sagemaker-pipeline-resource.pyz
COPY boto3/ {BOTO3_DIR}/
RUN ln -s sagemaker-pipeline-resource.pyz {NAIVE_CHECK} \\
 && python3 -m compileall -q -j 0 {BOTO3_DIR}
"""


def plain_check_command(python: str, boto3_dir: str) -> list[str]:
    """The boto3 script as a command: ``-I -S`` (its fastest start), boto3 from ``boto3_dir``."""
    return [python, "-I", "-S", "-c", PLAIN_CHECK, boto3_dir]


def _fingerprint(*extra: str) -> str:
    digest = hashlib.sha256()
    digest.update(REQUIREMENTS.read_bytes())
    for path in sorted((ROOT / "resource").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()[:16]


def _pip_install(target: Path) -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
            "--require-hashes", "--only-binary=:all:", "--no-compile", "--target", str(target),
            "-r", str(REQUIREMENTS),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pip install -r {REQUIREMENTS} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def naive_pyz(log=print) -> Path:
    """The naive .pyz (built once per lock file and resource code, then taken from ``.cache/bench``)."""
    path = CACHE / f"naive-{_fingerprint()}.pyz"
    if path.is_file():
        return path
    log(f"bench: building the naive .pyz ({path.relative_to(ROOT)})")
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("naive-*.pyz"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="bench-naive-") as tmp:
        staging = Path(tmp) / "site-packages"
        _pip_install(staging)
        shutil.copytree(
            ROOT / "resource" / "sagemaker_pipeline_resource",
            staging / "sagemaker_pipeline_resource",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        partial = path.with_suffix(".tmp")
        subprocess.run(
            [sys.executable, "-m", "shiv", "--site-packages", str(staging), "--entry-point", ENTRY_POINT,
             "--output-file", str(partial), "--reproducible"],
            check=True,
            timeout=600,
            env={**_clean_env(), "SOURCE_DATE_EPOCH": "1704067200"},
        )  # fmt: skip
        partial.replace(path)
    return path


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("SHIV_")}


def comparison_image(base: str, log=print) -> str:
    """Build (or reuse) the comparison image on ``base``; return its tag."""
    base_id = build.docker("image", "inspect", "--format", "{{.Id}}", base).stdout.strip()
    naive = naive_pyz(log)
    tag = f"{COMPARISON_REPOSITORY}:{_fingerprint(base_id, DOCKERFILE, naive.name)}"
    if build.image_exists(tag):
        return tag
    log(f"bench: building the comparison image {tag} (naive .pyz and a plain boto3 install on {base})")
    with tempfile.TemporaryDirectory(prefix="bench-context-") as tmp:
        context = Path(tmp)
        shutil.copy2(naive, context / "naive.pyz")
        _pip_install(context / "boto3")
        (context / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
        result = subprocess.run(
            ["docker", "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "--tag", tag,
             "--label", "org.opencontainers.image.description=sagemaker-pipeline-resource benchmark comparison",
             str(context)],
            check=False, text=True, capture_output=True, env=build.docker_env(), timeout=1200,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"docker build of {tag} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    # Older comparison images (other code, other base) are dead weight now.
    listing = build.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", COMPARISON_REPOSITORY).stdout
    for old in listing.split():
        if old != tag:
            build.docker("image", "rm", old, check=False)
    return tag


def payload_version(stdout: str) -> str:
    """The execution ARN a check (or the boto3 script) printed: both must agree."""
    versions = json.loads(stdout)
    return str(versions[-1]["execution_arn"]) if versions else ""


NO_BYTECODE_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN find / -xdev -type d -name __pycache__ -prune -exec rm -rf {} + \\
 && ! find / -xdev -name '*.pyc' | grep -q .
"""


def without_bytecode(base: str, log=print) -> str:
    """``base`` with every ``.pyc`` deleted: how the official ``python:*-slim`` images ship their standard
    library (they delete its byte code), simulated on a stand-in. Built once per base, then reused."""
    base_id = build.docker("image", "inspect", "--format", "{{.Id}}", base).stdout.strip()
    digest = hashlib.sha256((base_id + NO_BYTECODE_DOCKERFILE).encode()).hexdigest()[:16]
    tag = f"{COMPARISON_REPOSITORY}-base:no-bytecode-{digest}"
    if build.image_exists(tag):
        return tag
    log(f"bench: building {tag} ({base} without byte code)")
    with tempfile.TemporaryDirectory(prefix="bench-context-") as tmp:
        (Path(tmp) / "Dockerfile").write_text(NO_BYTECODE_DOCKERFILE, encoding="utf-8")
        result = subprocess.run(
            ["docker", "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "--tag", tag, tmp],
            check=False, text=True, capture_output=True, env=build.docker_env(), timeout=1200,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"docker build of {tag} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    return tag
