"""get's files for a deploy job (model_package_arn, job names, artifacts.json), through the .pyz."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml

from sagemaker_pipeline_resource.config.params import PutParams
from tests import docs_text

STEPS = [
    {"name": "Preprocess", "type": "Processing"},
    {"name": "Train", "type": "Training"},
    {"name": "Evaluate", "type": "Processing"},
    {"name": "Register", "type": "RegisterModel", "arguments": {"ModelPackageGroupName": "ChurnModels"}},
]


def get(run: Any, source: dict[str, Any], arn: str, tmp_path: Path, **params: Any) -> Path:
    destination = tmp_path / "got"
    result = run("in", {"source": source, "version": {"execution_arn": arn}, "params": params}, destination)
    assert result.returncode == 0, result.stderr
    return destination


def steps_by_name(directory: Path) -> dict[str, dict[str, Any]]:
    steps = json.loads((directory / "steps.json").read_text(encoding="utf-8"))
    return {step["StepName"]: step for step in steps}


def text(directory: Path, name: str) -> str:
    return (directory / name).read_text(encoding="utf-8")


def test_files_name_the_model_package_and_the_jobs(run, emulator, source, tmp_path):
    pipeline = emulator.create_pipeline("churn-registered", steps=STEPS)
    arn = emulator.start_execution(pipeline, status="Succeeded")
    got = get(run, {**source, "pipeline": pipeline}, arn, tmp_path)
    steps = steps_by_name(got)
    package = steps["Register"]["Metadata"]["RegisterModel"]["Arn"]
    assert ":model-package/churnmodels/" in package
    assert text(got, "model_package_arn") == package + "\n"
    train = steps["Train"]["Metadata"]["TrainingJob"]["Arn"]
    assert text(got, "training_job_name") == train.split(":training-job/")[1] + "\n"
    evaluate = steps["Evaluate"]["Metadata"]["ProcessingJob"]["Arn"]
    assert text(got, "processing_job_name") == evaluate.split(":processing-job/")[1] + "\n"  # the last one
    artifacts = json.loads(text(got, "artifacts.json"))
    assert artifacts["model_packages"] == {"Register": package}
    assert set(artifacts["processing_jobs"]) == {"Preprocess", "Evaluate"}
    assert artifacts["training_jobs"]["Train"] == {"arn": train, "name": train.split("/", 1)[1]}
    assert not (got / "transform_job_name").exists()


def test_two_registered_models_the_last_in_the_file_both_in_the_json(run, emulator, source, tmp_path):
    small = {"name": "RegisterSmall", "type": "RegisterModel", "arguments": {"ModelPackageGroupName": "Small"}}
    steps = [*STEPS, small]
    pipeline = emulator.create_pipeline("churn-two-models", steps=steps)
    arn = emulator.start_execution(pipeline, status="Succeeded")
    got = get(run, {**source, "pipeline": pipeline}, arn, tmp_path)
    artifacts = json.loads(text(got, "artifacts.json"))
    assert list(artifacts["model_packages"]) == ["Register", "RegisterSmall"]
    assert text(got, "model_package_arn") == artifacts["model_packages"]["RegisterSmall"] + "\n"
    assert ":model-package/small/" in text(got, "model_package_arn")


def test_a_failed_registration_leaves_no_model_package_file(run, emulator, source, sm, tmp_path):
    pipeline = emulator.create_pipeline("churn-failed", steps=STEPS)
    emulator.set_lifecycle(finish_after_polls=0, final_status="Failed", failing_step="Register")
    arn = sm.start_pipeline_execution(PipelineName=pipeline, ClientRequestToken="t" * 32)["PipelineExecutionArn"]
    got = get(run, {**source, "pipeline": pipeline}, arn, tmp_path)
    register = steps_by_name(got)["Register"]
    assert register["StepStatus"] == "Failed" and register["Metadata"]["RegisterModel"]["Arn"]
    assert not (got / "model_package_arn").exists()
    assert "model_packages" not in json.loads(text(got, "artifacts.json"))
    assert (got / "training_job_name").exists()  # the jobs that ran are still named


def test_nothing_to_name_writes_no_files(run, emulator, source, tmp_path):
    pipeline = emulator.create_pipeline("churn-check", steps=[{"name": "Gate", "type": "Condition"}])
    arn = emulator.start_execution(pipeline, status="Succeeded")
    got = get(run, {**source, "pipeline": pipeline}, arn, tmp_path)
    assert not (got / "artifacts.json").exists() and not (got / "model_package_arn").exists()


def test_skip_steps_writes_none_of_them(run, emulator, source, tmp_path):
    pipeline = emulator.create_pipeline("churn-skip", steps=STEPS)
    arn = emulator.start_execution(pipeline, status="Succeeded")
    got = get(run, {**source, "pipeline": pipeline}, arn, tmp_path, skip_steps=True)
    assert not (got / "artifacts.json").exists() and not (got / "model_package_arn").exists()


def test_the_readme_example_loads_files_that_get_writes(run, emulator, source, tmp_path):
    """The example pipeline's deploy job: every load_var file is one get writes, every put param is known."""
    readme = docs_text.text()
    example = yaml.safe_load(readme.split("## Example pipeline", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0])
    plans = [step for job in example["jobs"] for step in job["plan"]]
    loaded = {step["file"].split("/", 1)[1] for step in plans if "load_var" in step}
    assert {"model_package_arn", "training_job_name"} <= loaded
    pipeline = emulator.create_pipeline("churn-example", steps=STEPS)
    got = get(run, {**source, "pipeline": pipeline}, emulator.start_execution(pipeline, status="Succeeded"), tmp_path)
    assert loaded <= {path.name for path in got.iterdir()}
    put_params = {key for step in plans if "put" in step for key in step.get("params", {})}
    assert put_params <= {field.name for field in dataclasses.fields(PutParams)}
