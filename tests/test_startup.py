"""Start-up cost (resource/startup.py): what a check does not import, and the guards that keep it so.

startup.py defers modules the locked botocore and urllib3 import but a run never uses. That reaches into
what those libraries import and how they use it, so these tests fail loudly when an upgrade changes it:

- the locked libraries' sources (read from the built .pyz) take from a deferred module only the names
  startup.py answers without running it, and use botocore's docstring classes only as a ``__doc__``;
- the functions startup.py forwards are functions, and the docstring classes exist;
- a check through the built .pyz never runs the deferred code (``python -X importtime``), while a plain
  ``import botocore.session`` in the same interpreter does (so the names looked for are real ones);
- the mechanism itself: nothing runs at import, a forwarded function loads the module at its first call,
  any other attribute loads it, and a module imported already is left alone.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sagemaker_pipeline_resource.startup import deferrals as startup
from tests.conftest import clean_env, reported, shiv_python, through_the_launcher

# Modules that only the deferred code imports: none of them may show up during a check.
DEFERRED_CODE = ("botocore.docs.service", "botocore.docs.bcdoc.restdoc", "html.parser", "importlib.metadata._meta")
# Modules of the other steps: a check does not load them.
OTHER_STEPS = tuple(
    f"sagemaker_pipeline_resource.{name}"
    for name in ("get", "put", "doctor", "config.paramfile", "execution.waiting", "jsonio")
)
DEFERRALS = {deferral.module: deferral for deferral in startup.DEFERRED}
# concoursetools' helpers for testing resources: no step imports them (asserted below), so what they import
# from a deferred module costs a check nothing.
TEST_HELPERS = ("concoursetools.testing", "concoursetools.mocking")


def imported_modules(importtime_stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in importtime_stderr.splitlines() if line.startswith("import time:")}


def library_sources(pyz: Path) -> dict[str, tuple[ast.Module, bool]]:
    """Every module of the zipapp's site-packages (the locked libraries as shipped): parsed, and whether it is
    a package, by module name."""
    sources = {}
    with zipfile.ZipFile(pyz) as archive:
        for name in archive.namelist():
            if name.startswith("site-packages/") and name.endswith(".py"):
                module = name.removeprefix("site-packages/").removesuffix(".py").replace("/", ".")
                is_package = module.endswith(".__init__")
                sources[module.removesuffix(".__init__")] = (ast.parse(archive.read(name), filename=name), is_package)
    return sources


def absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def module_level_imports(tree: ast.Module) -> list[ast.ImportFrom]:
    """``from X import ...`` statements that run when the module is imported (not inside a function)."""
    found: list[ast.ImportFrom] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.ImportFrom):
                found.append(node)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, block, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(tree.body)
    return found


@pytest.fixture(scope="module")
def sources(pyz: Path) -> dict[str, tuple[ast.Module, bool]]:
    return library_sources(pyz)


def test_locked_libraries_take_only_answered_names_from_deferred_modules(
    sources: dict[str, tuple[ast.Module, bool]],
) -> None:
    taken: dict[str, set[str]] = {name: set() for name in DEFERRALS}
    for module, (tree, is_package) in sources.items():
        if module.startswith("sagemaker_pipeline_resource") or module in TEST_HELPERS:
            continue
        for node in module_level_imports(tree):
            target = absolute(module, node, is_package)
            if target in DEFERRALS:
                taken[target] |= {alias.name for alias in node.names}
    for name, deferral in DEFERRALS.items():
        answered = set(deferral.functions) | set(deferral.substitutes)
        unexpected = taken[name] - answered
        assert not unexpected, (
            f"the locked libraries now import {sorted(unexpected)} from {name} when they are imported: "
            f"startup.py would run {name}'s code at start-up. Add the names to DEFERRED (functions only) or "
            "drop the deferral."
        )
        if deferral.functions or deferral.substitutes:
            assert taken[name] == answered, (
                f"nothing imports {sorted(answered - taken[name])} from {name} any more: update startup.DEFERRED"
            )


def test_docstring_classes_only_become_a_doc(sources: dict[str, tuple[ast.Module, bool]]) -> None:
    """botocore uses its *Docstring classes only as ``X.__doc__ = Cls(...)`` (or via one variable): so a
    substitute that returns a plain string is all they need."""
    names = set(DEFERRALS["botocore.docs.docstring"].substitutes)
    uses = 0
    for module, (tree, _) in sources.items():
        if not module.startswith("botocore") or module.startswith("botocore.docs"):
            continue
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc_values = {
                ast.dump(node.value)
                for node in ast.walk(function)
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Attribute) and t.attr == "__doc__" for t in node.targets)
            }
            for node in ast.walk(function):
                if not (isinstance(node, ast.Name) and node.id in names):
                    continue
                uses += 1
                assigned = [
                    a
                    for a in ast.walk(function)
                    if isinstance(a, ast.Assign) and isinstance(a.value, ast.Call) and a.value.func is node
                ]
                assert len(assigned) == 1, f"{module}: {node.id} is used other than as Cls(...) assigned"
                target = assigned[0].targets[0]
                ok = (isinstance(target, ast.Attribute) and target.attr == "__doc__") or (
                    isinstance(target, ast.Name) and ast.dump(ast.Name(id=target.id, ctx=ast.Load())) in doc_values
                )
                assert ok, f"{module}: the result of {node.id}(...) is used other than as a __doc__"
    assert uses == len(names), f"expected one use of each of {sorted(names)} in botocore, found {uses}"


def test_forwarded_names_are_functions_and_substitutes_exist(pyz: Path) -> None:
    listed = [(d.module, sorted(d.functions), sorted(d.substitutes)) for d in startup.DEFERRED]
    code = f"""
import importlib, inspect, json
result = {{}}
for module, functions, substitutes in {listed!r}:
    real = importlib.import_module(module)
    result[module] = {{
        "functions": [name for name in functions if inspect.isfunction(getattr(real, name, None))],
        "substitutes": [name for name in substitutes if isinstance(getattr(real, name, None), type)
                        and issubclass(getattr(real, name), str)],
    }}
print(json.dumps(result))
"""
    done = shiv_python(pyz, code)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    for deferral in startup.DEFERRED:
        assert found[deferral.module]["functions"] == sorted(deferral.functions), deferral.module
        assert found[deferral.module]["substitutes"] == sorted(deferral.substitutes), deferral.module


def idle_check(
    run: Any, emulator: Any, pipeline: str, source: dict[str, Any], *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A check with nothing new (after a first one through the zipapp), as ``python -I -S *arguments``."""
    emulator.seed_executions(pipeline, 3)
    first = run("check", {"source": source})
    assert first.returncode == 0, first.stderr
    done = subprocess.run(
        [sys.executable, "-I", "-S", *arguments],
        input=json.dumps({"source": source, "version": json.loads(first.stdout)[-1]}),
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == json.loads(first.stdout)[-1:]
    return done


def test_a_check_never_runs_the_deferred_code(
    run: Any, emulator: Any, pipeline: str, source: dict[str, Any], steps_dir: Path
) -> None:
    done = idle_check(run, emulator, pipeline, source, "-X", "importtime", str(steps_dir / "check"))
    imported = imported_modules(done.stderr)
    assert "botocore.client" in imported
    assert "botocore.docs.utils" in imported, "botocore.handlers' import of it works without the package's code"
    assert imported.isdisjoint(DEFERRED_CODE), sorted(imported & set(DEFERRED_CODE))
    assert imported.isdisjoint(OTHER_STEPS), sorted(imported & set(OTHER_STEPS))
    assert imported.isdisjoint(TEST_HELPERS), sorted(imported & set(TEST_HELPERS))


def test_a_check_leaves_every_deferred_module_unrun(
    run: Any, emulator: Any, pipeline: str, source: dict[str, Any], launcher_dir: Path
) -> None:
    """The whole list, through the image's launcher on the unpacked tree (as /opt/resource/check runs): after
    a check, no deferred module's code has run. A deferred module is not in -X importtime's list, so this
    asks startup itself, from an atexit callback."""
    startup_ = "sys.modules['sagemaker_pipeline_resource.startup.deferrals']"
    still = f"[d.module for d in {startup_}.DEFERRED if {startup_}.is_deferred(d.module)]"
    done = idle_check(run, emulator, pipeline, source, "-c", through_the_launcher(launcher_dir / "check", still))
    remaining = reported(done.stderr)
    assert remaining == [d.module for d in startup.DEFERRED], f"ran: {sorted(set(DEFERRALS) - set(remaining))}"


def test_the_benchmarking_switch_turns_measures_off_and_the_answer_stays(
    run: Any, emulator: Any, pipeline: str, source: dict[str, Any], launcher_dir: Path
) -> None:
    """``make bench`` switches each start-up measure off in turn (startup.OFF_ENV): with deferrals and gc off, a
    check through the launcher defers nothing and keeps the collector, and answers as always (idle_check)."""
    startup_ = "sys.modules['sagemaker_pipeline_resource.startup.deferrals']"
    deferred = f"[d.module for d in {startup_}.DEFERRED if {startup_}.is_deferred(d.module)]"
    state = f"[{deferred}, __import__('gc').isenabled()]"
    code = through_the_launcher(launcher_dir / "check", state)
    done = idle_check(run, emulator, pipeline, source, "-c", code, env={startup.OFF_ENV: "deferrals,gc"})
    assert reported(done.stderr) == [[], True]
    assert startup.switched_off("gc", {startup.OFF_ENV: "deferrals,gc"})
    assert not startup.switched_off("gc", {startup.OFF_ENV: "gcx"}) and not startup.switched_off("gc", {})


def test_the_bench_switches_every_measure_off() -> None:
    """The bench's list of start-up measures is startup's (each row of make bench is one measure off)."""
    from tests.bench import bench  # noqa: PLC0415 - the bench's imports (the emulator) only for this test

    assert tuple(bench.START_UP_MEASURES) == startup.MEASURES
    assert bench.OFF_ENV == startup.OFF_ENV


def test_the_launcher_runs_a_check_without_garbage_collection_and_in_with_it(
    emulator: Any, pipeline: str, source: dict[str, Any], launcher_dir: Path, tmp_path: Path
) -> None:
    """A check is short and its memory bounded (next test): the launcher switches the collector off for it. In
    and out wait for hours: they keep it."""
    emulator.seed_executions(pipeline, 2)
    answers = {}
    for step, arguments in (("check", []), ("in", [str(tmp_path / "get")])):
        payload: dict[str, Any] = {"source": source}
        if step == "in":
            payload["version"] = answers["check"][-1]
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c",
             through_the_launcher(launcher_dir / step, "__import__('gc').isenabled()"), *arguments],
            input=json.dumps(payload), env=clean_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        answers[step] = json.loads(done.stdout)
        assert reported(done.stderr) is (step != "check"), step


# The process's peak resident set in kB (VmHWM: ru_maxrss would include the forking pytest's, kept across exec).
PEAK_RSS_KB = "[int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:')][0]"


def test_a_check_of_max_pages_without_garbage_collection_stays_small(
    emulator: Any, source: dict[str, Any], launcher_dir: Path
) -> None:
    """The most a check reads (max_pages pages of 100 executions, the previous version gone), through the
    launcher with the collector off: peak RSS stays under the 64 MB target (the bench's figure is with it on)."""
    arn = emulator.create_pipeline("many-executions")
    executions = emulator.seed_executions(arn, 1050)
    emulator.delete_execution(executions[0])
    payload = {"source": {**source, "pipeline": arn}, "version": {"execution_arn": executions[0]}}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", through_the_launcher(launcher_dir / "check", PEAK_RSS_KB)],
        input=json.dumps(payload), env=clean_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "10 page(s), 1000 execution(s) read" in done.stderr
    assert json.loads(done.stdout)[-1]["execution_arn"] == executions[-1]
    assert reported(done.stderr) * 1024 < 64_000_000


def test_without_the_deferrals_botocore_imports_that_code(pyz: Path) -> None:
    """The control: the modules looked for above are what the locked libraries really import."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", str(pyz), "-c", "import botocore.session, urllib3"],
        env=clean_env({"SHIV_INTERPRETER": "1"}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported = imported_modules(done.stderr)
    assert set(DEFERRED_CODE) <= imported, sorted(set(DEFERRED_CODE) - imported)


def test_deferred_botocore_still_works_and_loads_on_demand(pyz: Path) -> None:
    code = """
import sys
from sagemaker_pipeline_resource.startup import deferrals as startup
installed = startup.install()
assert {"botocore.docs", "botocore.docs.docstring", "importlib.metadata"} <= set(installed), installed
import botocore.session
client = botocore.session.Session().create_client("sagemaker", region_name="eu-west-1",
    aws_access_key_id="x", aws_secret_access_key="y")
assert client.list_pipeline_executions.__doc__ == startup.DOCSTRING_NOTE
assert client.get_paginator("list_pipeline_executions").paginate.__doc__ == startup.DOCSTRING_NOTE
assert startup.is_deferred("botocore.docs.docstring") and "botocore.docs.service" not in sys.modules
from importlib.metadata import version
assert startup.is_deferred("importlib.metadata")
assert version("botocore") == botocore.__version__, version("botocore")
assert not startup.is_deferred("importlib.metadata")
from botocore.docs.docstring import LazyLoadedDocstring
assert not startup.is_deferred("botocore.docs.docstring") and "botocore.docs.bcdoc.restdoc" in sys.modules
from botocore.docs import ServiceDocumenter
assert not startup.is_deferred("botocore.docs") and "botocore.docs.service" in sys.modules
print("ok")
"""
    done = shiv_python(pyz, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# --- the mechanism, on a module of our own ----------------------------------------------------------------


@pytest.fixture
def fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"startup_fake_{os.getpid()}"
    (tmp_path / f"{name}.py").write_text(
        "import sys\nRUNS = getattr(sys, '_startup_fake_runs', 0) + 1\nsys._startup_fake_runs = RUNS\n"
        "def twice(x):\n    return 2 * x\nclass Thing:\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "_startup_fake_runs", 0, raising=False)
    yield name
    sys.modules.pop(name, None)


def test_deferral_runs_nothing_until_used(fake_module: str) -> None:
    deferral = startup.Deferral(fake_module, functions=frozenset({"twice"}), substitutes={"doc": str})
    assert startup.install((deferral,)) == [fake_module]
    module = __import__(fake_module)
    assert sys._startup_fake_runs == 0  # type: ignore[attr-defined]
    twice = module.twice
    assert module.doc is str
    assert sys._startup_fake_runs == 0  # type: ignore[attr-defined]
    assert twice(21) == 42
    assert sys._startup_fake_runs == 1  # type: ignore[attr-defined]
    assert module.Thing.__name__ == "Thing" and module.twice(1) == 2
    assert sys._startup_fake_runs == 1, "the code runs once"  # type: ignore[attr-defined]


def test_any_other_attribute_runs_the_module(fake_module: str) -> None:
    startup.install((startup.Deferral(fake_module, functions=frozenset({"twice"})),))
    namespace: dict[str, Any] = {}
    exec(f"from {fake_module} import Thing", namespace)  # what `from module import name` does
    assert sys._startup_fake_runs == 1  # type: ignore[attr-defined]
    assert namespace["Thing"].__name__ == "Thing"
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = sys.modules[fake_module].missing


def test_a_module_imported_already_is_left_alone(fake_module: str) -> None:
    module = __import__(fake_module)
    assert startup.install((startup.Deferral(fake_module, functions=frozenset({"twice"})),)) == []
    assert sys.modules[fake_module] is module and sys._startup_fake_runs == 1  # type: ignore[attr-defined]
