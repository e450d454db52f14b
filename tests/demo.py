"""``make demo``: the resource end to end, as Concourse runs it, against the local SageMaker emulator.

No AWS account and no credentials: the emulator listens on 127.0.0.1 and accepts the fake keys below.
Steps: start the emulator (no pipeline yet); ``out`` deploys a pipeline definition (creating the pipeline),
starts that version and waits for it; ``check`` finds the execution once it has finished; ``in`` downloads it
into a directory, with the model package ARN and job names a deploy job reads. Each step's payload, stdout, stderr
and files are shown. The emulator is stopped on the way out, also when a step fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from tests.emulator.fixture import run_emulator

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-pipeline-execution"
# The pipeline definition a task would write with the SageMaker SDK (pipeline.definition()), abridged.
DEFINITION = {
    "Version": "2020-12-01",
    "Metadata": {},
    "Parameters": [
        {"Name": "Epochs", "Type": "String", "DefaultValue": "10"},
        {"Name": "InstanceType", "Type": "String", "DefaultValue": "ml.m5.large"},
    ],
    "Steps": [
        {"Name": "Preprocess", "Type": "Processing", "Arguments": {}},
        {"Name": "Train", "Type": "Training", "Arguments": {}},
        {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "ChurnModels"}},
    ],
}

BUILD_ENV = {
    "BUILD_ID": "1",
    "BUILD_NAME": "1",
    "BUILD_JOB_NAME": "train-model",
    "BUILD_PIPELINE_NAME": "demo",
    "BUILD_TEAM_NAME": "main",
    "ATC_EXTERNAL_URL": "http://localhost:8080",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def show(title: str, text: str) -> None:
    print(f"--- {title}")
    print(textwrap.indent(text.rstrip() or "(empty)", "    "))


def step(bin_dir: Path, name: str, payload: dict[str, Any], directory: Path | None = None) -> Any:
    """Run one step exactly as Concourse does and show what it printed."""
    print(f"\n=== {name}" + (f" {directory}" if directory else ""))
    show("stdin (the payload Concourse sends)", json.dumps(payload, indent=2))
    args = [str(bin_dir / name)] + ([str(directory)] if directory else [])
    env = BUILD_ENV if name != "check" else {"PATH": BUILD_ENV["PATH"]}
    done = subprocess.run(args, input=json.dumps(payload), capture_output=True, text=True, env=env, check=False)
    show("stderr (the build log)", done.stderr)
    show(f"stdout (the answer), exit code {done.returncode}", done.stdout)
    if done.returncode != 0:
        raise SystemExit(f"demo: {name} failed with exit code {done.returncode}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyz", type=Path, default=Path("dist/sagemaker-pipeline-resource.pyz"))
    args = parser.parse_args()
    pyz = args.pyz.resolve()
    with run_emulator() as emulator, tempfile.TemporaryDirectory(prefix="resource-demo-") as tmp:
        print(f"emulator: {emulator.url}")
        sources = Path(tmp) / "sources"
        (sources / "definition").mkdir(parents=True)
        (sources / "definition" / "pipeline.json").write_text(json.dumps(DEFINITION, indent=2), encoding="utf-8")
        emulator.set_lifecycle(finish_after_polls=4, final_status="Succeeded")
        bin_dir = Path(tmp) / "opt-resource"
        bin_dir.mkdir()
        for name in ("check", "in", "out"):
            (bin_dir / name).symlink_to(pyz)
        source = {
            "pipeline": PIPELINE,
            "endpoint_url": emulator.url,
            "sts_endpoint_url": emulator.url,
            "access_key_id": "demo-access-key",
            "secret_access_key": "demo-secret-access-key-0123456789",
        }
        deploy = {"definition_file": "definition/pipeline.json", "pipeline_role_arn": ROLE}
        put = step(
            bin_dir, "out",
            {"source": source, "params": {**deploy, "parameters": {"Epochs": 3}, "wait": True, "poll_interval": 1}},
            sources,
        )  # fmt: skip
        versions = step(bin_dir, "check", {"source": source, "version": put["version"]})
        destination = Path(tmp) / "execution"
        step(bin_dir, "in", {"source": source, "version": versions[-1]}, destination)
        print(f"\n=== files written by in, in {destination}")
        for path in sorted(destination.iterdir()):
            text = path.read_text(encoding="utf-8")
            lines = text.splitlines()
            more = f"\n... ({len(lines) - 12} more lines)" if len(lines) > 12 else ""
            show(path.name, "\n".join(lines[:12]) + more)
        print(
            "\ndemo: out created the pipeline from definition/pipeline.json and ran that version, check found the "
            "execution, in downloaded it (model_package_arn and the job names for a deploy job). "
            "The emulator is stopped."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
