"""Mutation testing with mutmut, one module at a time, and a per-module score table.

Why a runner of its own: the behaviour tests run the built ``.pyz`` in a subprocess, which a mutation tool
cannot see, and the package directory is ``resource/`` while its import name is ``sagemaker_pipeline_resource``
(the dev venv reaches it through a ``.pth`` symlink that would import the *unmutated* code). So for each module
this builds a scratch project under ``.mutation/MODULE/`` laid out the way mutmut expects
(``src/sagemaker_pipeline_resource/`` plus the module's in-process tests), runs ``mutmut run`` there, and reads
the counts mutmut exports. mutmut puts ``mutants/src`` first on ``sys.path``, so the tests import the mutants.

Each module is mutated alone and tested only by its fast in-process tests (:data:`TESTS`): two shared cores,
so ``--max-children`` defaults to 1. Mutants listed in ``build/mutation-equivalent.txt`` (``mutant name  reason``)
are equivalent (no test can tell them apart from the original); the score counts them as killed and says how many.

Usage: ``python build/mutation.py [MODULE ...] [--max-children N]``; ``make mutation`` runs all of them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
EQUIVALENT = ROOT / "build" / "mutation-equivalent.txt"
TARGET = 0.90

# Module -> the test files that exercise it; only their in-process tests run (see _CONFTEST).
TESTS: dict[str, tuple[str, ...]] = {
    "versions.ordering": ("tests/test_history.py", "tests/test_history_unit.py"),
    "check": ("tests/test_check_unit.py",),
    "put.actions": ("tests/test_put_unit.py",),
    "put.request": ("tests/test_put_unit.py",),
    "put.placement": ("tests/test_put_unit.py",),
    "execution.waiting": ("tests/test_waiter.py", "tests/test_waiter_unit.py"),
    "config.params": (
        "tests/test_config.py",
        "tests/test_statuses.py",
        "tests/test_readme.py",
        "tests/test_config_unit.py",
    ),
    "redact": ("tests/test_secrets.py", "tests/test_redact_unit.py"),
    "config.arns": ("tests/test_arns.py", "tests/test_arns_unit.py"),
}


# Deselects every test that needs the built .pyz or the emulator: a mutation tool cannot see into them.
_CONFTEST = """
OUT_OF_PROCESS = {"run", "emulator", "emulator_server", "sm", "pyz", "steps_dir", "source", "sts_source"}


def pytest_collection_modifyitems(config, items):
    selected = [item for item in items if not OUT_OF_PROCESS & set(getattr(item, "fixturenames", ()))]
    deselected = [item for item in items if item not in selected]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
"""


def equivalents() -> dict[tuple[str, str, str], str]:
    """(module, function, the mutant's changed line) -> why no test can tell it from the original.

    build/mutation-equivalent.txt has one ``module ~~ function ~~ changed line ~~ reason`` per line. Mutants are
    matched by function and changed line, not by mutmut's numbers, which shift whenever the module is edited.
    """
    out: dict[tuple[str, str, str], str] = {}
    if EQUIVALENT.exists():
        for raw in EQUIVALENT.read_text(encoding="utf-8").splitlines():
            if raw.strip() and not raw.startswith("#"):
                module, function, line, reason = (part.strip() for part in raw.split(" ~~ ", 3))
                out[(module, function, line)] = reason
    return out


def function_of(mutant: str) -> str:
    """``xǁ_Stalenessǁis_stale`` from ``sagemaker_pipeline_resource.waiter.xǁ_Stalenessǁis_stale__mutmut_3``."""
    return mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]


def changed_lines(work: Path, name: str) -> tuple[list[str], list[str]]:
    """The original and mutated lines of one mutant, as ``mutmut show`` prints them."""
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "mutmut"), "show", name],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    before = [line[2:].strip() for line in shown if line.startswith("- ")]
    after = [line[2:].strip() for line in shown if line.startswith("+ ")]
    return before, after


def prepare(module: str, tests: tuple[str, ...]) -> Path:
    """A scratch project: the package under src/ (as mutmut expects) and the module's tests."""
    work = WORK / module
    shutil.rmtree(work, ignore_errors=True)
    package = work / "src" / "sagemaker_pipeline_resource"
    shutil.copytree(
        ROOT / "resource" / "sagemaker_pipeline_resource", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    # The whole tests/ package (test files import its helpers), but only the module's files are selected,
    # and of those only the in-process tests: the scratch conftest deselects any that runs the .pyz.
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__", "image", "bench"))
    shutil.copy2(ROOT / "README.md", work / "README.md")
    shutil.copytree(ROOT / "docs", work / "docs")  # the tests read the README and docs/ (tests/docs_text.py)
    (work / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
    present = [test for test in tests if (ROOT / test).exists()]
    selection = ", ".join(json.dumps(test) for test in present)
    (work / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [tool.mutmut]
            source_paths = ["src"]
            only_mutate = ["src/sagemaker_pipeline_resource/{module.replace(".", "/")}.py"]
            pytest_add_cli_args_test_selection = [{selection}]
            pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:randomly"]
            use_git_change_detection = false
            also_copy = ["conftest.py", "README.md", "docs"]

            [tool.pytest.ini_options]
            addopts = "-q"
            """
        ),
        encoding="utf-8",
    )
    return work


def run_module(
    module: str, max_children: int, known: dict[tuple[str, str, str], str], show: bool = False
) -> dict[str, object]:
    work = prepare(module, TESTS[module])
    mutmut = str(Path(sys.executable).parent / "mutmut")
    started = time.monotonic()
    done = subprocess.run(
        [mutmut, "run", "--max-children", str(max_children)], cwd=work, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"mutation: mutmut failed on {module} (exit {done.returncode}); see above.")
    subprocess.run([mutmut, "export-cicd-stats"], cwd=work, capture_output=True, check=True)
    stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=False
    ).stdout
    status = {
        line.split(":")[0].strip(): line.rsplit(":", 1)[1].strip() for line in listing.splitlines() if ":" in line
    }
    survivors = [name for name, state in status.items() if state in ("survived", "no tests", "suspicious")]
    # `mutmut show` costs a process per mutant: only for survivors in functions the equivalents file names,
    # or for all of them with --show.
    listed = {function for (of, function, _line) in known if of == module}
    diffs = {name: changed_lines(work, name) if show or function_of(name) in listed else ([], []) for name in survivors}
    equivalent = [name for name in survivors if (module, function_of(name), " ".join(diffs[name][1])) in known]
    left = [name for name in survivors if name not in equivalent]
    total = int(stats.get("total", 0)) - int(stats.get("skipped", 0))
    killed = total - len(survivors)  # timeouts count as killed: the tests did not pass
    score = (killed + len(equivalent)) / total if total else 1.0
    return {
        "module": module,
        "total": total,
        "killed": killed,
        "equivalent": len(equivalent),
        "survived": [(name, *diffs[name]) for name in left],
        "score": score,
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"default: all of {', '.join(TESTS)}")
    parser.add_argument("--max-children", type=int, default=1, help="parallel mutant runs (default 1)")
    parser.add_argument("--show", action="store_true", help="print each surviving mutant's diff")
    args = parser.parse_args()
    known = equivalents()
    rows = []
    started = time.monotonic()
    unknown = [module for module in args.modules if module not in TESTS]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(TESTS)}")
    for module in args.modules or list(TESTS):
        row = run_module(module, args.max_children, known, args.show)
        rows.append(row)
        print(
            f"{module:8} {row['score']:7.1%}  killed {row['killed']}/{row['total']}"
            f" (+{row['equivalent']} equivalent), {row['seconds']:.0f} s",
            flush=True,
        )
        for name, before, after in row["survived"]:  # type: ignore[attr-defined]
            print(f"    survived: {name}", flush=True)  # function_of(name) is what the equivalents file names
            if args.show:
                print("".join(f"      - {line}\n" for line in before) + "".join(f"      + {line}\n" for line in after))
    print(f"total {time.monotonic() - started:.0f} s for {len(rows)} module(s); target {TARGET:.0%} per module")
    return 0 if all(float(row["score"]) >= TARGET for row in rows) else 1  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
