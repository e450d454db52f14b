"""The start-up snapshot: what the warm-up runs at image build time learned, replayed by every run after them.

A check in a fresh container spends most of its time importing (see :mod:`startup`). Three parts of that
work give the same answer on every run of one image, because its files never change:

- **Finding modules.** For each of some 300 imports, Python searches the directories of ``sys.path`` (a
  ``stat`` and a directory listing each) before it opens the module. The snapshot holds where each module
  was found; a finder placed first on ``sys.meta_path`` hands that answer to Python's own loaders
  (``SourceFileLoader``, ``ExtensionFileLoader``), which then load it as always: byte code read from its
  ``.pyc`` and checked against its source exactly as Python checks it.
- **Compiling source text.** ``dataclasses`` builds each dataclass's methods from source text it compiles
  (``exec``), ``collections.namedtuple`` each ``__new__`` (``eval``), ``typing`` each annotation written as
  a string (``compile``): some 90 compilations in a check (~8 ms). The snapshot holds the code object each
  produced, keyed by mode, the caller's ``__future__`` flags and the text; :func:`hook_compilers` hands these
  three modules a stand-in for the built-in they call that runs the recorded code object instead of
  compiling the same text again (and compiles anything else exactly as the built-in would).
- **Compiling regular expressions.** Modules compile about 100 patterns when they are imported (urllib3's
  URL parser alone, some 5 ms). The snapshot holds what the compiler produced for each (the ``_sre``
  program); a replayed pattern is built from that program by the same ``_sre.compile`` call
  ``re._compiler.compile`` ends with, so it is the same pattern object (``==`` compares the program).

:func:`record` runs at build time (the Dockerfile's warm-up runs of in, out and check, which add up into one
file) and writes the file when the process exits; :func:`replay` runs first in every later run
(``build/docker/launcher.py``). A snapshot is used only for the interpreter that wrote it (version, build,
``sys.path``, byte-code cache tag, ``_sre`` magic) and only while every directory it found a module in is
unchanged (its modification time in whole seconds, so that a layer format keeping no finer times cannot
break it; unverified: no registry here to push an image through); otherwise it is ignored and Python
imports as it always does. A module, pattern or source the snapshot does not hold goes the usual way too:
the snapshot only ever saves work.

``tests/test_snapshot.py`` checks each guard, that a replayed run answers byte for byte as a plain one,
and that the stand-ins compile as the built-ins do; :func:`verify` (run by the build and by the image
tests) fails loudly when the running CPython replays a pattern or a source differently from how it
compiles it.
"""

from __future__ import annotations

# Only what the interpreter has loaded already or what costs nothing (built-in modules, importlib's frozen
# machinery): everything else is imported after the finder is in place, so that it profits from it.
import _sre  # type: ignore[import-not-found]
import atexit
import builtins
import importlib.machinery
import marshal
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import CodeType
    from typing import Any

FORMAT = 2
# The file next to the steps in the image (build/docker/launcher.py, Dockerfile).
FILE_NAME = "startup.snapshot"
# Set to a path (Dockerfile's warm-up): record this run into it.
RECORD_ENV = "SAGEMAKER_PIPELINE_RESOURCE_SNAPSHOT_RECORD"

# (kind, origin, the package's search locations or None)
Module = tuple[str, str, "list[str] | None"]
SOURCE, EXTENSION = "source", "extension"
DEBUG_FLAG = 128  # re.DEBUG: such a pattern prints its program when compiled, so it is never replayed
# (is a str pattern, pattern, flags) -> the arguments of _sre.compile after the pattern.
PatternKey = tuple[bool, "str | bytes", int]
Program = tuple[int, list[int], int, dict[str, int], tuple["str | None", ...]]
# (mode, the caller's __future__ flags, source text) -> the code object compile() made of it.
SourceKey = tuple[str, int, str]
# The standard library's modules that compile source text at run time, and the built-in each calls for it.
SOURCE_COMPILERS = (("dataclasses", "exec"), ("collections", "eval"), ("typing", "compile"))
# The __future__ flags a compilation inherits from its caller (CPython's PyCF_MASK; tests/test_snapshot.py
# checks it against the __future__ module).
FUTURE_FLAGS = 0x1FE0000


def interpreter() -> dict[str, Any]:
    """What must match for a snapshot to apply: this interpreter, its flags' view of paths, its formats."""
    return {
        "format": FORMAT,
        "version": sys.version,
        "executable": os.path.realpath(sys.executable),
        "path": list(sys.path),
        "bytecode": sys.implementation.cache_tag,
        "sre": (getattr(_sre, "MAGIC", None), getattr(_sre, "CODESIZE", None)),
    }


def _regex_compiler() -> Any:
    """``re._compiler`` (CPython 3.11+) if it has what the replay needs, else None (patterns compile as usual)."""
    import re  # noqa: PLC0415 - after the finder is in place (see the imports above)

    compiler: Any = getattr(re, "_compiler", None)
    if compiler is None or not callable(getattr(compiler, "compile", None)) or not hasattr(compiler, "_sre"):
        return None
    return compiler


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


def _patterns_replayed(compiler: Any, programs: Mapping[PatternKey, Program]) -> Callable[..., Any]:
    compile_ = compiler.compile
    sre_compile = compiler._sre.compile

    def replayed(pattern: Any, flags: Any = 0) -> Any:
        if isinstance(pattern, (str, bytes)):
            program = programs.get((isinstance(pattern, str), pattern, int(flags)))
            if program is not None:
                return sre_compile(pattern, *program)
        return compile_(pattern, flags)

    replayed.__wrapped__ = compile_  # type: ignore[attr-defined]
    return replayed


def replay(path: str, off: frozenset[str] = frozenset()) -> str:
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
        if "snapshot-modules" not in off:
            sys.meta_path.insert(0, Finder(snapshot["modules"]))
        compiler = _regex_compiler()
        if compiler is not None and snapshot["patterns"] and "snapshot-patterns" not in off:
            compiler.compile = _patterns_replayed(compiler, snapshot["patterns"])
        if "snapshot-code" not in off:
            _sources.update(snapshot["sources"])
        return (
            f"used: {len(snapshot['modules'])} module locations, {len(snapshot['patterns'])} patterns, "
            f"{len(snapshot['sources'])} compiled sources"
        )
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
    """Record this run: patterns as they are compiled, and at exit where each module was found, into ``path``
    (added to what earlier recording runs wrote there)."""
    global _recording  # noqa: PLW0603 - one recording per process, read by hook_compilers
    _recording = True
    identity = interpreter()
    compiler = _regex_compiler()
    programs: dict[PatternKey, Program] = {}
    if compiler is not None:
        compile_, sre = compiler.compile, compiler._sre
        flags_now: list[int] = [0]

        class Recorder:
            """Stands in for ``_sre`` inside ``re._compiler`` while recording: keeps each program it is given."""

            def __getattr__(self, name: str) -> Any:
                return getattr(sre, name)

            def compile(self, pattern: Any, flags: int, code: list[int], *rest: Any) -> Any:
                groups, groupindex, indexgroup = rest
                if isinstance(pattern, (str, bytes)) and not flags_now[-1] & DEBUG_FLAG:
                    programs[(isinstance(pattern, str), pattern, flags_now[-1])] = (
                        int(flags), [int(op) for op in code], int(groups), dict(groupindex), tuple(indexgroup)
                    )  # fmt: skip
                return sre.compile(pattern, flags, code, *rest)

        def recording(pattern: Any, flags: Any = 0) -> Any:
            flags_now.append(int(flags))
            try:
                return compile_(pattern, flags)
            finally:
                flags_now.pop()

        compiler._sre = Recorder()
        compiler.compile = recording

    def write() -> None:
        if compiler is not None:
            compiler._sre, compiler.compile = sre, compile_
        modules = _modules()
        directories = {os.path.dirname(origin) for _, origin, _ in modules.values()}
        for _, _, locations in modules.values():
            directories.update(locations or ())
        directories.update(entry for entry in sys.path if entry)
        sources = dict(_recorded)
        snapshot = {"interpreter": identity, "modules": modules, "patterns": programs, "sources": sources}
        earlier = _earlier(path, identity)
        if earlier is not None:  # the warm-ups of several steps add up into one snapshot
            modules.update({k: v for k, v in earlier["modules"].items() if k not in modules})
            programs.update({k: v for k, v in earlier["patterns"].items() if k not in programs})
            sources.update({k: v for k, v in earlier["sources"].items() if k not in sources})
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


# Filled by replay (the recorded code objects) or, while recording, by the stand-ins of hook_compilers.
_sources: dict[SourceKey, CodeType] = {}
_recorded: dict[SourceKey, CodeType] = {}
_recording = False
# The keys of the sources replayed in this process, in order (for the tests).
replayed_sources: list[SourceKey] = []


def _code_for(mode: str, source: object, flags: int, depth: int) -> object:
    """What to hand the built-in instead of ``source``: the code object compiled from it, as the built-in
    would compile it for its caller (``depth`` frames up), recorded or replayed when it is text."""
    if type(source) is not str:
        return source
    inherited = (sys._getframe(depth).f_code.co_flags & FUTURE_FLAGS) | flags
    key = (mode, inherited, source)
    code = _sources.get(key)
    if code is not None:
        replayed_sources.append(key)
    else:
        code = builtins.compile(source, "<string>", mode, inherited, dont_inherit=True)
        if _recording:
            _recorded[key] = code
    return code


# The stand-ins: each runs what the built-in would, on the code object of the text rather than the text.
def _exec(source: object, /, *args: Any, **kwargs: Any) -> None:
    builtins.exec(_code_for("exec", source, 0, 2), *args, **kwargs)  # type: ignore[arg-type]  # noqa: S102


def _eval(source: object, /, *args: Any, **kwargs: Any) -> Any:
    return builtins.eval(_code_for("eval", source, 0, 2), *args, **kwargs)  # type: ignore[arg-type]  # noqa: S307


def _compile(source: Any, filename: str, mode: str, flags: int = 0, dont_inherit: bool = False, **rest: Any) -> Any:
    if type(source) is str and filename == "<string>" and not dont_inherit and not rest:
        return _code_for(mode, source, flags, 2)
    inherited = 0 if dont_inherit else sys._getframe(1).f_code.co_flags & FUTURE_FLAGS
    return builtins.compile(source, filename, mode, flags | inherited, dont_inherit=True, **rest)


STAND_INS: dict[str, Callable[..., Any]] = {"exec": _exec, "eval": _eval, "compile": _compile}


def hook_compilers() -> list[str]:
    """Give dataclasses, collections and typing the stand-ins for exec, eval and compile (as names in their
    own namespace, which Python looks up before the built-ins), when a snapshot is replayed or recorded.
    Called by the launcher after startup's deferrals are in place (dataclasses imports inspect)."""
    if not _sources and not _recording:
        return []
    import importlib  # noqa: PLC0415 - only here: nothing imported before the finder (see the imports above)

    hooked = []
    for name, builtin in SOURCE_COMPILERS:
        module = importlib.import_module(name)
        setattr(module, builtin, STAND_INS[builtin])
        hooked.append(f"{name}.{builtin}")
    return hooked


def verify(path: str) -> str:
    """The build's check of a snapshot it just recorded (Dockerfile): every pattern, replayed, equals the
    pattern compiled as usual, and every module is where it says. Raises ValueError otherwise."""
    with open(path, "rb") as file:
        snapshot = marshal.loads(file.read())
    compiler = _regex_compiler()
    patterns: Mapping[PatternKey, Program] = snapshot["patterns"]
    for (_, pattern, flags), program in patterns.items():
        if compiler._sre.compile(pattern, *program) != compiler.compile(pattern, flags):
            raise ValueError(f"the pattern {pattern!r} (flags {flags}) replays differently from how it compiles")
    modules: Mapping[str, Module] = snapshot["modules"]
    for name, (_, origin, _) in modules.items():
        if not os.path.isfile(origin):
            raise ValueError(f"the module {name} is not at {origin}")
    sources: Mapping[SourceKey, CodeType] = snapshot["sources"]
    for (mode, flags, text), code in sources.items():
        if builtins.compile(text, "<string>", mode, flags, dont_inherit=True) != code:
            raise ValueError(f"the source {text[:60]!r} ({mode}) replays differently from how it compiles")
    return f"{len(patterns)} patterns, {len(modules)} module locations and {len(sources)} compiled sources verified"


# What :func:`start` did in this process (shown in debug mode): None when nothing called it (the zipapp).
status: str | None = None


def start(path: str, environ: Mapping[str, str] = os.environ) -> str:
    """The launcher's first call: record into ``$SAGEMAKER_PIPELINE_RESOURCE_SNAPSHOT_RECORD`` if set, else
    replay ``path``."""
    global status  # noqa: PLW0603 - one value per process, read by the dispatcher in debug mode
    target = environ.get(RECORD_ENV)
    if target:
        record(target)
        status = f"recording into {target}"
    else:
        # startup.OFF_ENV (not imported from there: startup's imports must come after the finder).
        status = replay(path, frozenset(environ.get("SAGEMAKER_PIPELINE_RESOURCE_STARTUP_OFF", "").split(",")))
    return status
