"""The benchmark runs (``--quick``: one run of the rows that need no Docker), so ``make test`` keeps it working."""

import json
import subprocess
import sys
from pathlib import Path

from tests import docs_text
from tests.bench import bench

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_prints_its_table(pyz, tmp_path):
    rows_file = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--pyz", str(pyz), "--quick", "--json", str(rows_file)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    header = done.stdout.splitlines()[0]
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "figure", "ours", "comparison", "ratio", "target", "ok"
    ]  # fmt: skip
    listed = json.loads(rows_file.read_text())
    rows = {row["figure"]: row for row in listed}
    # The Performance table (docs/performance.md) is this output, pasted: the same columns, figures in the same
    # order, and the same targets (the numbers are the last full run's).
    readme = readme_bench_table()
    assert readme[0] == [cell.strip() for cell in header.strip("|").split("|")]
    assert [line[0] for line in readme[1:]] == [row["figure"] for row in listed]
    for line in readme[1:]:
        target = rows[line[0]]["target"]
        assert target == "-" or line[4] == target, f"docs' target for {line[0]!r} is {line[4]!r}, not {target!r}"
    assert rows[".pyz size"]["ok"] is True
    assert rows["API calls per check, nothing new"]["ours"] == "1"
    assert rows["API calls, previous gone, 10,000 executions"]["ok"] is True
    assert rows["peak RSS, 10,000 vs 10 executions"]["ok"] is True
    assert rows["check in a fresh container vs naive image"]["ours"] == "skipped: --quick"
    # Issue #17's figure, on the default base and side by side on the others, with its target in docs/performance.md.
    for figure in (
        "check in a fresh container vs an empty container",
        "check in a fresh container vs an empty container, base without byte code",
    ):
        assert rows[figure]["ours"] == "skipped: --quick"
        assert [line[4] for line in readme if line[0] == figure] == ["<= 1.8x"]
    # Issue #25: one row per start-up measure, switched off in turn.
    for switch in bench.START_UP_MEASURES:
        assert rows[bench.measure_figure(switch)]["ours"] == "skipped: --quick"


def readme_bench_table() -> list[list[str]]:
    """The table marked ``<!-- bench-table`` (in docs/performance.md; the README and docs/ are read): its header
    and rows, as cells."""
    lines = docs_text.text().splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith("<!-- bench-table"))
    table = []
    for line in lines[start + 1 :]:
        if not line.startswith("|"):
            break
        if not line.startswith("|---"):
            table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return table
