"""Promises of the README that the code once broke (issue #18), each tested through the built .pyz.

display_name's length, partitions and regions, "did you mean" without internal fields, a selective
execution's source of another pipeline, ``failed_step`` with ``skip_steps``, and flat YAML as YAML reads it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import botocore
import pytest

from sagemaker_pipeline_resource.config.arns import parse_execution_arn, parse_pipeline_arn
from sagemaker_pipeline_resource.config.params import PUT_ACTIONS, WAIT_ONLY, PutParams
from sagemaker_pipeline_resource.errors import ResourceError
from sagemaker_pipeline_resource.execution.reading import metadata
from tests import docs_text
from tests.conftest import clean_env, parameters_of


def refused_before_any_call(result: Any, emulator: Any, fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    assert fragment in result.stderr, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert sum(emulator.request_counts().values()) == 0


# 1. display_name: letters, digits and dashes, up to 82 characters.


def test_display_name_longer_than_82_is_refused_whatever_its_dashes(run, emulator, source):
    emulator.clear_requests()
    result = run("out", {"source": source, "params": {"display_name": "a" + "-" * 100 + "b"}})
    refused_before_any_call(result, emulator, "params.display_name must be up to 82 characters, but it has 102")
    result = run("out", {"source": source, "params": {"display_name": "x" * 83}})
    refused_before_any_call(result, emulator, "up to 82 characters")


def test_display_name_of_82_with_double_dashes_is_sent(run, emulator, source, sm):
    name = "a--b" + "c" * 78  # AWS's pattern allows runs of dashes between letters and digits
    arn = run("out", {"source": source, "params": {"display_name": name}}).json["version"]["execution_arn"]
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionDisplayName"] == name


# 2. Any partition, and every region the locked botocore knows.


def botocore_regions() -> list[tuple[str, str]]:
    partitions = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    return [
        (partition["id"], region)
        for partition in partitions["partitions"]
        for region in partition["regions"]
        if not region.endswith("-global")
    ]


def test_every_partition_and_region_of_the_locked_botocore_is_accepted() -> None:
    regions = botocore_regions()
    assert ("aws-eusc", "eusc-de-east-1") in regions and len(regions) > 40
    for partition, region in regions:
        arn = f"arn:{partition}:sagemaker:{region}:123456789012:pipeline/churn-model"
        parsed = parse_pipeline_arn(arn)
        assert (parsed.partition, parsed.region, str(parsed)) == (partition, region, arn)
        assert parse_execution_arn(arn + "/execution/abc123").pipeline == parsed


def test_the_pyz_takes_an_aws_eusc_pipeline(run, emulator, source):
    """The .pyz's own botocore resolves the region: the first call reaches the (emulated) endpoint."""
    eusc = "arn:aws-eusc:sagemaker:eusc-de-east-1:123456789012:pipeline/churn-model"
    emulator.clear_requests()
    result = run("check", {"source": {**source, "pipeline": eusc}})
    assert "is not a valid SageMaker pipeline ARN" not in result.stderr
    assert emulator.request_counts().get("ListPipelineExecutions", 0) >= 1, result.stderr


# 5. "Did you mean" names only keys a user can write.


def test_did_you_mean_never_suggests_an_internal_field(run, emulator, source):
    emulator.clear_requests()
    result = run("check", {"source": {**source, "pipeline_arn": source["pipeline"]}})
    refused_before_any_call(result, emulator, "unknown key 'pipeline_arn'. Did you mean 'pipeline'?")
    assert "'pipeline_arn'?" not in result.stderr and "pipeline_arn," not in result.stderr


# 6. A selective execution reuses an execution of the same pipeline only.


def test_selective_source_of_another_pipeline_is_refused_before_any_call(run, emulator, source):
    other = emulator.create_pipeline("other-model")
    foreign = emulator.start_execution(other)
    emulator.finish(foreign, "Failed", failure_reason="x")
    emulator.clear_requests()
    params = {"selective_execution": {"steps": ["Train"], "source_execution_arn": foreign}}
    result = run("out", {"source": source, "params": params})
    refused_before_any_call(result, emulator, "is an execution of another pipeline")
    assert "params.selective_execution.source_execution_arn" in result.stderr


# 7. failed_step is shown for a failed execution, with skip_steps too.


def test_failed_step_with_skip_steps(run, emulator, pipeline, source, tmp_path):
    arn = emulator.start_execution(pipeline)
    emulator.finish(arn, "Failed", failure_reason="Step Train failed")
    dest = tmp_path / "skipped"
    payload = {"source": source, "version": {"execution_arn": arn}, "params": {"skip_steps": True}}
    result = run("in", payload, directory=dest).json
    meta = {item["name"]: item["value"] for item in result["metadata"]}
    assert meta["status"] == "Failed" and meta["failed_step"] in ("Preprocess", "Train")
    assert not (dest / "steps.json").exists()


def test_skip_steps_still_saves_the_call_when_nothing_failed(run, emulator, pipeline, source):
    [arn] = emulator.seed_executions(pipeline, 1)
    emulator.clear_requests()
    payload = {"source": source, "version": {"execution_arn": arn}, "params": {"skip_steps": True}}
    run("in", payload).json
    assert emulator.request_counts().get("ListPipelineExecutionSteps", 0) == 0


# 8. Flat YAML as YAML reads it.


def put_file(run, source, tmp_path, text: str) -> Any:
    sources = tmp_path / "sources"
    sources.mkdir(exist_ok=True)
    (sources / "params.yml").write_text(text, encoding="utf-8")
    return run("out", {"source": source, "params": {"parameters_file": "params.yml"}}, directory=sources)


def test_yaml_quoted_values_with_comments(run, emulator, source, tmp_path, sm):
    lines = ['A: "x"  # comment', "B: 'it''s'   # another", "C: plain value # trailing", 'D: "has # inside"']
    text = "\n".join([*lines, "E: a#b", "F: ''"]) + "\n"
    arn = put_file(run, source, tmp_path, text).json["version"]["execution_arn"]
    values = parameters_of(sm, arn)
    assert {key: values[key] for key in "ABCDEF"} == {
        "A": "x",
        "B": "it's",
        "C": "plain value",
        "D": "has # inside",
        "E": "a#b",
        "F": "",
    }


@pytest.mark.parametrize("value", ["~", "null", "Null", "NULL", "", "  # nothing but a comment"])
def test_yaml_null_is_refused_like_json_null(run, emulator, source, tmp_path, value):
    emulator.clear_requests()
    result = put_file(run, source, tmp_path, f"Epochs: 3\nA: {value}\n".replace(": \n", ":\n"))
    refused_before_any_call(result, emulator, "params.parameters_file (params.yml), line 2: the value is null")
    assert "'' for an empty string" in result.stderr


def test_json_null_is_refused_the_same_way(run, emulator, source):
    emulator.clear_requests()
    result = run("out", {"source": source, "params": {"parameters": {"A": None}}})
    refused_before_any_call(result, emulator, "params.parameters.A is null")


def test_text_after_a_quoted_value_is_an_error(run, emulator, source, tmp_path):
    emulator.clear_requests()
    result = put_file(run, source, tmp_path, 'A: "x" y\n')
    refused_before_any_call(result, emulator, "unexpected text after the quoted value")


# 10. created_by: the user profile's name, else the IAM identity's ARN.


def test_created_by_shows_the_iam_identity() -> None:
    pipeline = parse_pipeline_arn("arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model")
    identity = "arn:aws:sts::123456789012:assumed-role/ci/concourse"
    described = {"PipelineExecutionStatus": "Succeeded", "CreatedBy": {"IamIdentity": {"Arn": identity}}}
    assert metadata(described, None, pipeline)["created_by"] == identity
    described["CreatedBy"] = {"UserProfileName": "alice", "IamIdentity": {"Arn": identity}}
    assert metadata(described, None, pipeline)["created_by"] == "alice"
    described["CreatedBy"] = {}
    assert "created_by" not in metadata(described, None, pipeline)


# 13. Wrong-type messages say what the key takes.


@pytest.mark.parametrize("key", ["parameters", "selective_execution"])
def test_wrong_type_message_for_mappings(run, emulator, source, key):
    emulator.clear_requests()
    result = run("out", {"source": source, "params": {key: "Epochs=3"}})
    refused_before_any_call(result, emulator, f"params.{key} must be a mapping of names to values, but it is a string")
    assert "strings to strings" not in result.stderr


# 15. An idle check with role_arn: AssumeRole, then one ListPipelineExecutions.


def test_idle_check_with_a_role_is_two_calls(run, emulator, pipeline, sts_source):
    [arn] = emulator.seed_executions(pipeline, 1)
    source = {**sts_source, "role_arn": "arn:aws:iam::123456789012:role/concourse-sagemaker"}
    emulator.clear_requests()
    assert run("check", {"source": source, "version": {"execution_arn": arn}}).json == [{"execution_arn": arn}]
    assert emulator.request_counts() == {"AssumeRole": 1, "ListPipelineExecutions": 1}


# 18. doctor: GetCallerIdentity through sts_endpoint_url (named when unreachable), then DescribePipeline and
# ListPipelineExecutions.


def doctor(pyz, source):
    """``PYZ doctor`` (under the zipapp's own name, the step is the first argument)."""
    return subprocess.run(
        [str(pyz), "doctor"],
        input=json.dumps({"source": source}),
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
        timeout=120,
    )


def test_doctor_calls(pyz, emulator, pipeline, sts_source):
    emulator.clear_requests()
    done = doctor(pyz, sts_source)
    assert done.returncode == 0, done.stderr
    counts = emulator.request_counts()
    assert counts == {"GetCallerIdentity": 1, "DescribePipeline": 1, "ListPipelineExecutions": 1}


def test_doctor_names_sts_endpoint_url_when_sts_is_unreachable(pyz, emulator, source):
    unreachable = {**source, "sts_endpoint_url": "http://127.0.0.1:9", "max_attempts": 1, "connect_timeout": 1}
    done = doctor(pyz, unreachable)
    assert done.returncode == 1
    assert "http://127.0.0.1:9" in done.stderr and "Check source.sts_endpoint_url/region" in done.stderr
    assert "source.endpoint_url" not in done.stderr


# 12. Templating: parameters (from the file too), display_name and description; `$$` is a `$`.


def test_templating_of_parameters_and_the_file(run, emulator, source, tmp_path, sm):
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "p.yml").write_text("FromFile: run-$BUILD_NAME\n", encoding="utf-8")
    params = {
        "parameters_file": "p.yml",
        "parameters": {"Price": "$$5", "Braced": "${BUILD_ID}x", "Unknown": "$NOT_A_BUILD_VAR"},
        "display_name": "n-$BUILD_ID",
    }
    arn = run("out", {"source": source, "params": params}, directory=sources).json["version"]["execution_arn"]
    values = parameters_of(sm, arn)
    assert values["FromFile"] == "run-17" and values["Price"] == "$5" and values["Braced"] == "4242x"
    assert values["Unknown"] == "$NOT_A_BUILD_VAR"
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionDisplayName"] == "n-4242"


# 19. Exit codes: 2 for a wrong call, 130 when interrupted.


def test_interrupted_is_exit_130(steps_dir):
    process = subprocess.Popen(
        [str(steps_dir / "check")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    time.sleep(1.5)  # reading stdin, which stays open
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted" in stderr and stdout == ""


def test_wrong_call_is_exit_2(pyz):
    done = subprocess.run([str(pyz), "chekc"], capture_output=True, text=True, env=clean_env(), check=False)
    assert done.returncode == 2 and "unknown step 'chekc'" in done.stderr and done.stdout == ""


# 16. The third case that reads more than one page: a first check whose newest counted execution is more than
# a page back.


def test_first_check_pages_back_to_the_newest_counted_execution(run, emulator, pipeline, source):
    now = dt.datetime.now(dt.timezone.utc)
    [counted] = emulator.seed_executions(pipeline, 1, start=now - dt.timedelta(hours=5))
    emulator.seed_executions(pipeline, 150, status="Stopped", start=now - dt.timedelta(hours=4), interval_seconds=10)
    emulator.clear_requests()
    result = run("check", {"source": {**source, "statuses": ["Succeeded"]}})
    assert result.json == [{"execution_arn": counted}]
    assert emulator.request_counts() == {"ListPipelineExecutions": 2}


# 14. Which params each action takes: the README's list, against PutParams.

EXECUTION = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model/execution/abc123"
SAMPLES: dict[str, object] = {
    "parameters": {"A": "b"},
    "parameters_file": "p.yml",
    "display_name": "n",
    "description": "d",
    "parallelism": 2,
    "selective_execution": {"steps": ["Train"]},
    "pipeline_version_id": 1,
    "client_request_token": "t" * 32,
    "definition_file": "pipeline.json",
    "pipeline_role_arn": "arn:aws:iam::123456789012:role/run",
    "pipeline_description": "d",
    "pipeline_display_name": "n",
    "execution_arn": EXECUTION,
    "execution_arn_file": "get",
    "wait": True,
    "poll_interval": 5,
    "timeout": 10,
    "stop_on_timeout": True,
    "stop_on_abort": False,
    "fail_on": ["Failed"],
    "outage_budget": 60,
}
NEEDS_TOO: dict[str, dict[str, object]] = {
    "stop_on_timeout": {"timeout": 10},
    **{
        key: {"definition_file": "pipeline.json", "pipeline_role_arn": "arn:aws:iam::123456789012:role/run"}
        for key in ("pipeline_description", "pipeline_display_name")
    },
    "definition_file": {"pipeline_role_arn": "arn:aws:iam::123456789012:role/run"},
    "pipeline_role_arn": {"definition_file": "pipeline.json"},
}


def readme_action_params() -> dict[str, set[str]]:
    """``- `start`: `a`, `b`, ..., the `definition_file` group, and the wait params.`` lines, as sets of keys."""
    text = docs_text.text()
    block = text[text.index("Which params each action takes") :].split("\n\n")[1]
    found: dict[str, set[str]] = {}
    for item in block.split("\n- "):
        action, _, rest = item.strip().removeprefix("- ").partition(":")
        keys = set(re.findall(r"`(\w+)`", rest))
        if "wait params" in rest:
            keys |= {"wait", *WAIT_ONLY}
        if "`definition_file` group" in rest:
            keys |= {"pipeline_role_arn", "pipeline_description", "pipeline_display_name"}
        found[action.strip("`")] = keys - {"fail_on"} if "`fail_on` is ignored" in rest else keys
    return found


@pytest.mark.parametrize("action", PUT_ACTIONS)
def test_each_action_takes_the_params_the_readme_lists(action: str) -> None:
    allowed = readme_action_params()[action]
    if action == "stop":
        allowed.add("fail_on")  # accepted and ignored, as the README says
    assert set(SAMPLES) == {field.name for field in dataclasses.fields(PutParams) if field.init} - {"action"}
    for key, sample in SAMPLES.items():
        payload: dict[str, object] = {"action": action, **NEEDS_TOO.get(key, {}), key: sample}
        if key in WAIT_ONLY:
            payload["wait"] = True
        if action != "start" and key != "execution_arn_file":
            payload.setdefault("execution_arn", EXECUTION)
        if key in allowed:
            PutParams.from_json(payload)
        else:
            named = "|".join([key, *NEEDS_TOO.get(key, {})])  # the key, or the key it needs, which is refused
            with pytest.raises(ResourceError, match=rf"\b({named})\b"):
                PutParams.from_json(payload)


def test_pipeline_display_name_takes_runs_of_dashes_up_to_256() -> None:
    deploy = {"definition_file": "pipeline.json", "pipeline_role_arn": "arn:aws:iam::123456789012:role/run"}
    name = "a--b" + "c" * 252
    assert PutParams.from_json({**deploy, "pipeline_display_name": name}).pipeline_display_name == name
    with pytest.raises(ResourceError, match="up to 256 characters"):
        PutParams.from_json({**deploy, "pipeline_display_name": name + "d"})
    with pytest.raises(ResourceError, match="letters, digits and dashes"):
        PutParams.from_json({**deploy, "pipeline_display_name": "a_b"})
