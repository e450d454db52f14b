"""What a deploy job needs from an execution, as plain files for ``load_var``: model packages and job names.

A job that deploys what a pipeline registered should not have to parse ``steps.json``: get writes, from
each step's ``Metadata`` in ListPipelineExecutionSteps,

- ``model_package_arn``: the model package that the last ``RegisterModel`` step to succeed registered
  (``Metadata.RegisterModel.Arn``), plain text;
- ``training_job_name``, ``processing_job_name``, ``transform_job_name``, ``tuning_job_name``: the job the
  last such step ran (``Metadata.TrainingJob.Arn``...: the name is the ARN's resource part), plain text;
- ``artifacts.json``: all of them by step name, ``{"model_packages": {STEP: ARN}, "training_jobs": {STEP:
  {"arn": ARN, "name": NAME}}, ...}``, for pipelines with several.

A file is written only when the execution has something to put in it, so that ``load_var`` fails loudly on
an execution that registered nothing rather than handing an empty string to a deploy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagemaker_pipeline_resource import jsonio

# Step metadata key -> (key in artifacts.json, plain-text file of the last one).
JOB_KINDS = {
    "TrainingJob": ("training_jobs", "training_job_name"),
    "ProcessingJob": ("processing_jobs", "processing_job_name"),
    "TransformJob": ("transform_jobs", "transform_job_name"),
    "TuningJob": ("tuning_jobs", "tuning_job_name"),
}


def _arn(metadata: object, key: str) -> str | None:
    entry = metadata.get(key) if isinstance(metadata, dict) else None
    arn = entry.get("Arn") if isinstance(entry, dict) else None
    return arn if isinstance(arn, str) and arn else None


def collect(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The model packages (of succeeded steps) and jobs (of any step) in ``steps``, oldest step first."""
    found: dict[str, dict[str, Any]] = {"model_packages": {}}
    for step in steps:
        name = str(step.get("StepName"))
        metadata = step.get("Metadata")
        package = _arn(metadata, "RegisterModel")
        if package and step.get("StepStatus") == "Succeeded":
            found["model_packages"][name] = package
        for key, (group, _file) in JOB_KINDS.items():
            arn = _arn(metadata, key)
            if arn:
                found.setdefault(group, {})[name] = {"arn": arn, "name": arn.split("/", 1)[-1]}
    return {group: items for group, items in found.items() if items}


def write_artifacts(destination: Path, steps: list[dict[str, Any]]) -> None:
    """Write ``artifacts.json`` and the plain-text files for whatever the execution registered or ran."""
    found = collect(steps)
    if not found:
        return
    jsonio.write(destination / "artifacts.json", found)
    packages = found.get("model_packages", {})
    if packages:
        (destination / "model_package_arn").write_text(list(packages.values())[-1] + "\n", encoding="utf-8")
    for group, file_name in JOB_KINDS.values():
        jobs = found.get(group, {})
        if jobs:
            (destination / file_name).write_text(list(jobs.values())[-1]["name"] + "\n", encoding="utf-8")
