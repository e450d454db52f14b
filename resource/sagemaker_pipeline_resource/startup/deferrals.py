"""Start-up cost: modules a run never uses are not imported (a check runs in a fresh container every minute).

Most of a check's time is Python importing botocore and urllib3, and a part of that is code no step runs:

- ``botocore.docs``: botocore.client builds every client method's docstring from
  ``botocore.docs.docstring`` and botocore.handlers imports ``botocore.docs.utils``; either import runs the
  package's ``__init__``, which loads the whole documentation generator (``botocore.docs.service`` and
  with it ``html.parser`` and ``botocore.docs.bcdoc``). A resource never shows a docstring.
- ``importlib.metadata``: urllib3 imports ``version`` from it at start-up only to check the version of ``h2``
  if HTTP/2 is ever switched on (it never is here); importing it loads ``zipfile``, ``csv`` and more.
- eight more, each with its reason in :data:`DEFERRED`: modules the standard library, botocore or dateutil
  import at start-up for something a check never does (print a traceback, read ``~/.aws/config``, parse a
  timestamp given as text, ...).

:func:`install` puts a *deferred* module in ``sys.modules`` for each of them, before anything imports
them (the dispatcher calls it before its own imports; the image's launcher even earlier). A deferred module
is the real module object (real spec, path and package) whose code has not run yet. The first time
anything reads an attribute it does not have, its real code runs into it, exactly as a normal import would
have, and the attribute is answered from it. Only the names listed in
:data:`DEFERRED` are answered without running it: functions, as a stand-in that runs the real code at its
first call, and botocore's docstring classes, whose docstrings become a one-line note (the pruned models
carry no documentation anyway, see ``build/prune.py``). Anything else still works, at the old cost.

:func:`loading` imports a step's modules with the garbage collector paused: imports allocate some 100,000
objects that live as long as the process, and the collector's passes over them (and over them again at
exit) find nothing to free. They are then frozen (:func:`gc.freeze`), so later passes skip them.

Everything here uses public, documented APIs (module ``__getattr__``, ``importlib.util``, :mod:`gc`). A
start-up measure that needs private CPython internals is kept only if it saves at least 10% of an idle
check's CPU on its own; ``make bench`` switches each measure off in turn (:data:`OFF_ENV`) and prints what
it saves.

``tests/test_startup.py`` fails loudly when the locked libraries change what this relies on: it reads
their sources for every name they take from a deferred module and checks that each is listed here, and it
runs a check through the image's launcher and asks, at exit, that no deferred module's code has run (the
image tests ask the same in the image's own interpreter).
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import sys
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from types import ModuleType

# A benchmarking switch, not a setting: measures named here (comma-separated, from MEASURES) are switched off,
# so that `make bench` can show what each saves. Any other value, or none, leaves every measure on; it only
# ever makes a run slower, never different.
OFF_ENV = "SAGEMAKER_PIPELINE_RESOURCE_STARTUP_OFF"
# The measures it can switch off (see the module docstring and build/docker/launcher.py).
MEASURES = ("snapshot-modules", "deferrals", "gc")


def switched_off(measure: str, environ: Mapping[str, str] = os.environ) -> bool:
    """True when the benchmarking switch :data:`OFF_ENV` names ``measure``."""
    return measure in environ.get(OFF_ENV, "").split(",")


DOCSTRING_NOTE = (
    "Documentation is not loaded by sagemaker-pipeline-resource (start-up time): see botocore's or boto3's "
    "documentation for this method."
)


def _docstring(*_args: Any, **_kwargs: Any) -> str:
    """Stands in for botocore's ``*Docstring`` classes, whose instances only become a ``__doc__``."""
    return DOCSTRING_NOTE


class Deferral(NamedTuple):
    """One module whose code runs only when something uses it.

    A named tuple, not a dataclass: this module is imported before the deferrals are in place, and
    ``dataclasses`` imports ``inspect``, which imports two of the deferred modules.
    """

    module: str
    # Functions handed out without running the module; the module's code runs at their first call.
    functions: frozenset[str] = frozenset()
    # Names answered with a substitute, without ever running the module.
    substitutes: Mapping[str, Callable[..., Any]] = MappingProxyType({})
    why: str = ""


DEFERRED: tuple[Deferral, ...] = (
    # The standard library's first: importing a botocore module below (to find its spec) imports logging.
    Deferral("traceback", why="logging imports it to print an exception; the resource prints one only in debug mode"),
    Deferral("locale", why="calendar (through email.utils) imports it for its localised calendars"),
    Deferral("tokenize", why="inspect imports it to find a function's source, which no step shows"),
    Deferral("configparser", why="botocore.configloader parses ~/.aws/config with it, only when that file exists"),
    Deferral("shlex", why="botocore.compat and botocore.configloader split credential_process commands with it"),
    Deferral(
        "dateutil.parser",
        functions=frozenset({"parse"}),
        why="botocore parses timestamps given as text with it (STS's, SSO's); SageMaker's JSON gives numbers",
    ),
    Deferral("botocore.monitoring", why="botocore.session builds client-side monitoring with it, only when enabled"),
    Deferral(
        "botocore.retries.adaptive",
        why="botocore.client imports it for retry_mode adaptive only (the default is standard)",
    ),
    # The package first: importing a submodule (botocore.docs.utils) needs only its __path__.
    Deferral("botocore.docs", why="the documentation generator (html.parser, bcdoc) in the package's __init__"),
    Deferral(
        "botocore.docs.docstring",
        substitutes={
            "ClientMethodDocstring": _docstring,
            "PaginatorDocstring": _docstring,
            "WaiterDocstring": _docstring,
        },
        why="botocore.client and botocore.waiter only assign these to __doc__",
    ),
    Deferral(
        "importlib.metadata",
        functions=frozenset({"version"}),
        why="urllib3.http2 imports version() to check h2's version when HTTP/2 is switched on",
    ),
)


def _run_real_code(module: ModuleType) -> None:
    """Run the module's own code into it, once (what the import would have done)."""
    if module.__dict__.pop("__getattr__", None) is None:
        return
    spec = module.__spec__
    if spec is None or spec.loader is None:  # pragma: no cover - _defer only makes modules that have both
        raise ImportError(f"cannot load the deferred module {module.__name__}")
    spec.loader.exec_module(module)


def _forwarder(module: ModuleType, name: str) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        _run_real_code(module)
        return getattr(module, name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"{module.__name__}.{name}, loaded at its first call (see {__name__})."
    return forward


def _defer(deferral: Deferral) -> ModuleType | None:
    if deferral.module in sys.modules:
        return None  # imported already: there is nothing to save, and nothing may change under its users
    spec = importlib.util.find_spec(deferral.module)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return None  # not there (or not a normal module): leave the import to Python
    module = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> Any:
        if name in deferral.substitutes:
            return deferral.substitutes[name]
        if name in deferral.functions:
            return _forwarder(module, name)
        if name == "__path__":
            # The import system asks every module this on `from module import name`: only a package has
            # one, and module_from_spec has set it then, so the answer is known without running the code.
            raise AttributeError(name)
        _run_real_code(module)
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {deferral.module!r} has no attribute {name!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[deferral.module] = module
    parent, _, child = deferral.module.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def install(deferrals: tuple[Deferral, ...] = DEFERRED) -> list[str]:
    """Defer the modules in ``deferrals`` that nothing has imported yet; return their names."""
    if switched_off("deferrals"):
        return []
    return [deferral.module for deferral in deferrals if _defer(deferral) is not None]


def is_deferred(name: str) -> bool:
    """True while ``name`` is a deferred module whose own code has not run."""
    module = sys.modules.get(name)
    return module is not None and "__getattr__" in module.__dict__ and any(d.module == name for d in DEFERRED)


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Import a step's modules inside this: no collection during the imports, and what they made is frozen."""
    if switched_off("gc"):
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
