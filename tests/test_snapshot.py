"""The start-up snapshot (resource/snapshot.py), on a copy of the image's layout without Docker.

Each test copies ``launcher_dir`` (the zipapp's site-packages unpacked, the image's launcher, check/in/out
linked to it), records a snapshot there with a warm-up check, as the Dockerfile does, and runs the real
launcher with ``python -I -S``, as the image's shebang does. The image tests check the same in the image.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sagemaker_pipeline_resource.startup import snapshot
from tests.conftest import clean_env

DEBUG = {"SAGEMAKER_PIPELINE_RESOURCE_DEBUG": "1"}


@pytest.fixture
def layout(launcher_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "opt-resource"
    shutil.copytree(launcher_dir, copy, symlinks=True)
    return copy


def launch(layout: Path, step: str, payload: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-I", "-S", str(layout / step)],
        input=json.dumps(payload),
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def record(layout: Path, payload: dict[str, Any]) -> Path:
    """The Dockerfile's warm-up, here against the emulator: a check that records the snapshot."""
    path = layout / snapshot.FILE_NAME
    done = launch(layout, "check", payload, {snapshot.RECORD_ENV: str(path)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert path.stat().st_size > 0
    return path


def status_of(stderr: str) -> str:
    found = re.findall(r"^start-up snapshot: (.*)$", stderr, flags=re.MULTILINE)
    assert len(found) == 1, stderr[-3000:]
    return str(found[0])


@pytest.fixture
def payload(emulator: Any, pipeline: str, source: dict[str, Any]) -> dict[str, Any]:
    emulator.seed_executions(pipeline, 3)
    return {"source": source}


def test_a_replayed_check_answers_as_a_plain_one_and_uses_the_snapshot(
    layout: Path, payload: dict[str, Any], run: Any
) -> None:
    plain = launch(layout, "check", payload, DEBUG)
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert status_of(plain.stderr) == "not used: FileNotFoundError: [Errno 2] No such file or directory: " + repr(
        str(layout / snapshot.FILE_NAME)
    )
    record(layout, payload)
    replayed = launch(layout, "check", payload, DEBUG)
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    assert re.fullmatch(r"used: \d{3} module locations", status_of(replayed.stderr))
    # Byte for byte the same answer as without a snapshot, and as the zipapp's.
    assert replayed.stdout == plain.stdout == run("check", payload).stdout
    assert json.loads(replayed.stdout)


def test_what_is_recorded(layout: Path, payload: dict[str, Any]) -> None:
    with record(layout, payload).open("rb") as file:
        recorded = marshal.load(file)
    assert recorded["interpreter"]["path"][-1] == str(layout / "site-packages")
    modules = recorded["modules"]
    assert modules["botocore.client"] == (
        snapshot.SOURCE,
        str(layout / "site-packages" / "botocore" / "client.py"),
        None,
    )
    kind, _, locations = modules["botocore"]
    assert (kind, locations) == (snapshot.SOURCE, [str(layout / "site-packages" / "botocore")])
    assert any(kind == snapshot.EXTENSION for kind, _, _ in modules.values()), "extension modules (e.g. _ssl)"
    # Neither the steps a check does not run nor frozen or built-in modules.
    assert "sagemaker_pipeline_resource.put.step" not in modules
    assert "sys" not in modules and "_frozen_importlib" not in modules
    assert set(recorded) == {"interpreter", "modules", "directories"}
    assert str(layout / "site-packages") in recorded["directories"]
    assert str(layout / "site-packages" / "botocore") in recorded["directories"]


def test_verify_checks_that_every_module_is_where_it_says(layout: Path, payload: dict[str, Any]) -> None:
    path = record(layout, payload)
    assert re.fullmatch(r"\d{3} module locations verified", snapshot.verify(str(path)))
    (layout / "site-packages" / "botocore" / "client.py").unlink()
    with pytest.raises(ValueError, match=r"the module botocore\.client is not at "):
        snapshot.verify(str(path))


def test_the_finder_hands_each_module_to_pythons_own_loaders(layout: Path, payload: dict[str, Any]) -> None:
    record(layout, payload)
    code = f"""
import importlib.machinery, json, sys
sys.path.append({str(layout / "site-packages")!r})
from sagemaker_pipeline_resource.startup import snapshot
print(snapshot.replay({str(layout / snapshot.FILE_NAME)!r}))
import botocore.client, _ssl
finder = sys.meta_path[0]
print(json.dumps([type(finder).__name__, finder.found,
    type(botocore.client.__spec__.loader).__name__, botocore.client.__file__,
    type(_ssl.__spec__.loader).__name__, botocore.__path__]))
"""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], env=clean_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    status, found = done.stdout.splitlines()
    assert status.startswith("used: "), status
    name, count, loader, file, extension_loader, path = json.loads(found)
    assert (name, loader, extension_loader) == ("Finder", "SourceFileLoader", "ExtensionFileLoader")
    assert count > 50
    assert file == str(layout / "site-packages" / "botocore" / "client.py")
    assert path == [str(layout / "site-packages" / "botocore")]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("new_module", "a directory it found modules in has changed since"),
        ("other_interpreter", "written by another interpreter or format"),
        ("corrupt", "Error: "),
        ("not_a_snapshot", "written by another interpreter or format"),
    ],
)
def test_a_snapshot_that_does_not_apply_is_ignored(
    layout: Path, payload: dict[str, Any], change: str, reason: str
) -> None:
    path = record(layout, payload)
    expected = launch(layout, "check", payload).stdout
    if change == "new_module":
        # A derived image that adds or upgrades a module: its directory's time moves (to the second).
        (layout / "site-packages" / "botocore" / "client_extra.py").write_text("")
        os.utime(layout / "site-packages" / "botocore", (1, 1))
    elif change == "other_interpreter":
        with path.open("rb") as file:
            recorded = marshal.load(file)
        recorded["interpreter"]["version"] += " (another build)"
        with path.open("wb") as file:
            marshal.dump(recorded, file)
    elif change == "corrupt":
        path.write_bytes(path.read_bytes()[:100])
    else:
        with path.open("wb") as file:
            marshal.dump(["not", "a", "snapshot"], file)
    done = launch(layout, "check", payload, DEBUG)
    assert done.returncode == 0, done.stderr[-3000:]
    status = status_of(done.stderr)
    assert status.startswith("not used: ") and reason in status, status
    assert done.stdout == expected


def test_a_moved_layout_does_not_use_the_snapshot_of_the_old_place(
    layout: Path, payload: dict[str, Any], tmp_path: Path
) -> None:
    record(layout, payload)
    moved = tmp_path / "elsewhere"
    shutil.copytree(layout, moved, symlinks=True)
    done = launch(moved, "check", payload, DEBUG)
    assert done.returncode == 0, done.stderr[-3000:]
    assert status_of(done.stderr) == "not used: written by another interpreter or format"


def test_the_benchmarking_switch_leaves_the_snapshot_unused(layout: Path, payload: dict[str, Any]) -> None:
    """``make bench`` measures the check without the finder: SAGEMAKER_PIPELINE_RESOURCE_STARTUP_OFF names it."""
    record(layout, payload)
    expected = launch(layout, "check", payload).stdout
    for off in ("snapshot-modules", "gc,snapshot-modules"):
        done = launch(layout, "check", payload, {**DEBUG, snapshot.OFF_ENV: off})
        assert done.returncode == 0, done.stderr[-3000:]
        assert status_of(done.stderr) == f"not used: switched off by {snapshot.OFF_ENV}"
        assert done.stdout == expected
    other = launch(layout, "check", payload, {**DEBUG, snapshot.OFF_ENV: "deferrals"})
    assert status_of(other.stderr).startswith("used: ")


def test_in_and_out_replay_the_check_snapshot_too(layout: Path, payload: dict[str, Any], tmp_path: Path) -> None:
    record(layout, payload)
    version = json.loads(launch(layout, "check", payload).stdout)[-1]
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(layout / "in"), str(tmp_path / "get")],
        input=json.dumps({**payload, "version": version}),
        env=clean_env(DEBUG),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert status_of(done.stderr).startswith("used: ")
    assert json.loads(done.stdout)["version"] == version


def test_a_recording_that_cannot_be_written_says_so_in_one_line(
    layout: Path, payload: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "missing-directory" / snapshot.FILE_NAME
    done = launch(layout, "check", payload, {snapshot.RECORD_ENV: str(target)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)
    assert f"warning: could not record the start-up snapshot into {target}: " in done.stderr
    assert "Traceback" not in done.stderr
    assert not target.exists()
