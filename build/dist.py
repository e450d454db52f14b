"""Build the release artifacts: the versioned .pyz, its SHA256SUMS and, when Docker answers, the image.

    python build/dist.py [--out DIR] [--no-image] [--base BASE_IMAGE]   # what `make dist` runs
    python build/dist.py --check-tag v0.1.0                             # the release workflow's gate
    python build/dist.py --notes                                        # this version's CHANGELOG section
    python build/dist.py --print-version

One version, one source of truth: ``__version__`` in the package's __init__.py (hatchling reads the same line),
read here without importing the package. Artifacts, in ``--out`` (default dist/):

- ``sagemaker-pipeline-resource-VERSION.pyz``: built by build/build_pyz.py, the one recipe that ``make pyz``
  and the image use. Reproducible: timestamps come from SOURCE_DATE_EPOCH (build_pyz.py's fixed default
  unless the caller sets one), and every build here is made twice and compared byte for byte before it is
  kept. It is then run with ``--version``, which must print ``sagemaker-pipeline-resource VERSION``.
- The image, unless ``--no-image`` or no Docker engine answers (``docker info``): built as
  ``sagemaker-pipeline-resource:VERSION`` by ``python -m tests.image.build`` (the ``make image`` recipe,
  which passes VERSION from the same line, and REVISION from git, as build args that become the image's OCI
  labels; the label is checked here), then written to a file whose name says its format:
  - ``sagemaker-pipeline-resource-VERSION-image.oci.tar`` when skopeo is on PATH: an OCI image layout in a
    tar (``skopeo copy docker-daemon:... oci-archive:...``);
  - otherwise ``sagemaker-pipeline-resource-VERSION-image.tar``, which is what ``docker save`` writes: a
    docker-archive (``docker load -i FILE``). Engines from Docker 25 on also put an OCI image layout in
    that same tar; the script says which one it got.
  The archive is for trying the image locally: it is not what a release pushes. Without ``--base`` it
  is built on the local stand-in base (build/docker/make-base-image.sh), which carries this machine's CA
  bundle and names it in ``ENV PIP_CERT``; the release workflow builds on the Dockerfile's default base,
  pinned by digest, and pushes from there.
- ``SHA256SUMS``: one line per artifact above, in ``sha256sum -c`` format (``cd DIR && sha256sum -c
  SHA256SUMS``). It lists this run's artifacts only.

Nothing here is published: the release workflow (.github/workflows/release.yml) pushes the multi-platform
image with buildx and attaches the .pyz and SHA256SUMS to the GitHub release.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NAME = "sagemaker-pipeline-resource"
VERSION_FILE = ROOT / "resource" / "sagemaker_pipeline_resource" / "__init__.py"
CHANGELOG = ROOT / "CHANGELOG.md"
SUMS_NAME = "SHA256SUMS"
VERSION_LABEL = "org.opencontainers.image.version"

# A release version: N.N.N, optionally a pre-release (aN, bN, rcN) as PEP 440 spells it. The tag is "v" + it.
VERSION_RE = re.compile(r"(?P<release>\d+\.\d+\.\d+)(?P<pre>(?:a|b|rc)\d+)?")
CHANGELOG_HEADING_RE = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$")


class DistError(RuntimeError):
    """A release check or build step failed; the message says which and why."""


# --- the version and the tag ---------------------------------------------------------------------------


def package_version(path: Path = VERSION_FILE) -> str:
    """``__version__`` from the package's __init__.py, read as text (the line hatchling reads too)."""
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", path.read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        raise DistError(f"no __version__ = '...' line in {path}")
    return match.group(1)


def is_prerelease(version: str) -> bool:
    match = VERSION_RE.fullmatch(version)
    return bool(match and match.group("pre"))


def _release_key(version: str) -> tuple[int, ...]:
    match = VERSION_RE.fullmatch(version)
    assert match is not None  # noqa: S101 - callers pass versions that match
    return tuple(int(part) for part in match.group("release").split("."))


def is_latest(version: str, tags: list[str]) -> bool:
    """Whether ``version`` is to be tagged ``latest``: a final release no older than every final release tagged.

    Semver order, not tagging order: 1.4.1 released after 2.0.0 (a patch on the older line) leaves ``latest``
    on 2.0.0. ``tags`` are git tags (``v1.2.3``); others and pre-releases are ignored.
    """
    if VERSION_RE.fullmatch(version) is None or is_prerelease(version):
        return False
    finals = [
        tag[1:] for tag in tags if VERSION_RE.fullmatch(tag[1:]) and tag[:1] == "v" and not is_prerelease(tag[1:])
    ]
    return all(_release_key(other) <= _release_key(version) for other in finals)


def git_tags(root: Path = ROOT) -> list[str]:
    """The repository's ``v*`` tags (the release workflow checks out with fetch-depth 0, so it has them all)."""
    result = subprocess.run(
        ["git", "tag", "--list", "v*"], cwd=root, capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise DistError(f"cannot list the git tags: {result.stderr.strip()}")
    return result.stdout.split()


def changelog_versions(text: str) -> dict[str, str | None]:
    """Every ``## [VERSION] - DATE`` heading of a Keep a Changelog file, as {version: date or None}."""
    found: dict[str, str | None] = {}
    for line in text.splitlines():
        match = CHANGELOG_HEADING_RE.match(line)
        if match:
            found[match.group("version")] = match.group("date")
    return found


def changelog_section(text: str, version: str) -> str:
    """The body of ``## [version]`` (without its heading), up to the next ``## `` heading or link list."""
    lines = text.splitlines()
    body: list[str] | None = None
    for line in lines:
        heading = CHANGELOG_HEADING_RE.match(line)
        if body is None:
            if heading and heading.group("version") == version:
                body = []
            continue
        if line.startswith("## ") or re.match(r"^\[[^\]]+\]: \S+", line):
            break
        body.append(line)
    if body is None:
        raise DistError(f"CHANGELOG.md has no '## [{version}]' section")
    return "\n".join(body).strip()


def check_tag(tag: str, version: str, changelog: str) -> list[str]:
    """Why ``tag`` may not be released as ``version``: an empty list means it may.

    The rules: the tag is exactly ``v`` + the package version; the version is N.N.N (or a pre-release,
    N.N.NaN / bN / rcN); CHANGELOG.md has a dated ``## [VERSION] - YYYY-MM-DD`` section with something in it.
    """
    problems: list[str] = []
    if VERSION_RE.fullmatch(version) is None:
        problems.append(
            f"package version {version!r} (the package's __init__.py) is not N.N.N or a pre-release N.N.N(a|b|rc)N"
        )
    if tag != f"v{version}":
        problems.append(
            f"tag {tag!r} does not match the package version {version!r} (the package's __init__.py): "
            f"tag v{version}, or bump __version__ and tag again"
        )
    dates = changelog_versions(changelog)
    if version not in dates:
        problems.append(f"CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' section: move Unreleased to it")
    else:
        if dates[version] is None:
            problems.append(f"CHANGELOG.md's '## [{version}]' heading has no date (' - YYYY-MM-DD')")
        if not changelog_section(changelog, version):
            problems.append(f"CHANGELOG.md's '## [{version}]' section is empty")
    return problems


# --- building ------------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_sums(out: Path, artifacts: list[Path]) -> Path:
    """SHA256SUMS for ``artifacts`` (all directly in ``out``), sorted by name: ``HASH  NAME`` per line."""
    lines = [f"{sha256(path)}  {path.name}\n" for path in sorted(artifacts, key=lambda p: p.name)]
    sums = out / SUMS_NAME
    tmp = sums.with_name(f".{SUMS_NAME}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(sums)
    return sums


def build_pyz(output: Path) -> Path:
    """build/build_pyz.py, the one recipe, into ``output``."""
    subprocess.run([sys.executable, str(HERE / "build_pyz.py"), "--output", str(output)], check=True, cwd=ROOT)
    return output


def shebang_flags(pyz: Path) -> list[str]:
    """The interpreter flags of the zipapp's shebang (``#!/usr/bin/env -S python3 -IS`` gives ``["-IS"]``)."""
    with pyz.open("rb") as handle:
        first = handle.readline().decode("utf-8", "replace").strip()
    words = first.removeprefix("#!").split()
    python_at = next((i for i, word in enumerate(words) if "python" in Path(word).name), None)
    if not first.startswith("#!") or python_at is None:
        raise DistError(f"{pyz.name} does not start with a python shebang: {first[:80]!r}")
    return [word for word in words[python_at + 1 :] if word.startswith("-")]


def pyz_version(pyz: Path, python: str = sys.executable) -> str:
    """What ``PYTHON FLAGS PYZ --version`` prints (FLAGS from its shebang), with a throw-away SHIV_ROOT."""
    with tempfile.TemporaryDirectory(prefix="dist-shiv-") as shiv_root:
        env = {**os.environ, "SHIV_ROOT": shiv_root}
        result = subprocess.run(
            [python, *shebang_flags(pyz), str(pyz), "--version"],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    if result.returncode != 0:
        raise DistError(f"{pyz.name} --version exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout.strip()


def build_reproducible_pyz(out: Path, version: str) -> Path:
    """The versioned .pyz, built twice and compared byte for byte, then run with ``--version``."""
    pyz = out / f"{NAME}-{version}.pyz"
    build_pyz(pyz)
    with tempfile.TemporaryDirectory(prefix="dist-again-") as tmp:
        again = build_pyz(Path(tmp) / pyz.name)
        if sha256(again) != sha256(pyz):
            raise DistError(
                f"{pyz.name} is not reproducible: a second build gave different bytes "
                f"({sha256(pyz)[:12]} then {sha256(again)[:12]})"
            )
    printed = pyz_version(pyz)
    expected = f"{NAME} {version}"
    if printed != expected:
        raise DistError(f"{pyz.name} --version printed {printed!r}, expected {expected!r}")
    return pyz


def docker_answers() -> bool:
    """True when a docker client is on PATH and ``docker info`` gets an answer from an engine."""
    if shutil.which("docker") is None:
        return False
    try:
        subprocess.run(["docker", "info"], check=True, capture_output=True, timeout=30)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False
    return True


def docker_output(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=300).stdout.strip()


def build_image(tag: str, version: str, base: str | None) -> None:
    """``python -m tests.image.build`` (the ``make image`` recipe), then check the version label."""
    command = [sys.executable, "-m", "tests.image.build", "--tag", tag]
    if base:
        command += ["--base", base]
    subprocess.run(command, check=True, cwd=ROOT)
    label = docker_output("image", "inspect", "--format", f'{{{{ index .Config.Labels "{VERSION_LABEL}" }}}}', tag)
    if label != version:
        raise DistError(f"image {tag} has {VERSION_LABEL}={label!r}, expected {version!r}")


def save_image(tag: str, out: Path, version: str) -> tuple[Path, str]:
    """Write the image to a file; return it and a phrase naming its format."""
    if shutil.which("skopeo"):
        path = out / f"{NAME}-{version}-image.oci.tar"
        path.unlink(missing_ok=True)
        subprocess.run(
            ["skopeo", "copy", "--quiet", f"docker-daemon:{tag}", f"oci-archive:{path}:{version}"], check=True
        )
        return path, "OCI image layout archive (skopeo); load with skopeo or podman"
    path = out / f"{NAME}-{version}-image.tar"
    subprocess.run(["docker", "save", "--output", str(path), tag], check=True, timeout=1800)
    path.chmod(0o644)
    with tarfile.open(path) as archive:
        names = set(archive.getnames())
    if {"oci-layout", "index.json"} <= names:
        return path, "docker-archive that is also an OCI image layout (docker save); load with `docker load -i`"
    return path, "docker-archive (docker save, not OCI); load with `docker load -i`"


def build(out: Path, *, image: bool, base: str | None) -> list[Path]:
    version = package_version()
    out.mkdir(parents=True, exist_ok=True)
    (out / SUMS_NAME).unlink(missing_ok=True)
    log(f"version {version} (the package's __init__.py)")
    artifacts = [build_reproducible_pyz(out, version)]
    log(f"{artifacts[0].name}: reproducible, --version prints '{NAME} {version}'")
    if not image:
        log("image: skipped (--no-image)")
    elif not docker_answers():
        log("image: skipped, no Docker engine answers `docker info` (build/docker/start-dockerd.sh starts one)")
    else:
        tag = f"{NAME}:{version}"
        build_image(tag, version, base)
        path, kind = save_image(tag, out, version)
        log(f"{path.name}: {tag}, {kind}")
        built_on = base or "the stand-in base, which names this machine's CA bundle in PIP_CERT"
        log(f"{path.name} is for local tests: built on {built_on}, not on the release's base")
        artifacts.append(path)
    sums = write_sums(out, artifacts)
    for path in [*artifacts, sums]:
        log(f"  {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return [*artifacts, sums]


def log(message: str) -> None:
    print(f"dist: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where to write (default: dist/)")
    parser.add_argument("--no-image", action="store_true", help="build the .pyz and SHA256SUMS only")
    parser.add_argument("--base", help="BASE_IMAGE for the image (default: what `make image` uses)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check-tag",
        metavar="TAG",
        help="check that TAG may be released (v + package version, dated CHANGELOG section), print "
        "version=..., prerelease=... and latest=... lines for $GITHUB_OUTPUT, build nothing",
    )
    mode.add_argument("--notes", action="store_true", help="print this version's CHANGELOG section, build nothing")
    mode.add_argument("--print-version", action="store_true", help="print the package version, build nothing")
    args = parser.parse_args(argv)
    try:
        version = package_version()
        if args.print_version:
            print(version)
            return 0
        if args.notes:
            print(changelog_section(CHANGELOG.read_text(encoding="utf-8"), version))
            return 0
        if args.check_tag is not None:
            changelog = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.exists() else ""
            problems = check_tag(args.check_tag, version, changelog)
            for problem in problems:
                print(f"dist: cannot release: {problem}", file=sys.stderr)
            if problems:
                return 1
            print(f"version={version}")
            print(f"prerelease={'true' if is_prerelease(version) else 'false'}")
            print(f"latest={'true' if is_latest(version, git_tags()) else 'false'}")
            return 0
        build(args.out.resolve(), image=not args.no_image, base=args.base)
    except (DistError, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        print(f"dist: failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
