"""put with definition_file, through the .pyz: create, update only on a change, the start pinned to the version.

The pipeline of ``source.pipeline`` does not exist in these tests until the first put creates it (the
``pipeline`` fixture is not used). The STS endpoint is the emulator's, which answers GetCallerIdentity with
the account of the fake keys (123456789012, the account of the ARN).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-deploy"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-pipeline-execution"
OTHER_ROLE = "arn:aws:iam::123456789012:role/sagemaker-pipeline-execution-v2"


def definition(*steps: str, epochs: str = "10") -> dict[str, Any]:
    """A pipeline definition as the SageMaker SDK writes it (the parts the emulator reads)."""
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [{"Name": "Epochs", "Type": "String", "DefaultValue": epochs}],
        "PipelineExperimentConfig": {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        },
        "Steps": [{"Name": name, "Type": kind, "Arguments": {}} for name, kind in (s.split(":") for s in steps)],
    }


@pytest.fixture
def deploy_source(emulator: Any) -> dict[str, Any]:
    return {
        "pipeline": PIPELINE,
        "endpoint_url": emulator.url,
        "sts_endpoint_url": emulator.url,
        "access_key_id": ACCESS_KEY_ID,
        "secret_access_key": SECRET_ACCESS_KEY,
        "max_attempts": 2,
    }


def write(directory: Path, document: Any, name: str = "out/pipeline.json") -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2), encoding="utf-8")
    return name


_builds = itertools.count(100)


def put(run: Any, source: dict[str, Any], sources: Path, **params: Any) -> Any:
    """A put in a build of its own (the same build's same put gets back its first execution: idempotency)."""
    build = str(next(_builds))
    payload = {"source": source, "params": {"pipeline_role_arn": ROLE, **params}}
    return run("out", payload, directory=sources, env={"BUILD_ID": build, "BUILD_NAME": build})


def metadata(result: Any) -> dict[str, str]:
    return {item["name"]: item["value"] for item in result.json["metadata"]}


def test_first_put_creates_the_pipeline_and_runs_version_1(run, emulator, deploy_source, sm, tmp_path):
    sources = tmp_path / "build"
    name = write(sources, definition("Prepare:Processing", "Train:Training"))
    result = put(run, deploy_source, sources, definition_file=name, pipeline_description="Churn model")
    counts = emulator.request_counts()  # the put's calls only
    meta = metadata(result)
    assert meta["deploy"] == "created" and meta["pipeline_version_id"] == "1"
    described = sm.describe_pipeline(PipelineName=PIPELINE)
    assert json.loads(described["PipelineDefinition"]) == definition("Prepare:Processing", "Train:Training")
    assert described["RoleArn"] == ROLE and described["PipelineDescription"] == "Churn model"
    execution = sm.describe_pipeline_execution(PipelineExecutionArn=result.json["version"]["execution_arn"])
    assert execution["PipelineVersionId"] == 1
    assert "pipeline created: version 1" in result.stderr
    assert counts["CreatePipeline"] == 1 and counts["GetCallerIdentity"] == 1 and "UpdatePipeline" not in counts
    assert counts["ListPipelineVersions"] == 2 and "DescribePipeline" not in counts


def test_changed_definition_updates_and_pins_the_new_version(run, emulator, deploy_source, sm, tmp_path):
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    put(run, deploy_source, sources, definition_file=name).json
    write(sources, definition("Train:Training", "Evaluate:Processing"))
    emulator.clear_requests()
    result = put(run, deploy_source, sources, definition_file=name)
    meta = metadata(result)
    assert meta["deploy"] == "updated" and meta["deploy_changed"] == "definition"
    assert meta["pipeline_version_id"] == "2"
    arn = result.json["version"]["execution_arn"]
    ran = sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"]
    assert [s["Name"] for s in json.loads(ran)["Steps"]] == ["Train", "Evaluate"]
    counts = emulator.request_counts()
    assert counts["UpdatePipeline"] == 1 and "CreatePipeline" not in counts
    assert counts["ListPipelineVersions"] == 1 and counts["DescribePipeline"] == 1 and counts["GetCallerIdentity"] == 1


def test_the_start_runs_the_deployed_version_not_the_latest(run, emulator, deploy_source, sm, tmp_path):
    """Another deploy lands between this put's deploy and its start: the start still runs this put's version."""
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    put(run, deploy_source, sources, definition_file=name).json
    emulator.clear_requests()
    emulator.inject_fault("latency", operation="StartPipelineExecution", latency_seconds=2)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(put, run, deploy_source, sources, definition_file=name)
        deadline = time.monotonic() + 60
        while "StartPipelineExecution" not in emulator.request_counts():  # received, not yet handled
            assert time.monotonic() < deadline and not running.done()
            time.sleep(0.05)
        sm.update_pipeline(PipelineName="churn-deploy", PipelineDefinition=json.dumps(definition("Other:Processing")))
        result = running.result()
    assert metadata(result)["deploy"] == "unchanged"
    execution = sm.describe_pipeline_execution(PipelineExecutionArn=result.json["version"]["execution_arn"])
    assert execution["PipelineVersionId"] == 1
    assert len(sm.list_pipeline_versions(PipelineName=PIPELINE)["PipelineVersionSummaries"]) == 2


def test_a_deploy_after_another_one_updates_again(run, emulator, deploy_source, sm, tmp_path):
    """Compared with the newest version, not with what this job deployed last time."""
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    put(run, deploy_source, sources, definition_file=name).json
    sm.update_pipeline(PipelineName="churn-deploy", PipelineDefinition=json.dumps(definition("Other:Processing")))
    result = put(run, deploy_source, sources, definition_file=name)
    meta = metadata(result)
    assert meta["deploy"] == "updated" and meta["pipeline_version_id"] == "3"
    execution = sm.describe_pipeline_execution(PipelineExecutionArn=result.json["version"]["execution_arn"])
    assert execution["PipelineVersionId"] == 3


def test_unchanged_definition_makes_no_new_version(run, emulator, deploy_source, sm, tmp_path):
    sources = tmp_path / "build"
    document = definition("Train:Training")
    name = write(sources, document)
    first = put(run, deploy_source, sources, definition_file=name).json
    write(sources, json.dumps(document, indent=4, sort_keys=True))  # same JSON, other formatting
    emulator.clear_requests()
    again = put(run, deploy_source, sources, definition_file=name)
    meta = metadata(again)
    assert meta["deploy"] == "unchanged" and meta["pipeline_version_id"] == "1"
    assert again.json["version"] != first["version"]  # a second execution, of the same version
    counts = emulator.request_counts()
    assert "UpdatePipeline" not in counts and "CreatePipeline" not in counts
    assert counts["ListPipelineVersions"] == 1 and counts["DescribePipeline"] == 1
    versions = sm.list_pipeline_versions(PipelineName=PIPELINE)["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [1]


def test_changed_role_alone_updates(run, emulator, deploy_source, sm, tmp_path):
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    put(run, deploy_source, sources, definition_file=name).json
    result = run(
        "out",
        {"source": deploy_source, "params": {"definition_file": name, "pipeline_role_arn": OTHER_ROLE}},
        directory=sources,
    )
    assert metadata(result)["deploy_changed"] == "role"
    assert sm.describe_pipeline(PipelineName=PIPELINE)["RoleArn"] == OTHER_ROLE


def test_retried_create_is_idempotent(run, emulator, deploy_source, sm, tmp_path):
    """The create's answer is lost: botocore sends it again with the same token, and nothing breaks."""
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    emulator.inject_fault("lose_response", operation="CreatePipeline")
    result = put(run, deploy_source, sources, definition_file=name)
    assert metadata(result)["deploy"] == "created"
    assert emulator.request_counts()["CreatePipeline"] == 2
    assert len(sm.list_pipeline_versions(PipelineName=PIPELINE)["PipelineVersionSummaries"]) == 1


def test_create_in_another_account_is_refused(run, emulator, deploy_source, tmp_path):
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    source = {**deploy_source, "pipeline": "arn:aws:sagemaker:us-east-1:210987654321:pipeline/churn-deploy"}
    result = run("out", {"source": source, "params": {"definition_file": name, "pipeline_role_arn": ROLE}}, sources)
    assert result.returncode == 1
    assert "account 123456789012, not 210987654321" in result.stderr
    assert "CreatePipeline" not in emulator.request_counts()


BAD_DEFINITIONS = {
    "missing": (None, "no file at 'pipeline.json'"),
    "not JSON": ("{'Version': '2020-12-01'", "is not valid JSON"),
    "a list": ("[1, 2]", "has no Version or Steps"),
    "no Steps": ({"Version": "2020-12-01"}, "has no Steps"),
    "no Version": ({"Steps": []}, "has no Version"),
    "Steps not a list": ({"Version": "2020-12-01", "Steps": {}}, "Steps is not a list"),
    "too large": (
        {"Version": "2020-12-01", "Steps": [], "Metadata": {"blob": "x" * 1_048_576}},
        "at most 1,048,576 characters",
    ),
    "far too large": (  # over 4 bytes per allowed character: refused before it is read
        {"Version": "2020-12-01", "Steps": [], "Metadata": {"blob": "x" * (4 * 1_048_576)}},
        "bytes; CreatePipeline and UpdatePipeline take a definition of at most 1,048,576 characters",
    ),
    "not UTF-8": (b"\xff\xfe{}", "is not UTF-8"),
    "NUL": ('{"Version": "2020-12-01", "Steps": []}\x00', "holds a NUL character"),
}


@pytest.mark.parametrize("case", sorted(BAD_DEFINITIONS))
def test_bad_definition_is_refused_with_no_aws_call(run, emulator, deploy_source, tmp_path, case):
    content, message = BAD_DEFINITIONS[case]
    sources = tmp_path / "build"
    (sources / "out").mkdir(parents=True)
    if isinstance(content, bytes):
        (sources / "out" / "pipeline.json").write_bytes(content)
    elif content is not None:
        write(sources, content)
    emulator.clear_requests()
    result = put(run, deploy_source, sources, definition_file="out/pipeline.json")
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and "params.definition_file" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert emulator.request_counts() == {}


def test_too_large_names_what_to_do_instead(run, emulator, deploy_source, tmp_path):
    sources = tmp_path / "build"
    name = write(sources, {"Version": "2020-12-01", "Steps": [], "Metadata": {"blob": "x" * 1_100_000}})
    result = put(run, deploy_source, sources, definition_file=name)
    assert "PipelineDefinitionS3Location" in result.stderr and "smaller" in result.stderr


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"definition_file": "../outside.json"}, "out of the build's directory"),
        ({"definition_file": "/etc/passwd"}, "out of the build's directory"),
        ({"definition_file": "out/pipeline.json", "pipeline_role_arn": None}, "needs params.pipeline_role_arn"),
        ({"definition_file": "out/pipeline.json", "pipeline_role_arn": "sagemaker-role"}, "not an IAM role ARN"),
        (
            {"definition_file": "out/pipeline.json", "pipeline_role_arn": "arn:aws:iam::123456789012:user/ci"},
            "not an IAM role ARN",
        ),
        ({"pipeline_role_arn": ROLE, "definition_file": None}, "only applies with params.definition_file"),
        ({"definition_file": "out/pipeline.json", "pipeline_version_id": 2}, "both set"),
        ({"definition_file": "out/pipeline.json", "pipeline_display_name": "has spaces"}, "pipeline display name"),
    ],
)
def test_bad_deploy_params_are_refused_with_no_aws_call(run, emulator, deploy_source, tmp_path, params, message):
    sources = tmp_path / "build"
    write(sources, definition("Train:Training"))
    (tmp_path / "outside.json").write_text(json.dumps(definition("Train:Training")), encoding="utf-8")
    emulator.clear_requests()
    payload = {"pipeline_role_arn": ROLE, **params}
    result = run(
        "out", {"source": deploy_source, "params": {k: v for k, v in payload.items() if v is not None}}, sources
    )
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert emulator.request_counts() == {}


def test_the_same_put_run_again_gets_its_first_execution(run, emulator, deploy_source, tmp_path):
    """Concourse retries a put (attempts:): the deploy finds nothing to change and the start is the same one."""
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    payload = {"source": deploy_source, "params": {"definition_file": name, "pipeline_role_arn": ROLE}}
    first = run("out", payload, sources)
    again = run("out", payload, sources)
    assert metadata(first)["deploy"] == "created" and metadata(again)["deploy"] == "unchanged"
    assert again.json["version"] == first.json["version"]


def test_a_link_out_of_the_build_directory_is_refused(run, emulator, deploy_source, tmp_path):
    sources = tmp_path / "build"
    (sources / "out").mkdir(parents=True)
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps(definition("Train:Training")), encoding="utf-8")
    (sources / "out" / "pipeline.json").symlink_to(outside)
    emulator.clear_requests()
    result = put(run, deploy_source, sources, definition_file="out/pipeline.json")
    assert result.returncode == 1 and "out of the build's directory" in result.stderr
    assert emulator.request_counts() == {}


def test_a_pipe_is_refused_without_blocking(run, emulator, deploy_source, tmp_path):
    sources = tmp_path / "build"
    (sources / "out").mkdir(parents=True)
    os.mkfifo(sources / "out" / "pipeline.json")
    emulator.clear_requests()
    result = put(run, deploy_source, sources, definition_file="out/pipeline.json")  # the Runner's timeout: 120 s
    assert result.returncode == 1 and "not a regular file" in result.stderr
    assert emulator.request_counts() == {}


def test_check_fails_until_the_first_deploy_then_finds_its_execution(run, emulator, deploy_source, tmp_path):
    """Documented: a check of a pipeline that no put has created yet fails (a wrong ARN must not look empty)."""
    before = run("check", {"source": deploy_source})
    assert before.returncode == 1 and "does not exist" in before.stderr
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    version = put(run, deploy_source, sources, definition_file=name).json["version"]
    emulator.finish(version["execution_arn"], "Succeeded")
    assert run("check", {"source": deploy_source}).json == [version]


def test_two_first_deploys_at_once_the_second_updates_the_first(run, emulator, deploy_source, sm, tmp_path):
    """Another build creates the pipeline while this put's create is on its way: no failure, an update instead."""
    sources = tmp_path / "build"
    name = write(sources, definition("Train:Training"))
    emulator.inject_fault("latency", operation="CreatePipeline", latency_seconds=2)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(put, run, deploy_source, sources, definition_file=name)
        deadline = time.monotonic() + 60
        while "CreatePipeline" not in emulator.request_counts():  # received, not yet handled
            assert time.monotonic() < deadline and not running.done()
            time.sleep(0.05)
        sm.create_pipeline(
            PipelineName="churn-deploy",
            PipelineDefinition=json.dumps(definition("Other:Processing")),
            RoleArn=ROLE,
            ClientRequestToken="another-build-" + "0" * 32,
        )
        result = running.result()
    meta = metadata(result)
    assert "created meanwhile" in result.stderr
    assert meta["deploy"] == "updated" and meta["pipeline_version_id"] == "2"
