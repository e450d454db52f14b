"""out (put), through the .pyz: parameters, names from the build, idempotency, agreeing with check."""

import json
import re

from sagemaker_pipeline_resource.versions.marker import strip
from tests.conftest import BUILD_ENV


def test_put_starts_an_execution_with_parameters(run, emulator, pipeline, source):
    params = {"parameters": {"Epochs": 5, "Dropout": 0.2, "Verbose": True, "Build": "b-$BUILD_ID"}}
    result = run("out", {"source": source, "params": params})
    arn = result.json["version"]["execution_arn"]
    assert arn.startswith(pipeline + "/execution/")
    got = run("in", {"source": source, "version": {"execution_arn": arn}, "params": {"wait": False}})
    assert got.returncode == 0
    parameters = json.loads((run.tmp_path / "in" / "parameters.json").read_text(encoding="utf-8"))
    assert parameters["Epochs"] == "5" and parameters["Dropout"] == "0.2" and parameters["Verbose"] == "true"
    assert parameters["Build"] == "b-4242"
    execution = json.loads((run.tmp_path / "in" / "execution.json").read_text(encoding="utf-8"))
    assert execution["PipelineExecutionDisplayName"] == "concourse-ml-models-train-17"
    assert (
        "https://ci.example.com/teams/data-science/pipelines/ml-models/jobs/train/builds/17"
        in (execution["PipelineExecutionDescription"])
    )


def test_put_is_idempotent_for_the_same_build(run, emulator, pipeline, source):
    payload = {"source": source, "params": {"parameters": {"Epochs": "1"}}}
    first = run("out", payload).json["version"]
    again = run("out", payload).json["version"]
    assert first == again
    other_build = run("out", payload, env={"BUILD_ID": "4243", "BUILD_NAME": "18"}).json["version"]
    assert other_build != first
    other_params = run("out", {"source": source, "params": {"parameters": {"Epochs": "2"}}}).json["version"]
    assert other_params != first


def test_put_version_is_the_version_check_emits(run, emulator, pipeline, source):
    [older] = emulator.seed_executions(pipeline, 1)
    put = run("out", {"source": source, "params": {}}).json["version"]
    emulator.finish(put["execution_arn"], "Succeeded")
    # Without a previous version check emits only the newest: it must be put's, byte for byte.
    assert run("check", {"source": source}).json == [put]
    # Handed an older version (another history over the same source, which never saw this put), check emits
    # the put's execution after it, the same object the put emitted (docs/ordering.md "Ordering": several histories).
    assert run("check", {"source": source, "version": {"execution_arn": older}}).json == [{"execution_arn": older}, put]


def test_display_name_and_description_params(run, emulator, pipeline, source, sm):
    params = {"display_name": "nightly-$BUILD_NAME", "description": "Run $BUILD_PIPELINE_NAME"}
    arn = run("out", {"source": source, "params": params}).json["version"]["execution_arn"]
    description = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert description["PipelineExecutionDisplayName"] == "nightly-17"
    # The user's text, then the marker that places this put's version in the history (docs/ordering.md "Ordering").
    text = description["PipelineExecutionDescription"]
    assert re.fullmatch(
        r"Run ml-models \[concourse sagemaker-pipeline-resource: scope=[0-9a-f]{8} saved req=[0-9a-f]{8}"
        r"( (before|after)=\S+)?\]",
        text,
    )


def test_bad_display_name_is_refused_before_any_call(run, emulator, source):
    emulator.clear_requests()
    result = run("out", {"source": source, "params": {"display_name": "has spaces_and_underscores"}})
    assert result.returncode == 1 and "display name" in result.stderr
    assert emulator.request_counts().get("StartPipelineExecution", 0) == 0


def test_every_build_variable_reaches_the_execution(run, emulator, source, sm):
    """Each variable Concourse sets changes what put sends: none is ignored, none is mixed up with another."""
    env = {
        "BUILD_ID": "901",
        "BUILD_NAME": "55",
        "BUILD_JOB_NAME": "deploy",
        "BUILD_PIPELINE_NAME": "fraud",
        "BUILD_TEAM_NAME": "risk",
        "ATC_EXTERNAL_URL": "https://concourse.example.org",
    }
    assert set(env) == set(BUILD_ENV)  # the same variables the other tests run with
    arn = run("out", {"source": source, "params": {}}, env=env).json["version"]["execution_arn"]
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionDisplayName"] == "concourse-fraud-deploy-55"
    assert (
        strip(described["PipelineExecutionDescription"])
        == (  # then the marker (docs/ordering.md "Ordering")
            "Started by Concourse build risk/fraud/deploy #55: "
            "https://concourse.example.org/teams/risk/pipelines/fraud/jobs/deploy/builds/55 "
        ).strip()
    )
    # The idempotency token covers every variable, BUILD_ID included: changing any one starts a new execution.
    seen = {arn}
    for name, value in env.items():
        changed = run("out", {"source": source, "params": {}}, env={**env, name: value + "1"})
        seen.add(changed.json["version"]["execution_arn"])
    assert len(seen) == len(env) + 1
