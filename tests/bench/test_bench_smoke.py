"""The benchmark runs (``--quick``: one run of the rows that need no Docker), so ``make test`` keeps it working."""

import json
import subprocess
import sys
from pathlib import Path

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
    assert [cell.strip() for cell in header.split("|")] == ["figure", "ours", "comparison", "ratio", "target", "ok"]
    rows = {row["figure"]: row for row in json.loads(rows_file.read_text())}
    assert rows[".pyz size"]["ok"] is True
    assert rows["API calls per check, nothing new"]["ours"] == "1"
    assert rows["API calls, previous gone, 10,000 executions"]["ok"] is True
    assert rows["peak RSS, 10,000 vs 10 executions"]["ok"] is True
    assert rows["check in a fresh container vs naive image"]["ours"] == "skipped: --quick"
