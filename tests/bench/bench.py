"""The benchmark itself: set up the emulator, measure every figure, print the table (see the package doc)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench import compare
from tests.bench.measure import Samples, measure, run_once
from tests.emulator.fixture import run_emulator
from tests.image import build

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PYZ = ROOT / "dist" / "sagemaker-pipeline-resource.pyz"
BENCH_IMAGE = "sagemaker-pipeline-resource:bench"
# Fake keys: the emulator accepts anything.
ACCESS_KEY_ID = "AKIABENCHMARKTESTING"
SECRET_ACCESS_KEY = "testing"
SMALL_HISTORY = 10
LARGE_HISTORY = 10_000
# Targets (issue #7).
MAX_PYZ_BYTES = 3_000_000
MAX_RATIO_VS_BOTO3 = 1.0
MIN_SPEEDUP_VS_NAIVE = 5.0
MAX_HISTORY_RATIO = 1.2
MAX_RSS_BYTES = 64_000_000
MAX_LAYER_BYTES = 10_000_000
# Issue #17: an idle check in a fresh container costs at most this many times starting an empty one.
MAX_RATIO_VS_EMPTY = 1.8
VS_EMPTY = "check in a fresh container vs an empty container"
LAYER = "image layer added over the base"
# The bases measured side by side with the default one: (label, how to get it from the default base).
NO_BYTECODE = "base without byte code"
OTHER_BASE = f"Debian {build.OTHER_STAND_IN_SUITE} stand-in"
NO_DOCKER = "skipped: no Docker engine"
# The start-up measures (resource/startup.py MEASURES) the bench switches off one at a time, in containers, with
# the private CPython or library internals each relies on ("" for none). A measure that needs such internals
# is kept only if it saves at least MIN_PRIVATE_SAVING of an idle check's CPU on its own (issue #25): its row
# then has that target. Those that did not (replayed _sre programs, recorded code objects for dataclasses,
# namedtuple and typing, a fast exit through atexit._run_exitfuncs) were removed.
START_UP_MEASURES = {
    "snapshot-modules": "",
    "deferrals": "",
    "gc": "",
}
OFF_ENV = "SAGEMAKER_PIPELINE_RESOURCE_STARTUP_OFF"
MIN_PRIVATE_SAVING = 0.10
# Runs the step in the container as a child and prints the child's CPU time (user + system) after its answer:
# `docker run`'s own rusage is the client's, not the container's.
CPU_OF_CHILD = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.argv[1], sys.argv[1:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "os.write(1, b'cpu-seconds %.6f\\n' % (usage.ru_utime + usage.ru_stime))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


@dataclass
class Row:
    figure: str
    ours: str
    comparison: str = "-"
    ratio: str = "-"
    target: str = "-"
    ok: bool | None = None  # None: information only, or skipped
    timing: bool = False  # a timing figure (indicative only with --quick's single run)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def mb(size: float) -> str:
    return f"{size / 1e6:.2f} MB" if size < 10e6 else f"{size / 1e6:.1f} MB"


def documented_max_pages() -> int:
    """``max_pages``'s default, from the resource's configuration (the cap the README documents)."""
    text = (ROOT / "resource" / "sagemaker_pipeline_resource" / "config" / "params.py").read_text(encoding="utf-8")
    match = re.search(r"^\s*max_pages:\s*int\s*=\s*(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else 10


def base_interpreter() -> str:
    """The real interpreter behind the one running the bench (not a venv or pyenv shim in between)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def boto3_location() -> str | None:
    spec = importlib.util.find_spec("boto3")
    if spec is None or spec.origin is None:
        return None
    return str(Path(spec.origin).parent.parent)


class Host:
    """Runs the .pyz outside a container exactly as Concourse would: a symlink named ``check``, by its shebang.

    ``python3`` on PATH is the bench's own interpreter; HOME and SHIV_ROOT are private temporary directories,
    so the developer's ~/.aws and ~/.shiv play no part.
    """

    def __init__(self, workdir: Path, pyz: Path, python: str) -> None:
        self.python = python
        self.bin = workdir / "bin"
        self.bin.mkdir()
        (self.bin / "python3").symlink_to(python)
        steps = workdir / "opt-resource"
        steps.mkdir()
        self.check = steps / "check"
        self.check.symlink_to(pyz.resolve())
        home = workdir / "home"
        home.mkdir()
        self.env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(home),
            "SHIV_ROOT": str(workdir / "shiv"),
            "LANG": "C.UTF-8",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def measure(self, commands: dict[str, list[str]], payload: dict[str, Any], runs: int) -> dict[str, Samples]:
        return measure(commands, json.dumps(payload).encode(), runs, self.env)


@dataclass
class Scenario:
    """The emulator's pipelines and the payloads that check them."""

    nothing_new_small: dict[str, Any]
    nothing_new_large: dict[str, Any]
    previous_gone_large: dict[str, Any]


def set_up(emulator: Any) -> Scenario:
    now = dt.datetime.now(dt.timezone.utc)

    def source(arn: str) -> dict[str, Any]:
        return {
            "pipeline": arn,
            "endpoint_url": emulator.url,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
        }

    small = emulator.create_pipeline("bench-small-history")
    small_arns = emulator.seed_executions(small, SMALL_HISTORY, start=now - dt.timedelta(hours=2), interval_seconds=60)
    large = emulator.create_pipeline("bench-large-history")
    large_arns = emulator.seed_executions(
        large, LARGE_HISTORY, start=now - dt.timedelta(minutes=LARGE_HISTORY + 60), interval_seconds=60
    )
    emulator.delete_execution(large_arns[0])
    return Scenario(
        nothing_new_small={"source": source(small), "version": {"execution_arn": small_arns[-1]}},
        nothing_new_large={"source": source(large), "version": {"execution_arn": large_arns[-1]}},
        previous_gone_large={"source": source(large), "version": {"execution_arn": large_arns[0]}},
    )


def api_calls(host: Host, emulator: Any, payload: dict[str, Any]) -> tuple[int, dict[str, int]]:
    emulator.clear_requests()
    run_once([str(host.check)], json.dumps(payload).encode(), host.env)
    counts = emulator.request_counts()
    return sum(counts.values()), counts


def host_rows(args: argparse.Namespace, host: Host, emulator: Any, scenario: Scenario, notes: list[str]) -> list[Row]:
    rows: list[Row] = []
    runs = args.runs
    commands = {"ours": [str(host.check)]}
    boto3_dir = boto3_location()
    if boto3_dir:
        commands["boto3"] = compare.plain_check_command(host.python, boto3_dir)
    timed = host.measure(commands, scenario.nothing_new_small, runs)
    ours = timed["ours"]
    if boto3_dir:
        theirs = timed["boto3"]
        same = compare.payload_version(ours.runs[0].stdout) == compare.payload_version(theirs.runs[0].stdout)
        if not same:
            raise RuntimeError("the boto3 script and check disagree on the newest execution")
        ratio = ours.wall / theirs.wall
        rows.append(
            Row(
                "check, nothing new, no container",
                ms(ours.wall),
                f"{ms(theirs.wall)} (boto3 script)",
                f"{ratio:.2f}x",
                f"<= {MAX_RATIO_VS_BOTO3:.1f}x",
                ratio <= MAX_RATIO_VS_BOTO3,
                timing=True,
            )
        )
        notes.append(
            f"no container: ours {ms(ours.wall)} wall / {ms(ours.cpu)} CPU (range {ms(ours.spread[0])}-"
            f"{ms(ours.spread[1])}); boto3 script {ms(theirs.wall)} wall / {ms(theirs.cpu)} CPU, peak RSS "
            f"{mb(theirs.max_rss)}; interpreter {host.python}"
        )
    else:
        rows.append(Row("check, nothing new, no container", ms(ours.wall), "skipped: boto3 is not installed"))

    calls, _ = api_calls(host, emulator, scenario.nothing_new_small)
    rows.append(Row("API calls per check, nothing new", str(calls), target="= 1", ok=calls == 1))
    cap = documented_max_pages()
    calls, counts = api_calls(host, emulator, scenario.previous_gone_large)
    rows.append(
        Row(
            f"API calls, previous gone, {LARGE_HISTORY:,} executions",
            str(calls),
            f"max_pages cap: {cap}, plus one describe",
            target=f"<= {cap + 1}",
            ok=calls <= cap + 1
            and counts.get("DescribePipelineExecution", 0) == 1
            and set(counts) == {"ListPipelineExecutions", "DescribePipelineExecution"},
        )
    )

    history = {
        "small": Samples(),
        "large": Samples(),
        "gone": Samples(),
    }
    stdin = {
        "small": json.dumps(scenario.nothing_new_small).encode(),
        "large": json.dumps(scenario.nothing_new_large).encode(),
        "gone": json.dumps(scenario.previous_gone_large).encode(),
    }
    for index in range(1 + runs):
        for name, samples in history.items():
            sample = run_once([str(host.check)], stdin[name], host.env)
            if index:
                samples.runs.append(sample)
    ratio = history["large"].wall / history["small"].wall
    rows.append(
        Row(
            f"check time, {LARGE_HISTORY:,} vs {SMALL_HISTORY} executions",
            ms(history["large"].wall),
            ms(history["small"].wall),
            f"{ratio:.2f}x",
            f"<= {MAX_HISTORY_RATIO:.1f}x",
            ratio <= MAX_HISTORY_RATIO,
            timing=True,
        )
    )
    rss = {name: samples.max_rss for name, samples in history.items()}
    rss_ratio = rss["large"] / rss["small"]
    rows.append(
        Row(
            f"peak RSS, {LARGE_HISTORY:,} vs {SMALL_HISTORY} executions",
            mb(rss["large"]),
            mb(rss["small"]),
            f"{rss_ratio:.2f}x",
            f"<= {MAX_HISTORY_RATIO:.1f}x, <= {MAX_RSS_BYTES / 1e6:.0f} MB",
            rss_ratio <= MAX_HISTORY_RATIO and max(rss.values()) <= MAX_RSS_BYTES,
        )
    )
    notes.append(f"previous version gone ({cap} pages read): {ms(history['gone'].wall)}, peak RSS {mb(rss['gone'])}")
    if args.breakdown:
        notes.extend(breakdown(host, scenario, runs))
    return rows


def importtime_by_package(stderr: str) -> tuple[float, Counter[str], Counter[str]]:
    """Total import time (sum of top-level cumulative times), and self time per top-level package and per
    module, in seconds."""
    total = 0.0
    by_package: Counter[str] = Counter()
    by_module: Counter[str] = Counter()
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if not match:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        if len(indent) == 1:
            total += int(cumulative_us) / 1e6
        by_package[name.split(".")[0]] += int(self_us) / 1e6
        by_module[name] += int(self_us) / 1e6
    return total, by_package, by_module


def group_packages(by_package: Counter[str]) -> Counter[str]:
    """Self time by what the reader knows: each library, the resource, shiv's bootstrap, the standard library."""
    groups: Counter[str] = Counter()
    stdlib = set(sys.stdlib_module_names)
    for package, seconds in by_package.items():
        if package == "sagemaker_pipeline_resource":
            groups["the resource"] += seconds
        elif package == "_bootstrap":
            groups["shiv's bootstrap"] += seconds
        elif package in stdlib or package.startswith("_") or package == "encodings":
            groups["standard library"] += seconds
        else:
            groups[package] += seconds
    return groups


def breakdown(host: Host, scenario: Scenario, runs: int) -> list[str]:
    """Where ours spends its start: the interpreter alone, imports (by package), and the rest."""
    payload = json.dumps(scenario.nothing_new_small).encode()
    bare = measure({"bare": [host.python, "-I", "-S", "-c", "pass"]}, b"", max(runs, 3), host.env)["bare"]
    total = measure({"ours": [str(host.check)]}, payload, max(runs, 3), host.env)["ours"]
    done = subprocess.run(
        [host.python, "-I", "-S", "-X", "importtime", str(host.check)],
        input=payload,
        capture_output=True,
        env=host.env,
        timeout=120,
        check=True,
    )
    imports, by_package, _ = importtime_by_package(done.stderr.decode(errors="replace"))
    groups = group_packages(by_package)
    parts = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in groups.most_common(8))
    rest = total.wall - bare.wall - imports
    return [
        f"start-up of ours, median {ms(total.wall)}: interpreter alone (-I -S -c pass) {ms(bare.wall)}; imports "
        f"{ms(imports)} (one -X importtime run, self time in ms: {parts}); the rest (session, client, endpoint "
        f"resolution, the call, output) ~{ms(max(rest, 0))}"
    ]


def docker_rows(
    args: argparse.Namespace, scenario: Scenario, notes: list[str], log: Callable[[str], None]
) -> list[Row]:
    figures = (
        VS_EMPTY,
        "check in a fresh container vs boto3 image",
        "check in a fresh container vs naive image",
        LAYER,
        "writes at run time (read-only root fs)",
        f"{VS_EMPTY}, {NO_BYTECODE}",
        f"{LAYER}, {NO_BYTECODE}",
        f"{VS_EMPTY}, {OTHER_BASE}",
        f"{LAYER}, {OTHER_BASE}",
        *(measure_figure(switch) for switch in START_UP_MEASURES),
    )
    if args.quick:
        return [Row(figure, "skipped: --quick") for figure in figures]
    if args.no_docker or not build.docker_available():
        reason = "skipped: --no-docker" if args.no_docker else NO_DOCKER
        if not args.no_docker:
            notes.append(f"Docker: {build.why_no_docker()}")
        return [Row(figure, reason) for figure in figures]

    base = args.base or build.ensure_base_image()
    if args.image:
        image = args.image
    else:
        log(f"bench: building {BENCH_IMAGE} from the Dockerfile on {base}")
        build.build_image(BENCH_IMAGE, base, quiet=True)
        image = BENCH_IMAGE
    comparison = compare.comparison_image(base, log)
    env = build.docker_env()
    payload = json.dumps(scenario.nothing_new_small).encode()

    def docker_run(*args_: str) -> list[str]:
        return ["docker", "run", "-i", "--rm", "--network", "host", *args_]

    # The same image on other bases: the default base without its byte code (as the official python images
    # ship), and the stand-in of the other Debian release. All are built first, then every container figure
    # is measured in one interleaved loop (A B C A B C ...), so that a load spike on this machine hits the
    # bases alike and the ratios stay comparable.
    variants: dict[str, tuple[str, str]] = {}
    for label, make_base in {
        NO_BYTECODE: lambda: compare.without_bytecode(base, log),
        OTHER_BASE: lambda: build.stand_in_base(build.OTHER_STAND_IN_SUITE),
    }.items():
        if args.base_variants is not None and label not in args.base_variants:
            continue
        variant_base = make_base()
        variant_image = f"{BENCH_IMAGE}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}"
        log(f"bench: building {variant_image} on {variant_base} ({label})")
        build.build_image(variant_image, variant_base, quiet=True)
        variants[label] = (variant_base, variant_image)

    runs = args.docker_runs
    commands = {
        "start": docker_run(image, "true"),
        "ours": docker_run(image, "/opt/resource/check"),
        "boto3": docker_run(comparison, *compare.plain_check_command("python3", compare.BOTO3_DIR)),
        "naive": docker_run(comparison, compare.NAIVE_CHECK),
    }
    for label, (_, variant_image) in variants.items():
        commands[f"start, {label}"] = docker_run(variant_image, "true")
        commands[f"ours, {label}"] = docker_run(variant_image, "/opt/resource/check")
    # Each start-up measure off in turn, in the same interleaved loop: the check's own CPU time.
    cpu_of_check = ["python3", "-I", "-S", "-c", CPU_OF_CHILD, "/opt/resource/check"]
    commands["cpu, all on"] = docker_run(image, *cpu_of_check)
    for switch in START_UP_MEASURES:
        commands[f"cpu, {switch} off"] = docker_run("-e", f"{OFF_ENV}={switch}", image, *cpu_of_check)
    timed = measure(commands, payload, runs, env, timeout=300)
    versions = {compare.payload_version(timed[name].runs[0].stdout) for name in ("ours", "boto3", "naive")}
    if len(versions) != 1:
        raise RuntimeError(f"check, the boto3 script and the naive check disagree in the container: {versions}")
    ours, boto3, naive = timed["ours"], timed["boto3"], timed["naive"]
    rows = [
        vs_empty_row(VS_EMPTY, timed["start"], ours),
        Row(
            figures[1],
            ms(ours.wall),
            f"{ms(boto3.wall)} (boto3 script)",
            f"{ours.wall / boto3.wall:.2f}x",
            f"<= {MAX_RATIO_VS_BOTO3:.1f}x",
            ours.wall / boto3.wall <= MAX_RATIO_VS_BOTO3,
            timing=True,
        ),
        Row(
            figures[2],
            ms(ours.wall),
            f"{ms(naive.wall)} (naive shiv)",
            f"{naive.wall / ours.wall:.1f}x faster",
            f">= {MIN_SPEEDUP_VS_NAIVE:.0f}x faster",
            naive.wall / ours.wall >= MIN_SPEEDUP_VS_NAIVE,
            timing=True,
        ),
    ]
    notes.append(
        f"containers ({runs} runs each, docker run wall time): starting one alone ({image} true) "
        f"{ms(timed['start'].wall)}; ours {ms(ours.wall)} (range {ms(ours.spread[0])}-{ms(ours.spread[1])}); "
        f"boto3 script {ms(boto3.wall)}; naive {ms(naive.wall)}; comparison image {comparison}"
    )

    sizes = build.image_sizes(image, base)
    naive_size = compare.naive_pyz(log).stat().st_size
    rows.append(
        Row(
            figures[3],
            mb(sizes["added"]),
            f"naive .pyz alone {mb(naive_size)}",
            target=f"<= {MAX_LAYER_BYTES / 1e6:.0f} MB",
            ok=sizes["added"] <= MAX_LAYER_BYTES,
        )
    )

    read_only = run_once(
        ["docker", "run", "-i", "--rm", "--read-only", "--network", "host", image, "/opt/resource/check"],
        payload,
        env,
        timeout=120,
    )
    ours_changes = changes_after_run(image, ["/opt/resource/check"], payload, env)
    naive_changes = changes_after_run(comparison, [compare.NAIVE_CHECK], payload, env)
    written = ours_changes
    rows.append(
        Row(
            figures[4],
            "none (--read-only ok)" if not written else f"{len(written)} paths changed",
            f"naive: {len(naive_changes):,} paths written",
            target="none",
            ok=not written and bool(read_only.stdout.strip()),
        )
    )
    if written:
        notes.append("docker diff after a check: " + ", ".join(written[:10]))
    notes.append(container_importtime(image, payload, env))

    for label in (NO_BYTECODE, OTHER_BASE):
        if label not in variants:
            rows += [Row(f"{VS_EMPTY}, {label}", "skipped"), Row(f"{LAYER}, {label}", "skipped")]
            continue
        variant_base, variant_image = variants[label]
        variant = {"start": timed[f"start, {label}"], "ours": timed[f"ours, {label}"]}
        if compare.payload_version(variant["ours"].runs[0].stdout) not in versions:
            raise RuntimeError(f"check on {label} disagrees with the default image")
        rows.append(vs_empty_row(f"{VS_EMPTY}, {label}", variant["start"], variant["ours"]))
        variant_sizes = build.image_sizes(variant_image, variant_base)
        added = variant_sizes["added"]
        if label == NO_BYTECODE:
            # The build writes the byte code of the standard-library modules a run imports, which this base
            # lacks (all the standard library's .pyc: the base has none). It makes up for the base, and is
            # not the resource's: the resource's own part is held to the same target as on the default base.
            stdlib = stdlib_bytecode(variant_image, env)
            rows.append(
                Row(
                    f"{LAYER}, {label}",
                    f"{mb(added)}: {mb(added - stdlib)} + {mb(stdlib)} standard-library byte code",
                    f"image {mb(variant_sizes['image'])}, base {mb(variant_sizes['base'])}",
                    target=f"<= {MAX_LAYER_BYTES / 1e6:.0f} MB + that byte code",
                    ok=added - stdlib <= MAX_LAYER_BYTES,
                )
            )
        else:
            rows.append(
                Row(
                    f"{LAYER}, {label}",
                    mb(added),
                    f"image {mb(variant_sizes['image'])}, base {mb(variant_sizes['base'])}",
                    target=f"<= {MAX_LAYER_BYTES / 1e6:.0f} MB",
                    ok=added <= MAX_LAYER_BYTES,
                )
            )
        notes.append(f"{label}: {variant_base} ({base_python(variant_base, env)})")
        notes.append(container_importtime(variant_image, payload, env, label))
    notes.append(f"default base: {base} ({base_python(base, env)})")
    rows += measure_rows(timed, runs)
    return rows


def measure_figure(switch: str) -> str:
    return f"idle check CPU in a container, {switch} off"


def child_cpu(samples: Samples) -> float:
    """Median CPU seconds of the check itself, as :data:`CPU_OF_CHILD` printed them."""
    found = [re.search(r"^cpu-seconds (\S+)$", sample.stdout, re.MULTILINE) for sample in samples.runs]
    return statistics.median(float(match.group(1)) for match in found if match)


def measure_rows(timed: dict[str, Samples], runs: int) -> list[Row]:
    """What each start-up measure saves on its own: the check's CPU with that one measure off against all on."""
    on = child_cpu(timed["cpu, all on"])
    rows = []
    for switch, private in START_UP_MEASURES.items():
        off = child_cpu(timed[f"cpu, {switch} off"])
        saved = off - on
        rows.append(
            Row(
                measure_figure(switch),
                f"{off * 1000:.1f} ms",
                f"{on * 1000:.1f} ms (all on)",
                f"saves {saved * 1000:.1f} ms ({saved / on:.1%})",
                f">= {MIN_PRIVATE_SAVING:.0%} saved ({private})" if private else "-",
                saved / on >= MIN_PRIVATE_SAVING if private else None,
                timing=True,
            )
        )
    return rows


def vs_empty_row(figure: str, start: Samples, ours: Samples) -> Row:
    """An idle check in a fresh container against starting an empty container from the same image."""
    ratio = ours.wall / start.wall
    return Row(
        figure,
        ms(ours.wall),
        f"{ms(start.wall)} (empty container)",
        f"{ratio:.2f}x",
        f"<= {MAX_RATIO_VS_EMPTY:.1f}x",
        ratio <= MAX_RATIO_VS_EMPTY,
        timing=True,
    )


def stdlib_bytecode(image: str, env: dict[str, str]) -> int:
    """Bytes of byte code in ``image``'s standard library (on a base without byte code: what the build wrote)."""
    count = (
        "import os, sysconfig; root = sysconfig.get_paths()['stdlib']; "
        "print(sum(os.path.getsize(os.path.join(d, f))"
        " for d, _, fs in os.walk(root) for f in fs if f.endswith('.pyc')))"
    )
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", image, "python3", "-B", "-I", "-c", count],
        check=True, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    return int(done.stdout.strip())


def base_python(image: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["docker", "run", "--rm", image, "python3", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return done.stdout.strip() or done.stderr.strip()


IMPORTTIME_RUNS = 3


def container_importtime(image: str, payload: bytes, env: dict[str, str], label: str = "default base") -> str:
    """Where an idle check's imports go in the container: ``python3 -X importtime`` of the step as the image
    runs it, self time by package (median of a few runs), and the slowest modules."""
    runs: list[Counter[str]] = []
    modules: list[Counter[str]] = []
    totals = []
    for _ in range(IMPORTTIME_RUNS):
        done = subprocess.run(
            ["docker", "run", "-i", "--rm", "--network", "host", image, "python3", "-IS", "-X", "importtime",
             "/opt/resource/check"],
            input=payload, capture_output=True, env=env, timeout=300, check=True,
        )  # fmt: skip
        total, by_package, by_module = importtime_by_package(done.stderr.decode(errors="replace"))
        totals.append(total)
        runs.append(group_packages(by_package))
        modules.append(by_module)
    names = set().union(*runs)
    median = Counter({name: statistics.median(run[name] for run in runs) for name in names})
    slowest = Counter({name: statistics.median(run[name] for run in modules) for name in set().union(*modules)})
    parts = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in median.most_common(8))
    top = ", ".join(f"{name} {seconds * 1000:.1f}" for name, seconds in slowest.most_common(6))
    return (
        f"imports in the container ({label}; python3 -X importtime /opt/resource/check, median of "
        f"{IMPORTTIME_RUNS}): {ms(statistics.median(totals))}, {len(slowest)} modules; self time by package in "
        f"ms: {parts}; slowest modules in ms: {top}"
    )


def changes_after_run(image: str, command: list[str], payload: bytes, env: dict[str, str]) -> list[str]:
    """``docker diff`` of a container that ran ``command``: every path it added, changed or deleted."""
    name = f"bench-{uuid.uuid4().hex[:12]}"
    try:
        run_once(["docker", "run", "-i", "--name", name, "--network", "host", image, *command], payload, env, 300)
        listing = subprocess.run(
            ["docker", "diff", name], check=True, capture_output=True, text=True, env=env, timeout=120
        ).stdout
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=False, capture_output=True, env=env, timeout=120)
    return [line for line in listing.splitlines() if line.strip()]


def size_row(pyz: Path, quick: bool, log: Callable[[str], None]) -> Row:
    size = pyz.stat().st_size
    if quick:
        comparison, ratio = "skipped: --quick", "-"
    else:
        naive = compare.naive_pyz(log).stat().st_size
        comparison, ratio = f"{mb(naive)} (naive shiv)", f"{size / naive:.2f}x"
    return Row(".pyz size", mb(size), comparison, ratio, f"<= {MAX_PYZ_BYTES / 1e6:.0f} MB", size <= MAX_PYZ_BYTES)


def render(rows: list[Row]) -> str:
    """The table as Markdown, one row per figure: the Performance table of docs/performance.md is this output, pasted
    (tests/bench/test_bench_smoke.py compares their figures and targets)."""
    header = ("figure", "ours", "comparison", "ratio", "target", "ok")
    cells = [header] + [
        (row.figure, row.ours, row.comparison, row.ratio, row.target, {True: "yes", False: "NO", None: "-"}[row.ok])
        for row in rows
    ]
    lines = ["| " + " | ".join(cell or "-" for cell in line) + " |" for line in cells]
    lines.insert(1, "|" + "---|" * len(header))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--pyz", type=Path, default=DEFAULT_PYZ, help="the zipapp to measure (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=15, help="measured runs per figure outside a container")
    parser.add_argument(
        "--docker-runs",
        type=int,
        default=15,
        help="measured runs per figure in containers (the 1.8x ratio is a ratio of medians: fewer runs make it noisy)",
    )
    parser.add_argument("--quick", action="store_true", help="one run of the rows that need no Docker")
    parser.add_argument("--no-docker", action="store_true", help="skip the container rows")
    parser.add_argument("--image", help=f"measure this image as it is (default: build {BENCH_IMAGE})")
    parser.add_argument("--base", help="BASE_IMAGE of the images (default: the stand-in base, built if missing)")
    parser.add_argument(
        "--base-variant",
        dest="base_variants",
        action="append",
        choices=(NO_BYTECODE, OTHER_BASE),
        help="measure only these of the other bases (repeatable; default: all of them)",
    )
    parser.add_argument("--python", default=None, help="interpreter for python3 (default: the bench's own)")
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false", help="skip the start-up breakdown")
    parser.add_argument("--json", type=Path, help="also write the rows to this file as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
        args.docker_runs = 1
    if args.runs < 1 or args.docker_runs < 1:
        parser.error("--runs and --docker-runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pyz = args.pyz.resolve()
    if not pyz.is_file():
        print(f"bench: {pyz} does not exist: build it with `make pyz`", file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    notes: list[str] = []
    rows = [size_row(pyz, args.quick, log)]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, run_emulator() as emulator:
        host = Host(Path(tmp), pyz, args.python or base_interpreter())
        scenario = set_up(emulator)
        log(f"bench: {args.runs} run(s) per figure outside containers, {args.docker_runs} in containers")
        rows += host_rows(args, host, emulator, scenario, notes)
        rows += docker_rows(args, scenario, notes, log)

    print(render(rows))
    print()
    for note in notes:
        print(f"- {note}")
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n", encoding="utf-8")
    missed = [row.figure for row in rows if row.ok is False and not (args.quick and row.timing)]
    if missed:
        print(f"\nbench: targets missed: {'; '.join(missed)}", file=sys.stderr)
        return 1
    return 0
