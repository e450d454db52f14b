"""Build the resource's single-file zipapp with shiv: the one packaging recipe.

``make pyz`` and the Dockerfile's builder stage both run this script, so the .pyz on a laptop and the one
in the image are made the same way from the same hash-locked requirements.

Steps:
1. ``pip install --require-hashes --no-deps --target STAGING -r build/requirements.txt``: the runtime
   dependencies, exactly as locked, and nothing that pip might resolve on its own.
2. Copy ``resource/`` into the staging tree as ``sagemaker_pipeline_resource`` (the import name; the folder
   is not called ``resource`` inside the zipapp because that would shadow the standard library's module).
3. Prune what the resource never uses (see ``prune.py``): botocore's models trimmed to the operations the
   resource calls, boto3 and s3transfer, caches. A ~0.9 MB zipapp instead of ~18 MB.
4. ``shiv --site-packages STAGING --reproducible``: same inputs, same bytes (timestamps come from
   SOURCE_DATE_EPOCH, a fixed value unless the caller sets one).
5. Finish the archive for a fast start (:func:`finish_archive`): shiv's ``__main__.py`` is replaced by a
   launcher that, when this build's site-packages is already unpacked (always, in the image; from the
   second run on, elsewhere), puts it on ``sys.path`` and calls the entry point directly. Anything else
   (the first run, which unpacks; ``SHIV_*`` overrides such as ``SHIV_INTERPRETER``) goes through shiv's
   own bootstrap, unchanged. The launcher and the bootstrap are also stored byte-compiled (zipimport
   cannot cache byte code, so they would be compiled on every run otherwise).

Start-up flags (the shebang): ``-I`` (isolated: no PYTHON* variables, no user site-packages, no script
directory on sys.path) and ``-S`` (no ``site``: the system's site-packages and its ``.pth`` hooks stay out,
so the zipapp imports only what it carries, and ``site`` costs nothing). SHIV_* variables still work.
"""

from __future__ import annotations

import argparse
import io
import json
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

ENTRY_POINT = "sagemaker_pipeline_resource.cli:main"
PACKAGE = "sagemaker_pipeline_resource"
# 2024-01-01T00:00:00Z: any fixed value makes the build reproducible; releases may pass the tag's date.
DEFAULT_SOURCE_DATE_EPOCH = "1704067200"
# `-I`: ignore PYTHON* variables and the user's site-packages; `-S`: no site module, so neither the system's
# site-packages nor its .pth files are seen. The zipapp runs only what it carries (see the module docstring).
DEFAULT_SHEBANG = "/usr/bin/env -S python3 -IS"

# The zipapp's __main__: a fast path over shiv's bootstrap. Only os and sys (both already imported by the
# interpreter), and the same site-packages directory as shiv's bootstrap.cache_path() computes.
LAUNCHER = '''\
# sagemaker-pipeline-resource launcher, written by build/build_pyz.py over shiv's __main__.py.
# Fast path: this build's site-packages is unpacked already (in the image it is unpacked at build time), so
# put it on sys.path and call the entry point, without shiv's bootstrap and its imports. Anything else (the
# first run, SHIV_* overrides) runs shiv's bootstrap as usual.
import os
import sys

BUILD_ID = {build_id!r}


def site_packages():
    for key in os.environ:
        if key.startswith("SHIV_") and key != "SHIV_ROOT":
            return None
    root = os.environ.get("SHIV_ROOT") or "~/.shiv"
    if root.startswith("$"):
        return None
    name = os.path.basename(os.path.realpath(sys.argv[0]))
    path = os.path.join(os.path.expanduser(root), name + "_" + BUILD_ID, "site-packages")
    return path if os.path.isdir(path) else None


def main():
    path = site_packages()
    if path is None:
        import _bootstrap

        _bootstrap.bootstrap()
        return
    index = len(sys.path)
    for position, entry in enumerate(sys.path):
        if os.path.basename(entry) in ("site-packages", "dist-packages"):
            index = position
            break
    sys.path.insert(index, path)
    from {module} import {function} as entry_point

    sys.exit(entry_point())


main()
'''


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
    """Copy the resource's own code in under its import name, without caches."""
    shutil.copytree(
        ROOT / "resource",
        staging / PACKAGE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def check_no_pth(staging: Path) -> None:
    """The launcher's fast path does not run ``.pth`` files (shiv's bootstrap does, via site.addsitedir)."""
    found = sorted(path.name for path in staging.glob("*.pth"))
    if found:
        raise SystemExit(f"build_pyz: the launcher's fast path cannot run .pth files: {', '.join(found)}")


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


def launcher_source(build_id: str, entry_point: str = ENTRY_POINT) -> str:
    module, _, function = entry_point.partition(":")
    return LAUNCHER.format(build_id=build_id, module=module, function=function)


def compile_sources(sources: dict[str, bytes]) -> dict[str, bytes]:
    """Byte-compile ``{archive name: source}`` to ``{archive name + "c": pyc}`` (unchecked-hash pycs).

    zipimport looks for ``NAME.pyc`` beside ``NAME.py``; a pyc of another Python version has another magic
    number, and zipimport then falls back to the source. Compiled in a fresh interpreter with a fixed hash
    seed, so that the bytes do not depend on this process (set constants are ordered by hash).
    """
    with tempfile.TemporaryDirectory(prefix="pyz-pyc-") as tmp:
        root = Path(tmp)
        for name, data in sources.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        code = (
            "import py_compile, sys\n"
            "root, names = sys.argv[1], sys.argv[2:]\n"
            "for name in names:\n"
            "    py_compile.compile(f'{root}/{name}', cfile=f'{root}/{name}c', dfile=name, doraise=True,\n"
            "                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)\n"
        )
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        subprocess.run([sys.executable, "-I", "-c", code, tmp, *sorted(sources)], check=True, env=env)
        return {name + "c": (root / (name + "c")).read_bytes() for name in sources}


def finish_archive(path: Path) -> None:
    """Put the fast-path launcher in place of shiv's ``__main__.py`` and add pycs for the launcher and
    shiv's bootstrap; entries keep shiv's order, timestamps and permissions (reproducible)."""
    raw = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        shebang = raw[: min(info.header_offset for info in archive.infolist())]  # header offsets are absolute
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    environment = json.loads(dict((info.filename, data) for info, data in entries)["environment.json"])
    replaced = {"__main__.py": launcher_source(environment["build_id"], environment["entry_point"]).encode()}
    sources = {
        info.filename: replaced.get(info.filename, data)
        for info, data in entries
        if info.filename == "__main__.py" or (info.filename.startswith("_bootstrap/") and info.filename.endswith(".py"))
    }
    compiled = compile_sources(sources)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(shebang)
        with zipfile.ZipFile(handle, "w") as out:
            for info, data in entries:
                out.writestr(info, replaced.get(info.filename, data))
                if info.filename + "c" in compiled:
                    pyc = zipfile.ZipInfo(info.filename + "c", date_time=info.date_time)
                    pyc.compress_type = info.compress_type
                    pyc.external_attr = info.external_attr
                    out.writestr(pyc, compiled[info.filename + "c"])
    tmp.replace(path)


def build(output: Path, requirements: Path, shebang: str) -> Path:
    """Build the zipapp at ``output`` and return its path."""
    with tempfile.TemporaryDirectory(prefix="pyz-staging-") as tmp:
        staging = Path(tmp) / "site-packages"
        install_requirements(staging, requirements)
        copy_package(staging)
        prune(staging)
        check_no_pth(staging)
        run_shiv(staging, output, shebang)
    finish_archive(output)
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
