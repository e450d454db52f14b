"""Build the resource's single-file zipapp with shiv: the one packaging recipe.

``make pyz`` and the Dockerfile's builder stage both run this script, so the .pyz on a laptop and the one
in the image are made the same way from the same hash-locked requirements.

Steps:
1. ``pip install --require-hashes --no-deps --target STAGING -r build/requirements.txt``: the runtime
   dependencies, exactly as locked, and nothing that pip might resolve on its own.
2. Copy the package ``resource/sagemaker_pipeline_resource/`` into the staging tree.
3. Prune what the resource never uses (see ``prune.py``): botocore's models trimmed to the operations the
   resource calls, boto3 and s3transfer, caches: a 0.9 MB zipapp (17.7 MB with nothing pruned).
4. Normalise the staging tree's permission bits (0644 for files, 0755 for directories and executables):
   a zip records each file's mode, and the modes of a checkout and of pip's output follow the umask.
5. ``shiv --site-packages STAGING --reproducible``: same inputs, same bytes (timestamps come from
   SOURCE_DATE_EPOCH, a fixed value unless the caller sets one; modes are normalised by step 4). So the
   bytes depend on the lock file, the code and SOURCE_DATE_EPOCH only, not on the umask of the checkout or of
   the build (tests/test_packaging.py builds from two copies under umasks 022 and 002).

6. Replace shiv's ``__main__.py`` with :data:`MAIN` (same order, same timestamp): shiv unpacks its
   dependencies under ``~/.shiv`` (or ``SHIV_ROOT``) before any of the resource's code runs, so an unusable
   ``HOME`` would otherwise end in shiv's traceback.

Start-up flags (the shebang): ``-I`` (isolated: no PYTHON* variables, no user site-packages, no script
directory on sys.path) and ``-S`` (no ``site``: the system's site-packages and its ``.pth`` hooks stay out,
so the zipapp imports only what it carries, and ``site`` costs nothing). SHIV_* variables still work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from prune import prune  # noqa: E402

ENTRY_POINT = "sagemaker_pipeline_resource.cli:launch"
PACKAGE = "sagemaker_pipeline_resource"
# 2024-01-01T00:00:00Z: any fixed value makes the build reproducible; releases may pass the tag's date.
DEFAULT_SOURCE_DATE_EPOCH = "1704067200"
# `-I`: ignore PYTHON* variables and the user's site-packages; `-S`: no site module, so neither the system's
# site-packages nor its .pth files are seen. The zipapp runs only what it carries (see the module docstring).
DEFAULT_SHEBANG = "/usr/bin/env -S python3 -IS"


# The zipapp's entry: shiv's own two lines, plus one paragraph (exit 1) when shiv cannot unpack, i.e. when
# an OSError leaves bootstrap() before the resource's dispatcher was imported. Errors after that are the
# dispatcher's to report (or the code's that SHIV_INTERPRETER runs). No text from the environment is
# printed (HOME is not quoted).
MAIN = """\
# -*- coding: utf-8 -*-
import _bootstrap
try:
    _bootstrap.bootstrap()
except OSError as error:
    import os, sys
    ours = "sagemaker_pipeline_resource.cli" in sys.modules or os.environ.get("SHIV_INTERPRETER")
    if ours or os.environ.get("SAGEMAKER_PIPELINE_RESOURCE_DEBUG", "") not in ("", "0"):
        raise
    where = "the directory SHIV_ROOT names" if os.environ.get("SHIV_ROOT") else "~/.shiv (under HOME)"
    sys.stderr.write(
        "error: The resource could not unpack its dependencies: the .pyz unpacks them on its first run into "
        + where + ", which cannot be created or written (" + (error.strerror or type(error).__name__) + "). "
        "Set SHIV_ROOT to a writable directory (for example SHIV_ROOT=/tmp/shiv) or HOME to a writable home, "
        "and run it again.\\n"
    )
    sys.exit(1)
"""


def install_requirements(staging: Path, requirements: Path) -> None:
    """Install the locked runtime dependencies into ``staging``, verifying every hash."""
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--require-hashes", "--only-binary=:all:", "--no-compile",
            "--target", str(staging), "-r", str(requirements),
        ],
        check=True,
    )  # fmt: skip


def copy_package(staging: Path) -> None:
    """Copy the resource's own code in, without caches."""
    shutil.copytree(
        ROOT / "resource" / PACKAGE,
        staging / PACKAGE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def normalise_modes(staging: Path) -> None:
    """0644 for files, 0755 for directories and for files with any execute bit: modes that no umask changes."""
    for path in [staging, *staging.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod(0o755 if executable else 0o644)


def run_shiv(staging: Path, output: Path, shebang: str) -> None:
    """Zip the staging tree with shiv; the entry point dispatches on argv[0]."""
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH)
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable, "-m", "shiv",
            "--site-packages", str(staging),
            "--entry-point", ENTRY_POINT,
            "--output-file", str(output),
            "--python", shebang,
            "--reproducible",
            "--compressed",
        ],
        check=True,
        env=env,
    )  # fmt: skip


def replace_main(pyz: Path) -> None:
    """Rewrite the zipapp with :data:`MAIN` as ``__main__.py``, every other entry byte for byte in order."""
    rewritten = pyz.with_name(pyz.name + ".tmp")
    with pyz.open("rb") as source:
        shebang = source.readline()
    with zipfile.ZipFile(pyz) as old, rewritten.open("wb") as raw:
        raw.write(shebang)
        with zipfile.ZipFile(raw, "w") as new:
            for info in old.infolist():
                data = MAIN.encode() if info.filename == "__main__.py" else old.read(info)
                new.writestr(info, data, compress_type=info.compress_type)
    rewritten.replace(pyz)


def build(output: Path, requirements: Path, shebang: str) -> Path:
    """Build the zipapp at ``output`` and return its path."""
    with tempfile.TemporaryDirectory(prefix="pyz-staging-") as tmp:
        staging = Path(tmp) / "site-packages"
        install_requirements(staging, requirements)
        copy_package(staging)
        prune(staging)
        normalise_modes(staging)
        run_shiv(staging, output, shebang)
    replace_main(output)
    output.chmod(0o755)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "sagemaker-pipeline-resource.pyz")
    parser.add_argument("--requirements", type=Path, default=HERE / "requirements.txt")
    parser.add_argument("--python", default=DEFAULT_SHEBANG, help="shebang interpreter (default: %(default)s)")
    args = parser.parse_args(argv)
    path = build(args.output.resolve(), args.requirements, args.python)
    print(f"built {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
