"""The error contract, fuzzed: hostile payloads made from the configuration dataclasses' own fields.

Each example starts from a valid payload for one step (check, in, out, doctor) against the emulator and
breaks it: a field of :class:`SourceConfig`, :class:`GetParams`, :class:`PutParams` or the version given a
value of every other JSON type, a number at or past its declared bounds or not finite at all, text with
control characters, lone surrogates or 100,000 characters, nesting 10,000 deep, a 5,000-digit integer, an
unknown key named like a Python argument, or a path to a FIFO, a directory, /proc, or out of the build.
The built .pyz must then keep the contract (:func:`keeps_the_contract`): exit 0, 1 or 2 (never 70), stdout
empty or exactly one JSON document, no traceback, no raw control character on stderr, a bounded message,
an answer within :data:`TIME_LIMIT` seconds, and no AWS call at all when the input is certainly invalid.
The same contract holds with a valid payload and AWS misbehaving (:func:`answer_faults`): answers that cannot
be read (``null``, an HTML page with 200, fields missing), every string AWS returns ending in control
characters and a forged ``error:`` line, throttling in between.

``FUZZ_EXAMPLES`` sets the examples per step (default 40: 160 in ``make test``); the scheduled
workflow (.github/workflows/fuzz.yml) runs thousands with ``FUZZ_RANDOM=1`` (a new seed each run; the
default is derandomized, so ``make test`` tries the same examples every time and cannot flake).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagemaker_pipeline_resource.config.params import GetParams, PutParams, SourceConfig
from sagemaker_pipeline_resource.versions.version import ExecutionVersion
from tests.conftest import BUILD_ENV, assert_no_secrets, clean_env

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
TIME_LIMIT = 30.0
MAX_STDERR = 20_000
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
PYTHON_ARGUMENTS = ("self", "version", "destination_dir", "build_metadata", "sources_dir", "params", "kwargs")
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Raw:
    """JSON text put into the payload as it is: what ``json.dumps`` cannot write (NaN, 1e400, huge integers)."""

    text: str


def dump(value: object) -> str:
    """The payload as JSON text, with :class:`Raw` pieces spliced in (lone surrogates become \\u escapes)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {dump(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(item) for item in value) + "]"
    return json.dumps(value)


@dataclass
class Mutation:
    """A hostile value and whether the resource must refuse it (True) or may take it (False)."""

    value: object
    invalid: bool


NON_FINITE = [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), Raw("-1e999")]
HUGE = [Raw("9" * 5000), Raw("-" + "1" * 400), Raw("1" + "0" * 80)]
DEEP = [Raw("[" * 10_000 + "]" * 10_000), Raw('{"a": ' * 5_000 + "1" + "}" * 5_000)]
NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "\ud800",
    "a\udfffb",
    "x\nerror: forged line",
    "\x1b[2J\x1b[31mred",
    "\u202eevil",
    "\t",
    "x" * 100_000,
    "\uff21\uff22\uff23",  # full-width letters
    "é" * 3000,
    "../../../../etc/passwd",
]
ODD_PATHS = [
    "fifo",
    "a-directory",
    "link-out",
    "big.json",
    "not-utf8.json",
    "deep.json",
    "nul.txt",
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "/proc/self/environ",
    "/dev/zero",
    "/dev/stdin",
    "x" * 300,
    "a/../../escape",
    ".",
]


def json_values() -> st.SearchStrategy[object]:
    numbers = st.integers(-(10**30), 10**30) | st.floats(allow_nan=False, allow_infinity=False)
    scalars = st.none() | st.booleans() | numbers | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    )


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """The field's type without ``| None``, and whether null is allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return args[0], True
    return annotation, False


def _accepts(kind: Any, value: object) -> bool:
    """Whether a value of this JSON type is of the field's type (ints are numbers too)."""
    origin = typing.get_origin(kind)
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        return isinstance(value, list)
    if origin is dict:
        return isinstance(value, dict)
    return False


@st.composite
def hostile_value(draw: st.DrawFn, cls: type, name: str) -> Mutation:
    """A hostile value for the field ``name`` of ``cls``, from its type and its declared bounds."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kind, nullable = _base_type(typing.get_type_hints(cls)[name])
    bounds = fields[name].metadata.get("bounds")
    choice = draw(st.sampled_from(["other type", "number", "number", "text", "deep", "path", "nested"]))
    if choice == "deep":
        return Mutation(draw(st.sampled_from(DEEP)), invalid=True)
    if choice == "nested":  # a non-finite number or huge integer anywhere in the payload is refused
        inner = draw(st.sampled_from(NON_FINITE + HUGE))
        return Mutation(draw(st.sampled_from([{"Epochs": inner}, [inner], {"a": [1, {"b": inner}]}])), invalid=True)
    if choice == "path" and name.endswith("_file"):
        return Mutation(draw(st.sampled_from(ODD_PATHS)), invalid=True)
    if choice == "number" or (choice == "path" and kind in (int, float)):
        kinds = draw(st.sampled_from(["non-finite", "huge", "bound", "any"]))
        if kinds == "non-finite":
            return Mutation(draw(st.sampled_from(NON_FINITE)), invalid=True)
        if kinds == "huge":
            return Mutation(draw(st.sampled_from(HUGE)), invalid=True)
        if kinds == "bound" and bounds is not None and kind in (int, float):
            step = 1 if kind is int else 0.001
            value = draw(
                st.sampled_from(
                    [bounds.low, bounds.low - step]
                    + ([bounds.high, bounds.high + step] if bounds.high is not None else [])
                )
            )
            value = int(value) if kind is int else float(value)
            inside = value >= bounds.low and (bounds.high is None or value <= bounds.high)
            return Mutation(value, invalid=not inside)
        value = draw(st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False))
        return Mutation(value, invalid=not _accepts(kind, value))
    if choice == "text" and kind is str:
        value = draw(st.sampled_from(NASTY_TEXT) | st.text(max_size=40))
        control = bool(re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff]", value))
        return Mutation(value, invalid=not value.strip() or control or len(value) > 100_000 - 1)
    if choice == "text" and typing.get_origin(kind) in (list, tuple):
        items = draw(st.lists(st.sampled_from(NASTY_TEXT) | st.text(max_size=10), max_size=3))
        return Mutation(items, invalid=False)
    value = draw(json_values())
    if value is None:
        return Mutation(None, invalid=not nullable)
    return Mutation(value, invalid=not _accepts(kind, value))


@dataclass
class Case:
    """One fuzzed run: the step, its payload, and whether the payload is certainly invalid."""

    step: str
    payload: dict[str, Any]
    invalid: bool = False
    notes: list[str] = field(default_factory=list)


SECTIONS: dict[str, dict[str, type]] = {
    "check": {"source": SourceConfig, "version": ExecutionVersion},
    "in": {"source": SourceConfig, "params": GetParams, "version": ExecutionVersion},
    "out": {"source": SourceConfig, "params": PutParams},
    "doctor": {"source": SourceConfig},
}
# Never fuzzed into a valid value: `debug: true` prints tracebacks by design.
FIXED = {"debug"}


@st.composite
def cases(draw: st.DrawFn, step: str, base: dict[str, Any]) -> Case:
    case = Case(step, json.loads(json.dumps(base)))
    # Mostly one mutation: several invalid values at once would hide each other (the first refusal wins).
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        section = draw(st.sampled_from(sorted(SECTIONS[step])))
        cls = SECTIONS[step][section]
        target = case.payload.setdefault(section, {})
        if not isinstance(target, dict):
            continue
        what = draw(st.sampled_from(["field", "field", "field", "unknown key", "whole section", "poison"]))
        if what == "poison":  # a number field (or a map's value) that is not finite or far too long
            hints = typing.get_type_hints(cls)
            kinds = {f.name: _base_type(hints[f.name])[0] for f in dataclasses.fields(cls) if f.init}
            numeric = sorted(
                name for name, kind in kinds.items() if kind in (int, float) or typing.get_origin(kind) is dict
            )
            if not numeric:
                continue
            maps = [name for name in numeric if typing.get_origin(kinds[name]) is dict]
            name = draw(st.sampled_from(maps) if maps and draw(st.booleans()) else st.sampled_from(numeric))
            inner = draw(st.sampled_from(NON_FINITE) if draw(st.booleans()) else st.sampled_from(HUGE))
            target[name] = {"Epochs": inner} if typing.get_origin(kinds[name]) is dict else inner
            case.invalid = True
            case.notes.append(f"{section}.{name} poisoned with {str(inner)[:20]!r}")
        elif what == "unknown key":
            key = draw(st.sampled_from(PYTHON_ARGUMENTS) | st.text(min_size=1, max_size=30))
            if key in {f.name for f in dataclasses.fields(cls) if f.init}:
                continue
            target[key] = draw(json_values())
            case.invalid = True
            case.notes.append(f"{section}: unknown key {key!r}")
        elif what == "whole section":
            value = draw(st.sampled_from([False, "", [], 0, "x", Raw("NaN"), DEEP[0]]))
            case.payload[section] = value
            case.invalid = True
            case.notes.append(f"{section} = {str(value)[:40]!r}")
            break
        else:
            name = draw(st.sampled_from(sorted(f.name for f in dataclasses.fields(cls) if f.init)))
            mutation = draw(hostile_value(cls, name))
            if name in FIXED and mutation.value is True:
                continue
            target[name] = mutation.value
            case.invalid = case.invalid or mutation.invalid
            case.notes.append(
                f"{section}.{name} = {str(mutation.value)[:60]!r} ({'invalid' if mutation.invalid else 'maybe'})"
            )
    return case


def keeps_the_contract(case: Case, done: subprocess.CompletedProcess[str], requests: dict[str, int]) -> None:
    about = "; ".join(case.notes)
    assert done.returncode in (0, 1, 2), f"exit {done.returncode} for {about}:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, f"a traceback for {about}"
    assert not CONTROL.search(done.stderr), f"a raw control character on stderr for {about}: {done.stderr[-500:]!r}"
    assert len(done.stderr) < MAX_STDERR, f"{len(done.stderr)} characters on stderr for {about}"
    if done.returncode == 0:
        if case.step == "doctor":
            assert all(line.startswith("ok ") for line in done.stdout.splitlines())
        else:
            json.loads(done.stdout)  # exactly one JSON document
    else:
        assert done.stdout == "", f"stdout on failure for {about}"
        last = done.stderr.splitlines()[-1] if done.stderr else ""
        assert last.startswith("error: "), f"no error line for {about}: {done.stderr[-500:]!r}"
        assert len(last) < 2500, f"a {len(last)}-character error for {about}"
    if case.invalid:
        assert done.returncode in (1, 2), f"accepted although invalid: {about}"
        assert requests == {}, f"AWS calls {requests} before refusing {about}"


def sources_dir(root: Path) -> Path:
    """The put's build directory, with the odd files the path fields are pointed at."""
    sources = root / "sources"
    if sources.exists():
        return sources
    sources.mkdir(parents=True)
    os.mkfifo(sources / "fifo")
    (sources / "a-directory").mkdir()
    (sources / "link-out").symlink_to("/etc/passwd")
    (sources / "big.json").write_text('{"a": "' + "x" * 2_000_000 + '"}', encoding="utf-8")
    (sources / "not-utf8.json").write_bytes(b'{"a": "\xff"}')
    (sources / "deep.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    (sources / "nul.txt").write_bytes(b"a: b\x00\n")
    return sources


def run_case(steps_dir: Path, pyz: Path, case: Case, root: Path) -> subprocess.CompletedProcess[str]:
    if case.step == "doctor":
        args = [str(pyz), "doctor"]
    else:
        args = [str(steps_dir / case.step)]
    if case.step == "in":
        args.append(str(root / "in"))
    if case.step == "out":
        args.append(str(sources_dir(root)))
    done = subprocess.run(
        args, input=dump(case.payload), capture_output=True, text=True, check=False, timeout=TIME_LIMIT,
        env=clean_env(BUILD_ENV if case.step in ("in", "out") else {}),
    )  # fmt: skip
    assert_no_secrets(done.stdout, done.stderr, where=f"{case.step}'s output")
    return done


@pytest.mark.parametrize("step", ["check", "in", "out", "doctor"])
def test_hostile_payloads_keep_the_error_contract(
    step: str, emulator: Any, pipeline: str, sts_source: dict[str, Any], steps_dir: Path, pyz: Path, tmp_path: Path
) -> None:
    emulator.set_lifecycle(finish_after_polls=0, final_status="Succeeded")
    executions = emulator.seed_executions(pipeline, 2)
    base: dict[str, Any] = {"source": sts_source}
    if step in ("check", "in"):
        base["version"] = {"execution_arn": executions[0]}
    if step == "in":
        base["params"] = {}
    if step == "out":
        base["params"] = {"parameters": {"Epochs": "3"}}
    seen = {"runs": 0}

    @FUZZ_SETTINGS
    @given(case=cases(step, base))
    def fuzz(case: Case) -> None:
        emulator.clear_requests()
        done = run_case(steps_dir, pyz, case, tmp_path)
        keeps_the_contract(case, done, emulator.request_counts())
        seen["runs"] += 1

    fuzz()
    assert seen["runs"] >= min(EXAMPLES, 10)


def number_fields() -> list[tuple[str, str, str, Raw]]:
    """Every number field and map of every configuration, each with a non-finite value (NaN, Infinity, 1e400
    in turn): the sweep that the random examples above only sample."""
    found = []
    for step, sections in SECTIONS.items():
        if step == "doctor":
            continue
        for section, cls in sections.items():
            hints = typing.get_type_hints(cls)
            for f in dataclasses.fields(cls):
                kind = _base_type(hints[f.name])[0]
                if f.init and (kind in (int, float) or typing.get_origin(kind) is dict):
                    if section == "source" and step != "check":
                        continue  # the source is the same in every step: checked once
                    found.append((step, section, f.name, NON_FINITE[len(found) % 3]))
    return found


@pytest.mark.parametrize(("step", "section", "name", "value"), number_fields(), ids=str)
def test_every_number_field_refuses_non_finite_values(
    step: str, section: str, name: str, value: Raw, emulator: Any, pipeline: str, source: dict[str, Any],
    steps_dir: Path, pyz: Path, tmp_path: Path,
) -> None:  # fmt: skip
    executions = emulator.seed_executions(pipeline, 1)
    payload: dict[str, Any] = {"source": dict(source)}
    if step in ("check", "in"):
        payload["version"] = {"execution_arn": executions[0]}
    if step != "check":
        payload["params"] = {"wait": True} if name in ("poll_interval", "timeout", "outage_budget") else {}
    kind = _base_type(typing.get_type_hints(SECTIONS[step][section])[name])[0]
    payload[section][name] = {"Epochs": value} if typing.get_origin(kind) is dict else value
    case = Case(step, payload, invalid=True, notes=[f"{step}: {section}.{name} = {value.text}"])
    emulator.clear_requests()
    keeps_the_contract(case, run_case(steps_dir, pyz, case, tmp_path), emulator.request_counts())


# Answers that cannot be read (the emulator's answer faults) and AWS strings full of control characters.
OPERATIONS = [
    None, "ListPipelineExecutions", "DescribePipelineExecution", "ListPipelineExecutionSteps",
    "ListPipelineParametersForExecution", "StartPipelineExecution", "DescribePipeline",
]  # fmt: skip
MISSING = ["PipelineExecutionArn", "PipelineExecutionStatus", "PipelineExecutionSummaries", "StepStatus", "Name"]


@st.composite
def answer_faults(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    """One to three emulator faults: an unreadable answer, hostile strings, a throttle in between."""
    faults = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["null", "html", "missing", "hostile", "hostile errors", "throttle"]))
        operation = draw(st.sampled_from(OPERATIONS))
        count = draw(st.sampled_from([1, 2, 100]))
        if kind in ("null", "html", "missing"):
            fields = tuple(draw(st.lists(st.sampled_from(MISSING), min_size=1, max_size=2)))
            faults.append(("answer_fault", {"kind": kind, "operation": operation, "count": count, "fields": fields}))
        elif kind == "throttle":
            faults.append(("inject_fault", {"kind": "throttle", "operation": operation, "count": count}))
        else:
            faults.append(("hostile_strings", {"errors_only": kind == "hostile errors"}))
    return faults


@pytest.mark.parametrize("step", ["check", "in", "out", "doctor"])
def test_unreadable_and_hostile_answers_keep_the_error_contract(
    step: str, emulator: Any, pipeline: str, sts_source: dict[str, Any], steps_dir: Path, pyz: Path, tmp_path: Path
) -> None:
    emulator.set_lifecycle(finish_after_polls=1, final_status="Failed", failure_reason="x\nerror: forged\x1b[31m")
    executions = emulator.seed_executions(pipeline, 2)
    base: dict[str, Any] = {"source": {**sts_source, "max_attempts": 1}}
    if step in ("check", "in"):
        base["version"] = {"execution_arn": executions[0]}
    if step == "out":
        base["params"] = {"wait": True, "poll_interval": 1, "outage_budget": 2, "fail_on": []}
    seen: dict[str, Any] = {"runs": 0, "codes": {}}

    @FUZZ_SETTINGS
    @given(faults=answer_faults())
    def fuzz(faults: list[tuple[str, dict[str, Any]]]) -> None:
        emulator.clear_faults()
        for action, arguments in faults:
            getattr(emulator, action)(**arguments)
        case = Case(step, base, notes=[f"{action} {arguments}" for action, arguments in faults])
        done = run_case(steps_dir, pyz, case, tmp_path)
        emulator.clear_faults()
        keeps_the_contract(case, done, {})
        seen["runs"] += 1
        seen["codes"][done.returncode] = seen["codes"].get(done.returncode, 0) + 1

    fuzz()
    print(f"\nanswer faults, {step}: {seen['runs']} runs, exit codes {seen['codes']}")
    assert seen["runs"] >= min(EXAMPLES, 10)
