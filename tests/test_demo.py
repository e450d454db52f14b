"""``make demo`` runs the whole loop against the emulator: deploy a definition, run it, check, get."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_demo_deploys_runs_and_gets(pyz: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.demo", "--pyz", str(pyz)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "put: pipeline created: version 1" in done.stdout
    assert '{"name": "deploy", "value": "created"}' in done.stdout
    for name in ("--- model_package_arn", "--- training_job_name", "--- steps.json", "--- execution_arn"):
        assert name in done.stdout
