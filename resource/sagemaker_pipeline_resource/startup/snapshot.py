"""The start-up snapshot: where each module was found, recorded at image build time and replayed by every run.

A check in a fresh container spends most of its time importing (see :mod:`startup`). For each of some 300
imports, Python searches the directories of ``sys.path`` (a ``stat`` and a directory listing each) before it
opens the module; in an image whose files never change the answer is the same on every run. The snapshot
holds where each module was found; a finder placed first on ``sys.meta_path`` hands that answer to Python's
own loaders (``SourceFileLoader``, ``ExtensionFileLoader``), which then load it as always: byte code read from
its ``.pyc`` and checked against its source exactly as Python checks it. Public import-system API only
(``importlib.machinery``, ``sys.meta_path``, ``marshal``).

:func:`record` runs at build time (the Dockerfile's warm-up runs of in, out and check, which add up into one
file) and writes the file when the process exits; :func:`replay` runs first in every later run
(``build/docker/launcher.py``). A snapshot is used only for the interpreter that wrote it (version, build,
``sys.path``, byte-code cache tag) and only while every directory it found a module in is unchanged (its
modification time in whole seconds, so that a layer format keeping no finer times cannot break it;
unverified: no registry here to push an image through); otherwise it is ignored and Python imports as it
always does. A module the snapshot does not hold is found the usual way too: the snapshot only saves work.

``tests/test_snapshot.py`` checks each guard and that a replayed run answers byte for byte as a plain one;
:func:`verify` (run by the build and by the image tests) fails loudly when a module is not where it says.
"""

from __future__ import annotations

# Only what the interpreter has loaded already or what costs nothing (built-in modules, importlib's frozen
# machinery): everything else is imported after the finder is in place, so that it profits from it.
import atexit
import importlib.machinery
import marshal
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FORMAT = 3
# The file next to the steps in the image (build/docker/launcher.py, Dockerfile).
FILE_NAME = "startup.snapshot"
# Set to a path (Dockerfile's warm-up): record this run into it.
RECORD_ENV = "SAGEMAKER_PIPELINE_RESOURCE_SNAPSHOT_RECORD"
# startup.OFF_ENV's name for this measure (not imported from there: startup's imports come after the finder).
OFF_ENV, MEASURE = "SAGEMAKER_PIPELINE_RESOURCE_STARTUP_OFF", "snapshot-modules"

# (kind, origin, the package's search locations or None)
Module = tuple[str, str, "list[str] | None"]
SOURCE, EXTENSION = "source", "extension"


def interpreter() -> dict[str, Any]:
    """What must match for a snapshot to apply: this interpreter, its flags' view of paths, its formats."""
    return {
        "format": FORMAT,
        "version": sys.version,
        "executable": os.path.realpath(sys.executable),
        "path": list(sys.path),
        "bytecode": sys.implementation.cache_tag,
    }


def _directory_times(directories: set[str]) -> dict[str, int]:
    times = {}
    for directory in directories:
        try:
            times[directory] = int(os.stat(directory).st_mtime)
        except OSError:
            times[directory] = -1
    return times


class Finder:
    """First on ``sys.meta_path``: the recorded location of a module, handed to Python's own loader."""

    def __init__(self, modules: Mapping[str, Module]) -> None:
        self.modules = modules
        self.found = 0

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        entry = self.modules.get(name)
        if entry is None:
            return None
        kind, origin, locations = entry
        loader: importlib.machinery.SourceFileLoader | importlib.machinery.ExtensionFileLoader
        if kind == SOURCE:
            loader = importlib.machinery.SourceFileLoader(name, origin)
        else:
            loader = importlib.machinery.ExtensionFileLoader(name, origin)
        # As importlib.util.spec_from_file_location makes it (which would import importlib.util from here).
        spec = importlib.machinery.ModuleSpec(name, loader, origin=origin, is_package=locations is not None)
        spec.has_location = True  # so __file__ and __cached__ are set, the latter derived from the origin
        if locations is not None:
            spec.submodule_search_locations = list(locations)
        self.found += 1
        return spec

    def invalidate_caches(self) -> None:
        """Nothing cached here changes while the image does not."""


def replay(path: str) -> str:
    """Use the snapshot at ``path`` if it applies to this run; say what was done (or why not), never raise."""
    try:
        with open(path, "rb") as file:
            # One read, then loads: marshal.load(file) would read the file in thousands of small calls.
            snapshot = marshal.loads(file.read())
        if not isinstance(snapshot, dict) or snapshot.get("interpreter") != interpreter():
            return "not used: written by another interpreter or format"
        times = snapshot["directories"]
        if _directory_times(set(times)) != times:
            return "not used: a directory it found modules in has changed since"
        sys.meta_path.insert(0, Finder(snapshot["modules"]))
        return f"used: {len(snapshot['modules'])} module locations"
    except Exception as error:
        return f"not used: {type(error).__name__}: {error}"


def _modules() -> dict[str, Module]:
    """Where each module imported so far was found, for those Python's own file loaders loaded."""
    found: dict[str, Module] = {}
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if spec is None or not isinstance(origin, str) or not os.path.isabs(origin) or spec.name != name:
            continue
        locations = spec.submodule_search_locations
        if type(spec.loader) is importlib.machinery.SourceFileLoader:
            found[name] = (SOURCE, origin, None if locations is None else list(locations))
        elif type(spec.loader) is importlib.machinery.ExtensionFileLoader:
            found[name] = (EXTENSION, origin, None)
    return found


def _earlier(path: str, identity: dict[str, Any]) -> dict[str, Any] | None:
    """The snapshot an earlier recording run of this interpreter wrote into ``path``, if any."""
    try:
        with open(path, "rb") as file:
            earlier = marshal.loads(file.read())
    except FileNotFoundError:
        return None
    if not isinstance(earlier, dict) or earlier.get("interpreter") != identity:
        raise ValueError(f"{path} holds a snapshot of another interpreter: delete it first")
    return earlier


def record(path: str) -> None:
    """Record at exit where each module of this run was found, into ``path`` (added to what earlier
    recording runs wrote there)."""
    identity = interpreter()

    def write() -> None:
        modules = _modules()
        directories = {os.path.dirname(origin) for _, origin, _ in modules.values()}
        for _, _, locations in modules.values():
            directories.update(locations or ())
        directories.update(entry for entry in sys.path if entry)
        snapshot = {"interpreter": identity, "modules": modules}
        earlier = _earlier(path, identity)
        if earlier is not None:  # the warm-ups of several steps add up into one snapshot
            modules.update({k: v for k, v in earlier["modules"].items() if k not in modules})
            directories.update(earlier["directories"])
        # Written in place, then the times taken: creating the file changes its directory's time.
        with open(path, "wb") as file:
            marshal.dump(snapshot, file)
        snapshot["directories"] = _directory_times(directories)
        with open(path, "r+b") as file:
            marshal.dump(snapshot, file)
            file.truncate()

    def write_or_say_why() -> None:
        try:
            write()
        except (OSError, ValueError) as error:  # the build's verify step then fails, for want of the file
            print(f"warning: could not record the start-up snapshot into {path}: {error}", file=sys.stderr)

    atexit.register(write_or_say_why)


def verify(path: str) -> str:
    """The build's check of a snapshot it just recorded (Dockerfile): every module is where it says.
    Raises ValueError otherwise."""
    with open(path, "rb") as file:
        snapshot = marshal.loads(file.read())
    modules: Mapping[str, Module] = snapshot["modules"]
    for name, (_, origin, _) in modules.items():
        if not os.path.isfile(origin):
            raise ValueError(f"the module {name} is not at {origin}")
    return f"{len(modules)} module locations verified"


# What :func:`start` did in this process (shown in debug mode): None when nothing called it (the zipapp).
status: str | None = None


def start(path: str, environ: Mapping[str, str] = os.environ) -> str:
    """The launcher's first call: record into ``$SAGEMAKER_PIPELINE_RESOURCE_SNAPSHOT_RECORD`` if set, else
    replay ``path`` (unless the benchmarking switch ``OFF_ENV`` names this measure)."""
    global status  # noqa: PLW0603 - one value per process, read by the dispatcher in debug mode
    target = environ.get(RECORD_ENV)
    if target:
        record(target)
        status = f"recording into {target}"
    elif MEASURE in environ.get(OFF_ENV, "").split(","):
        status = f"not used: switched off by {OFF_ENV}"
    else:
        status = replay(path)
    return status
