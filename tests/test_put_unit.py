"""The put step in-process (put/): parameters, names, descriptions, tokens, the request, stop, send, and
the not-found retry.

The behaviour tests run put through the .pyz against the emulator; these pin the same rules where a
mutation tool can see them (``make mutation``), each assertion on the exact value a user would get.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore import exceptions as bex
from concoursetools import BuildMetadata

from sagemaker_pipeline_resource.config.params import PutParams, SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError
from sagemaker_pipeline_resource.put import actions, placement, tokens
from sagemaker_pipeline_resource.put import request as put_request
from sagemaker_pipeline_resource.put import step as put
from sagemaker_pipeline_resource.versions.marker import Marker, request_of
from sagemaker_pipeline_resource.versions.marker import parse as parse_marker
from sagemaker_pipeline_resource.versions.ordering import Execution
from tests.test_waiter import Clock

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"
EXECUTION = PIPELINE + "/execution/abc123"
BUILD = BuildMetadata(
    BUILD_ID="901",
    BUILD_TEAM_NAME="risk",
    ATC_EXTERNAL_URL="https://ci.example.org",
    BUILD_NAME="55",
    BUILD_JOB_NAME="deploy",
    BUILD_PIPELINE_NAME="fraud",
)
ONE_OFF = BuildMetadata(BUILD_ID="902", BUILD_TEAM_NAME="risk", ATC_EXTERNAL_URL="https://ci.example.org")
BY_HAND = BuildMetadata(BUILD_ID="", BUILD_TEAM_NAME="", ATC_EXTERNAL_URL="")


class FakeAWS:
    def __init__(self, **source: Any) -> None:
        self.config = SourceConfig.from_json({"pipeline": PIPELINE, **source})


def params(**raw: Any) -> PutParams:
    return PutParams.from_json(raw)


def error_of(call, *args, **kwargs) -> ResourceError:
    with pytest.raises(ResourceError) as caught:
        call(*args, **kwargs)
    return caught.value


# Parameters -----------------------------------------------------------------------------------------


def test_parameters_are_strings_templated_and_in_order(tmp_path):
    given = params(parameters={"Epochs": 5, "Rate": 0.5, "On": True, "Off": False, "Build": "b-$BUILD_ID-$OTHER"})
    assert put_request.pipeline_parameters(given, tmp_path, BUILD) == [
        {"Name": "Epochs", "Value": "5"},
        {"Name": "Rate", "Value": "0.5"},
        {"Name": "On", "Value": "true"},
        {"Name": "Off", "Value": "false"},
        {"Name": "Build", "Value": "b-901-$OTHER"},
    ]


def test_parameters_file_is_merged_and_params_win(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"A": "file", "B": "file"}), encoding="utf-8")
    given = params(parameters_file="p.json", parameters={"B": "params"})
    assert put_request.pipeline_parameters(given, tmp_path, BUILD) == [
        {"Name": "A", "Value": "file"},
        {"Name": "B", "Value": "params"},
    ]


def test_a_bad_name_is_blamed_on_where_it_came_from(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"bad name": "1"}), encoding="utf-8")
    error = error_of(put_request.pipeline_parameters, params(parameters_file="p.json"), tmp_path, BUILD)
    assert error.message.startswith("params.parameters_file (p.json), key 1: ")
    assert "is not a valid pipeline parameter name" in error.message and "bad name" not in error.message
    assert error.hint == "Names are 1 to 256 letters, digits, '-' or '_', as declared in the pipeline definition."
    error = error_of(put_request.pipeline_parameters, params(parameters={"a.b": "1"}), tmp_path, BUILD)
    assert error.message.startswith("params.parameters: ")


def test_name_length_limits(tmp_path):
    assert put_request.pipeline_parameters(params(parameters={"n" * 256: "v"}), tmp_path, BUILD)[0]["Name"] == "n" * 256
    error_of(put_request.pipeline_parameters, params(parameters={"n" * 257: "v"}), tmp_path, BUILD)


def test_null_and_structured_values_are_refused(tmp_path):
    null = error_of(put_request.pipeline_parameters, params(parameters={"A": None}), tmp_path, BUILD)
    assert null.message == "params.parameters.A is null (JSON null; in YAML ~, null or nothing after the colon)."
    assert null.hint == "Give it a value ('' for an empty string), or leave it out to use the pipeline's default."
    for value in ({"x": 1}, [1]):
        error = error_of(put_request.pipeline_parameters, params(parameters={"A": value}), tmp_path, BUILD)
        assert error.message.startswith("params.parameters: A must be a string, number or boolean, not ")
        assert error.hint == "Pipeline parameters are strings: encode structured values as JSON text."


def test_value_and_count_limits(tmp_path):
    assert (
        put_request.pipeline_parameters(params(parameters={"A": "v" * 1024}), tmp_path, BUILD)[0]["Value"] == "v" * 1024
    )
    error = error_of(put_request.pipeline_parameters, params(parameters={"A": "v" * 1025}), tmp_path, BUILD)
    assert error.message == "params.parameters: A is 1025 characters long; AWS allows 1024."
    many = {f"P{i}": "1" for i in range(200)}
    assert len(put_request.pipeline_parameters(params(parameters=many), tmp_path, BUILD)) == 200
    error = error_of(put_request.pipeline_parameters, params(parameters={**many, "P200": "1"}), tmp_path, BUILD)
    assert error.message == "params.parameters and parameters_file give 201 parameters; AWS allows 200."


# Names, descriptions, tokens ---------------------------------------------------------------------------


def test_default_display_name():
    assert put_request.default_display_name(BUILD) == "concourse-fraud-deploy-55"
    assert put_request.default_display_name(ONE_OFF) == "concourse-build-902"
    assert put_request.default_display_name(BY_HAND) is None
    odd = BuildMetadata("1", "t", "https://c", BUILD_NAME="7.1", BUILD_JOB_NAME="a_b", BUILD_PIPELINE_NAME="--x--")
    assert put_request.default_display_name(odd) == "concourse-x-a-b-7-1"
    long = BuildMetadata("1", "t", "https://c", BUILD_NAME="9", BUILD_JOB_NAME="j" * 100, BUILD_PIPELINE_NAME="p")
    name = put_request.default_display_name(long)
    assert name == ("concourse-p-" + "j" * 100)[:82] and len(name) == 82
    edge = BuildMetadata("1", "t", "https://c", BUILD_NAME="9", BUILD_JOB_NAME="j" * 69 + "-k", BUILD_PIPELINE_NAME="p")
    assert put_request.default_display_name(edge) == "concourse-p-" + "j" * 69  # cut at 82, no dash left at the end


def test_default_description():
    assert put_request.default_description(BUILD) == (
        "Started by Concourse build risk/fraud/deploy #55: "
        "https://ci.example.org/teams/risk/pipelines/fraud/jobs/deploy/builds/55"
    )
    assert (
        put_request.default_description(ONE_OFF)
        == "Started by Concourse build one-off build 902: https://ci.example.org/builds/902"
    )
    assert put_request.default_description(BY_HAND) is None
    long = BuildMetadata("1", "t", "https://c", BUILD_NAME="9", BUILD_JOB_NAME="j" * 4000, BUILD_PIPELINE_NAME="p")
    assert len(put_request.default_description(long)) == 3072


def test_request_token_is_the_hash_of_the_build_and_the_request():
    token = tokens.request_token(BUILD, "start", {"A": 1})
    identity = {
        "team": "risk",
        "pipeline": "fraud",
        "instance_vars": None,
        "job": "deploy",
        "build_name": "55",
        "build_id": "901",
        "action": "start",
        "request": {"A": 1},
    }
    assert token == hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    assert tokens.request_token(BUILD, "stop", {"A": 1}) != token


def test_request_token_by_hand_is_random_and_says_so(capsys):
    first, second = tokens.request_token(BY_HAND, "start", {}), tokens.request_token(BY_HAND, "start", {})
    assert first != second and len(first) == 32
    assert capsys.readouterr().err.count("put: no Concourse build environment (BUILD_ID...): the request is not "
                                         "idempotent.\n") == 2  # fmt: skip


# The request --------------------------------------------------------------------------------------------


def test_start_request_has_every_argument(tmp_path):
    given = params(
        parameters={"A": "1"},
        display_name="run-$BUILD_NAME",
        description="desc $BUILD_JOB_NAME",
        parallelism=3,
        pipeline_version_id=2,
        selective_execution={"steps": ["Train"], "source_execution_arn": EXECUTION},
    )
    request = put_request.build_request(given, tmp_path, BUILD, FakeAWS())
    assert request.action == "start"
    arguments = dict(request.arguments)
    token = arguments.pop("ClientRequestToken")
    assert arguments == {
        "PipelineName": PIPELINE,
        "PipelineParameters": [{"Name": "A", "Value": "1"}],
        "PipelineExecutionDisplayName": "run-55",
        "PipelineExecutionDescription": "desc deploy",
        "SelectiveExecutionConfig": {"SelectedSteps": [{"StepName": "Train"}], "SourcePipelineExecutionArn": EXECUTION},
        "PipelineVersionId": 2,
        "ParallelismConfiguration": {"MaxParallelExecutionSteps": 3},
    }
    assert token == tokens.request_token(BUILD, "start", arguments)


def test_start_request_defaults_and_an_explicit_token(tmp_path):
    request = put_request.build_request(params(client_request_token="t" * 40), tmp_path, BUILD, FakeAWS())
    assert request.arguments == {
        "PipelineName": PIPELINE,
        "PipelineParameters": [],
        "PipelineExecutionDisplayName": "concourse-fraud-deploy-55",
        "PipelineExecutionDescription": put_request.default_description(BUILD),
        "ClientRequestToken": "t" * 40,
    }
    by_hand = put_request.build_request(params(), tmp_path, BY_HAND, FakeAWS()).arguments
    assert "PipelineExecutionDisplayName" not in by_hand and "PipelineExecutionDescription" not in by_hand


def test_a_bad_display_name_and_a_foreign_source_execution(tmp_path):
    error = error_of(put_request.build_request, params(display_name="a_b"), tmp_path, BUILD, FakeAWS())
    assert error.message == "params.display_name 'a_b' is not a valid execution display name."
    assert error.hint == "Use letters, digits and dashes, starting and ending with a letter or digit."
    for bad in ("-a", "a-", "a--b c"):
        error_of(put_request.build_request, params(display_name=bad), tmp_path, BUILD, FakeAWS())
    assert put_request.build_request(params(display_name="a--b"), tmp_path, BUILD, FakeAWS())
    other = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/other/execution/x1"
    selective = params(selective_execution={"steps": ["T"], "source_execution_arn": other})
    error = error_of(put_request.build_request, selective, tmp_path, BUILD, FakeAWS())
    assert error.message == (
        f"params.selective_execution.source_execution_arn: {other} is an execution of another pipeline, "
        f"not of {PIPELINE}."
    )
    assert error.hint.startswith("A selective execution reuses the outputs of an execution of the same pipeline")


def test_stop_and_retry_requests_name_the_execution(tmp_path):
    request = put_request.build_request(
        params(action="stop", execution_arn=f" {EXECUTION} "), tmp_path, BUILD, FakeAWS()
    )
    assert request.action == "stop"
    assert request.arguments["PipelineExecutionArn"] == EXECUTION
    assert set(request.arguments) == {"PipelineExecutionArn", "ClientRequestToken"}
    retry = put_request.build_request(params(action="retry", execution_arn=EXECUTION, parallelism=2), tmp_path, BUILD,
                              FakeAWS())  # fmt: skip
    assert retry.arguments["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}


def test_execution_arn_file_or_a_get_directory(tmp_path):
    (tmp_path / "got").mkdir()
    (tmp_path / "got" / "execution_arn").write_text(EXECUTION + "\n", encoding="utf-8")
    (tmp_path / "arn.txt").write_text(EXECUTION, encoding="utf-8")
    for where in ("got", "arn.txt"):
        request = put_request.build_request(params(action="stop", execution_arn_file=where), tmp_path, BUILD, FakeAWS())
        assert request.arguments["PipelineExecutionArn"] == EXECUTION


def test_an_execution_of_another_pipeline_is_refused(tmp_path):
    other = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/other/execution/x1"
    error = error_of(put_request.build_request, params(action="retry", execution_arn=other), tmp_path, BUILD, FakeAWS())
    assert error.message == f"params.execution_arn: {other} is an execution of another pipeline, not of {PIPELINE}."
    (tmp_path / "arn.txt").write_text(other, encoding="utf-8")
    error = error_of(put_request.build_request, params(action="retry", execution_arn_file="arn.txt"), tmp_path, BUILD,
                     FakeAWS())  # fmt: skip
    assert error.message.startswith("params.execution_arn_file (arn.txt): ")


# Calls ------------------------------------------------------------------------------------------------


def client_error(code: str) -> bex.ClientError:
    return bex.ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")  # type: ignore[arg-type]


class Client:
    """Answers from scripts: each call takes the next entry (an exception is raised)."""

    class exceptions:
        class ResourceNotFound(Exception):
            pass

    def __init__(self, stops=(), describes=(), starts=()):
        self.stops, self.describes, self.starts = list(stops), list(describes), list(starts)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _next(self, script, name, kwargs):
        self.calls.append((name, kwargs))
        entry = script.pop(0)
        if isinstance(entry, BaseException):
            raise entry
        return entry

    def stop_pipeline_execution(self, **kwargs):
        return self._next(self.stops, "stop", kwargs)

    def describe_pipeline_execution(self, **kwargs):
        return self._next(self.describes, "describe", kwargs)

    def start_pipeline_execution(self, **kwargs):
        return self._next(self.starts, "start", kwargs)

    retry_pipeline_execution = start_pipeline_execution


@pytest.fixture
def no_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(actions.time, "sleep", slept.append)
    return slept


def test_stop_of_a_running_execution(no_sleep):
    client = Client(stops=[{}])
    assert actions.stop(client, EXECUTION, "tok") is None
    assert client.calls == [("stop", {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": "tok"})]


def test_stop_of_a_finished_execution_returns_its_description(capsys, no_sleep):
    described = {"PipelineExecutionStatus": "Succeeded"}
    client = Client(stops=[client_error("ConflictException")], describes=[described])
    assert actions.stop(client, EXECUTION, "tok") == described
    assert client.calls[1] == ("describe", {"PipelineExecutionArn": EXECUTION})
    assert capsys.readouterr().err == f"put: {EXECUTION} had already finished (Succeeded): nothing to stop\n"


def test_stop_of_a_stopping_execution(capsys, no_sleep):
    client = Client(
        stops=[bex.ConnectionClosedError(endpoint_url="x")], describes=[{"PipelineExecutionStatus": "Stopping"}]
    )
    assert actions.stop(client, EXECUTION, "tok") is None
    assert capsys.readouterr().err == f"put: {EXECUTION} is already stopping\n"


def test_stop_conflicts_are_tried_three_times(capsys, no_sleep):
    running = {"PipelineExecutionStatus": "Executing"}
    client = Client(stops=[client_error("ConflictException")] * 2 + [{}], describes=[running] * 2)
    assert actions.stop(client, EXECUTION, "tok") is None
    assert no_sleep == [2, 4]
    err = capsys.readouterr().err
    assert "trying again (1)" in err and "trying again (2)" in err
    always = Client(stops=[client_error("ConflictException")] * 3, describes=[running] * 3)
    with pytest.raises(bex.ClientError):
        actions.stop(always, EXECUTION, "tok")
    assert len([c for c in always.calls if c[0] == "stop"]) == 3


def test_stop_other_errors_are_raised_at_once(no_sleep):
    running = {"PipelineExecutionStatus": "Executing"}
    denied = client_error("AccessDeniedException")
    client = Client(stops=[denied], describes=[running])
    with pytest.raises(bex.ClientError) as caught:
        actions.stop(client, EXECUTION, "tok")
    assert caught.value is denied and no_sleep == []
    unknown = Client(stops=[denied], describes=[client_error("ResourceNotFound")])
    with pytest.raises(bex.ClientError) as caught:
        actions.stop(unknown, EXECUTION, "tok")
    assert caught.value is denied  # the stop's error, not the describe's


def test_send_start_retry_and_stop():
    start = put_request.Request("start", {"PipelineName": PIPELINE, "ClientRequestToken": "t"})
    client = Client(starts=[{"PipelineExecutionArn": EXECUTION}])
    assert actions.send(client, start) == EXECUTION
    assert client.calls == [("start", {"PipelineName": PIPELINE, "ClientRequestToken": "t"})]
    stop = put_request.Request("stop", {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": "t"})
    client = Client(stops=[{}])
    assert actions.send(client, stop) == EXECUTION
    assert client.calls == [("stop", {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": "t"})]
    for answer in ({}, {"PipelineExecutionArn": ""}, {"PipelineExecutionArn": 5}):
        error = error_of(actions.send, Client(starts=[answer]), put_request.Request("retry", {}))
        assert error.message == "AWS answered the retry without the execution's ARN."


def test_describe_new_asks_again_with_doubling_pauses(capsys):
    missing = Client.exceptions.ResourceNotFound()
    client = Client(describes=[missing, missing, {"PipelineExecutionStatus": "Executing"}])
    slept: list[float] = []
    assert actions.describe_new(client, EXECUTION, sleep=slept.append) == {"PipelineExecutionStatus": "Executing"}
    assert slept == [0.5, 1.0]
    assert client.calls[0] == ("describe", {"PipelineExecutionArn": EXECUTION})
    assert capsys.readouterr().err == (
        f"put: {EXECUTION} is not visible yet; asking again (1)\n"
        f"put: {EXECUTION} is not visible yet; asking again (2)\n"
    )
    never = Client(describes=[missing] * 5)
    slept.clear()
    with pytest.raises(Client.exceptions.ResourceNotFound):
        actions.describe_new(never, EXECUTION, sleep=slept.append)
    assert slept == [0.5, 1.0, 2.0, 4.0] and len(never.calls) == 5


def test_failure_names_failed_steps_or_the_reason():
    steps = [
        {"StepName": "Prep", "StepStatus": "Succeeded"},
        {"StepName": "Train", "StepStatus": "Failed", "FailureReason": "OOM"},
        {"StepName": "Eval", "StepStatus": "Failed"},
    ]
    assert actions.failure({"FailureReason": "x"}, steps) == "Train: OOM; Eval: no reason given"
    assert actions.failure({"FailureReason": "Step failure"}, []) == "Step failure"
    assert actions.failure({}, []) == "no failure reason given"


def test_limits_match_aws():
    assert (put_request.MAX_PARAMETERS, put_request.MAX_VALUE, put_request.MAX_DESCRIPTION) == (200, 1024, 3072)
    assert (actions.VISIBLE_TRIES, actions.VISIBLE_PAUSE, actions.STOP_ATTEMPTS) == (5, 0.5, 3)
    assert tokens.in_concourse(BUILD) and not tokens.in_concourse(BY_HAND)
    assert isinstance(Path, type)


# publish: the whole put, in-process, with a scripted client -----------------------------------------------


class Pages:
    def __init__(self, pages):
        self.pages = pages

    def paginate(self, **kwargs):
        yield from self.pages


class PutClient(Client):
    """Also lists executions and steps, and records description updates."""

    def __init__(self, *, summaries=(), steps=(), **scripts):
        super().__init__(**scripts)
        self.summaries, self.steps = list(summaries), list(steps)
        self.updates: list[dict[str, Any]] = []

    def get_paginator(self, name):
        self.calls.append(("paginate", {"name": name}))
        if name == "list_pipeline_executions":
            return Pages([{"PipelineExecutionSummaries": self.summaries}])
        return Pages([{"PipelineExecutionSteps": self.steps}])

    def update_pipeline_execution(self, **kwargs):
        self.calls.append(("update", kwargs))
        self.updates.append(kwargs)
        return {"PipelineExecutionArn": kwargs["PipelineExecutionArn"]}


class PublishAWS(FakeAWS):
    refreshable = False

    def __init__(self, client, **source):
        super().__init__(**source)
        self.client = client
        self.quick: list[bool] = []

    def sagemaker(self, *, quick=False):
        self.quick.append(quick)
        return self.client


def described(status, **extra):
    return {"PipelineExecutionArn": EXECUTION, "PipelineExecutionStatus": status, **extra}


@pytest.fixture
def fast_wait(monkeypatch):
    """put's wait with a fake clock: polls are instant."""
    clock = Clock()
    real = actions.wait
    monkeypatch.setattr(actions, "wait", lambda *a, **k: real(*a, **k, sleep=clock.sleep, clock=clock))
    ride = actions.ride_out
    monkeypatch.setattr(actions, "ride_out", lambda *a, **k: ride(*a, **k, sleep=clock.sleep, clock=clock))
    return clock


def test_publish_start_without_wait(tmp_path, capsys):
    client = PutClient(starts=[{"PipelineExecutionArn": EXECUTION}], describes=[described("Executing")])
    version, items = put.publish(PublishAWS(client), params(), tmp_path, BUILD)
    assert version.execution_arn == EXECUTION
    assert items["action"] == "start" and items["status"] == "Executing"
    [(_, started)] = [call for call in client.calls if call[0] == "start"]
    assert started["PipelineExecutionDescription"].startswith(put_request.default_description(BUILD) + " [concourse")
    assert re.search(r" saved( req=\w+)?( (before|after)=\S+)?\]$", started["PipelineExecutionDescription"])
    assert client.updates == []
    err = capsys.readouterr().err
    assert f"put: start {EXECUTION}\n" in err
    assert "put: not waiting here; the get that Concourse runs after this put waits" in err


def test_publish_start_and_wait_marks_the_version_saved(tmp_path, fast_wait, capsys):
    finished = described("Succeeded", PipelineExecutionDescription="d [concourse sagemaker-pipeline-resource: "
                         "scope=00000000 waiting]")  # fmt: skip
    client = PutClient(
        starts=[{"PipelineExecutionArn": EXECUTION}],
        describes=[described("Executing"), described("Executing"), finished],
        steps=[{"StepName": "Train", "StepStatus": "Succeeded"}],
    )
    version, items = put.publish(PublishAWS(client), params(wait=True, poll_interval=5), tmp_path, BUILD)
    assert version.execution_arn == EXECUTION and items["status"] == "Succeeded"
    [(_, started)] = [call for call in client.calls if call[0] == "start"]
    assert re.search(r" waiting( req=\w+)?\]$", started["PipelineExecutionDescription"])
    [update] = client.updates
    assert update["PipelineExecutionArn"] == EXECUTION
    assert update["PipelineExecutionDescription"].startswith("d [concourse sagemaker-pipeline-resource: scope=")
    assert re.search(r" saved( req=\w+)?( (before|after)=\S+)? at=\S+\]$", update["PipelineExecutionDescription"])
    assert "not waiting here" not in capsys.readouterr().err


def test_publish_wait_fails_on_a_failed_execution(tmp_path, fast_wait):
    client = PutClient(
        starts=[{"PipelineExecutionArn": EXECUTION}],
        describes=[described("Executing"), described("Failed", FailureReason="x")],
        steps=[{"StepName": "Train", "StepStatus": "Failed", "FailureReason": "OOM"}],
    )
    error = error_of(put.publish, PublishAWS(client), params(wait=True), tmp_path, BUILD)
    assert error.message == f"The execution {EXECUTION} ended Failed: Train: OOM."
    assert error.hint == (
        "See the step list above and steps.json from a get of this version; params.fail_on chooses which statuses "
        "fail the build."
    )
    assert client.updates == []  # a failed put saves no version
    ok = PutClient(
        starts=[{"PipelineExecutionArn": EXECUTION}], describes=[described("Executing"), described("Failed")]
    )
    _, items = put.publish(PublishAWS(ok), params(wait=True, fail_on=[]), tmp_path, BUILD)
    assert items["status"] == "Failed"


def test_publish_timeout_stops_or_leaves_running(tmp_path, fast_wait, capsys):
    client = PutClient(starts=[{"PipelineExecutionArn": EXECUTION}], describes=[described("Executing")] * 20,
                       stops=[{}])  # fmt: skip
    error = error_of(put.publish, PublishAWS(client), params(wait=True, timeout=60, stop_on_timeout=True), tmp_path,
                     BUILD)  # fmt: skip
    assert (
        error.message
        == f"The execution {EXECUTION} was still Executing after params.timeout (60 s) and was asked to stop."
    )
    assert error.hint == "Raise params.timeout, or set stop_on_timeout: true to stop it when the time is up."
    [(_, stopped)] = [call for call in client.calls if call[0] == "stop"]
    token = tokens.request_token(BUILD, "stop-on-timeout", {"arn": EXECUTION})
    assert stopped == {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": token}
    assert f"put: timed out: asked {EXECUTION} to stop\n" in capsys.readouterr().err
    running = PutClient(starts=[{"PipelineExecutionArn": EXECUTION}], describes=[described("Executing")] * 20)
    error = error_of(put.publish, PublishAWS(running), params(wait=True, timeout=60), tmp_path, BUILD)
    assert error.message.endswith("after params.timeout (60 s); it keeps running.")


def test_publish_timeout_when_it_finished_meanwhile(tmp_path, fast_wait):
    client = PutClient(
        starts=[{"PipelineExecutionArn": EXECUTION}],
        describes=[described("Executing")] * 5 + [described("Succeeded")],
        stops=[client_error("ConflictException")],
        steps=[{"StepName": "Train", "StepStatus": "Succeeded"}],
    )
    version, items = put.publish(PublishAWS(client), params(wait=True, timeout=30, stop_on_timeout=True,
                                                            poll_interval=10), tmp_path, BUILD)  # fmt: skip
    assert items["status"] == "Succeeded" and version.execution_arn == EXECUTION


def test_publish_stop_and_retry(tmp_path, fast_wait):
    client = PutClient(stops=[{}], describes=[described("Stopping")])
    version, items = put.publish(PublishAWS(client), params(action="stop", execution_arn=EXECUTION), tmp_path, BUILD)
    assert version.execution_arn == EXECUTION and items["action"] == "stop" and items["status"] == "Stopping"
    assert [call[0] for call in client.calls if call[0] in ("stop", "describe")] == ["stop", "describe"]
    stopped = PutClient(stops=[{}], describes=[described("Stopped")])
    _, items = put.publish(PublishAWS(stopped), params(action="stop", execution_arn=EXECUTION, wait=True), tmp_path,
                           BUILD)  # fmt: skip
    assert items["status"] == "Stopped"  # a stop that ends Stopped is what was asked for, whatever fail_on says
    retried = PutClient(starts=[{"PipelineExecutionArn": EXECUTION}], describes=[described("Executing")])
    _, items = put.publish(PublishAWS(retried), params(action="retry", execution_arn=EXECUTION), tmp_path, BUILD)
    assert items["action"] == "retry"
    assert [call[0] for call in retried.calls if call[0] in ("start", "describe")] == ["start", "describe"]


def test_publish_names_the_action_in_aws_errors(tmp_path):
    client = PutClient(starts=[client_error("AccessDeniedException")])
    error = error_of(put.publish, PublishAWS(client), params(), tmp_path, BUILD)
    assert error.message.startswith(f"AWS refused the put action 'start' on {PIPELINE}: AccessDeniedException")
    client = PutClient(stops=[client_error("AccessDeniedException")], describes=[client_error("AccessDeniedException")])
    error = error_of(put.publish, PublishAWS(client), params(action="stop", execution_arn=EXECUTION), tmp_path, BUILD)
    assert error.message.startswith(f"AWS refused the put action 'stop' on {EXECUTION}: AccessDeniedException")


def test_stop_on_abort_is_quick_and_reports(capsys):
    client = PutClient(stops=[{}])
    aws = PublishAWS(client)
    actions.stop_on_abort(aws, EXECUTION, BUILD)
    assert aws.quick == [True]
    token = tokens.request_token(BUILD, "stop-on-abort", {"arn": EXECUTION})
    assert client.calls == [("stop", {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": token})]
    assert capsys.readouterr().err == f"put: asked {EXECUTION} to stop (params.stop_on_abort)\n"
    finished = PutClient(stops=[client_error("ConflictException")], describes=[described("Succeeded")])
    actions.stop_on_abort(PublishAWS(finished), EXECUTION, BUILD)
    assert "asked" not in capsys.readouterr().err
    failing = PutClient(stops=[client_error("AccessDeniedException")], describes=[described("Executing")])
    actions.stop_on_abort(PublishAWS(failing), EXECUTION, BUILD)
    err = capsys.readouterr().err
    assert err.startswith(f"put: could not stop {EXECUTION} (") and err.endswith("): stop it by hand\n")


# Markers, file errors, lengths ---------------------------------------------------------------------------

NOW = dt.datetime.now(dt.timezone.utc)


def summary(name, minutes_ago, status="Succeeded", description=None):
    out = {
        "PipelineExecutionArn": f"{PIPELINE}/execution/{name}",
        "PipelineExecutionStatus": status,
        "StartTime": NOW - dt.timedelta(minutes=minutes_ago),
    }
    if description is not None:
        out["PipelineExecutionDescription"] = description
    return out


def test_a_saved_start_goes_before_the_first_pending_execution(tmp_path, capsys):
    running = summary("r1", 30, "Executing")
    client = PutClient(summaries=[summary("s1", 10), running])
    request = put_request.build_request(params(), tmp_path, BUILD, FakeAWS())
    placement.mark_start(client, request, FakeAWS().config, saved=True)
    text = request.arguments["PipelineExecutionDescription"]
    marker = parse_marker(text)
    assert marker.saved and marker.before == (running["StartTime"], "r1")
    expected = f"put: {PIPELINE}/execution/r1 (Executing) is still pending: this version goes before it\n"
    assert capsys.readouterr().err == expected
    waiting = put_request.build_request(params(), tmp_path, BUILD, FakeAWS())
    placement.mark_start(client, waiting, FakeAWS().config, saved=False)
    assert " waiting " in waiting.arguments["PipelineExecutionDescription"] + " "


def test_a_step_run_again_sends_its_first_attempt_s_description(tmp_path, capsys):
    first = put_request.build_request(params(), tmp_path, BUILD, FakeAWS())
    placement.mark_start(PutClient(), first, FakeAWS().config, saved=True)
    sent = first.arguments["PipelineExecutionDescription"]
    again = put_request.build_request(params(), tmp_path, BUILD, FakeAWS())
    client = PutClient(summaries=[summary("e1", 1, "Executing", sent), summary("r0", 30, "Executing")])
    placement.mark_start(client, again, FakeAWS().config, saved=True)
    assert again.arguments["PipelineExecutionDescription"] == sent
    assert f"put: {PIPELINE}/execution/e1 was started by an earlier attempt of this step" in capsys.readouterr().err


def test_mark_saved_places_the_version_before_an_older_pending_execution(capsys):
    older = summary("o1", 30, "Executing")
    mine = summary("abc123", 20)
    client = PutClient(summaries=[summary("n1", 5, "Executing"), mine, older])
    placement.mark_saved(
        client, EXECUTION, {"PipelineExecutionDescription": "user text"}, FakeAWS().config, own_holds=True
    )
    [update] = client.updates
    marker = parse_marker(update["PipelineExecutionDescription"])
    assert update["PipelineExecutionDescription"].startswith("user text [concourse")
    assert marker.saved and marker.before == (older["StartTime"], "o1")
    assert "o1 (Executing) is still pending" in capsys.readouterr().err


def test_a_stop_or_retry_needs_a_marker_unless_its_execution_is_a_version_already():
    config = FakeAWS().config
    running = PutClient(summaries=[summary("abc123", 5, "Executing")])
    assert placement.placement(running, config, EXECUTION, "stop") == ("on_top", True)  # not a version: new, on top
    done = PutClient(summaries=[summary("abc123", 5)])
    assert placement.placement(done, config, EXECUTION, "stop") == (None, False)  # a version already
    failed = PutClient(summaries=[summary("abc123", 5, "Failed")])
    assert placement.placement(failed, config, EXECUTION, "retry") == ("in_place", False)  # a version: keeps its place
    held = PutClient(summaries=[summary("abc123", 5), summary("older", 9, "Executing")])
    assert placement.placement(held, config, EXECUTION, "stop") == ("on_top", False)  # held back: new (#22, case 3)
    old = PutClient(summaries=[summary("abc123", 60 * 25, "Executing")])
    assert placement.placement(old, config, EXECUTION, "stop") == ("on_top", False)  # past the window (#22, case 4)
    assert placement.placement(PutClient(summaries=[]), config, EXECUTION, "stop") == (None, False)


def test_execution_arn_file_errors_name_the_key(tmp_path):
    error = error_of(
        put_request.build_request, params(action="stop", execution_arn_file="missing"), tmp_path, BUILD, FakeAWS()
    )
    assert "params.execution_arn_file" in error.message
    error = error_of(
        put_request.build_request, params(action="stop", execution_arn_file="../x"), tmp_path, BUILD, FakeAWS()
    )
    assert "params.execution_arn_file" in error.message
    (tmp_path / "bad.txt").write_text("not an arn", encoding="utf-8")
    error = error_of(
        put_request.build_request, params(action="stop", execution_arn_file="bad.txt"), tmp_path, BUILD, FakeAWS()
    )
    assert error.message.startswith("params.execution_arn_file (bad.txt) does not hold a pipeline execution ARN")
    assert "not an arn" not in error.message
    (tmp_path / "big.txt").write_text(EXECUTION + " " * 4096, encoding="utf-8")
    error_of(put_request.build_request, params(action="stop", execution_arn_file="big.txt"), tmp_path, BUILD, FakeAWS())
    (tmp_path / "fits.txt").write_text(EXECUTION + " " * (4096 - len(EXECUTION)), encoding="utf-8")
    assert put_request.build_request(params(action="stop", execution_arn_file="fits.txt"), tmp_path, BUILD, FakeAWS())
    long_name = "a" * 100
    (tmp_path / long_name).write_text("x", encoding="utf-8")
    error = error_of(
        put_request.build_request, params(action="stop", execution_arn_file=long_name), tmp_path, BUILD, FakeAWS()
    )
    assert error.message.startswith(f"params.execution_arn_file ({'a' * 80}) does not hold")


def test_templated_names_are_checked_for_length(tmp_path):
    error = error_of(put_request.build_request, params(display_name="a" * 80 + "$BUILD_ID"), tmp_path, BUILD, FakeAWS())
    assert error.message.startswith("params.display_name")
    error = error_of(
        put_request.build_request, params(description="d" * 3070 + "$BUILD_ID"), tmp_path, BUILD, FakeAWS()
    )
    assert error.message.startswith("params.description")
    (tmp_path / "p.json").write_text(json.dumps({"A": "1"}), encoding="utf-8")
    request = put_request.build_request(params(parameters_file="p.json"), tmp_path, BUILD, FakeAWS())
    assert request.arguments["PipelineParameters"] == [{"Name": "A", "Value": "1"}]


def test_a_waiting_retry_ignores_the_old_outcome(tmp_path, fast_wait):
    old = described("Failed", LastModifiedTime=NOW - dt.timedelta(hours=1))
    client = PutClient(
        starts=[{"PipelineExecutionArn": EXECUTION}],
        describes=[old, described("Executing"), described("Succeeded")],
        steps=[{"StepName": "Train", "StepStatus": "Succeeded"}],
    )
    _, items = put.publish(PublishAWS(client), params(action="retry", execution_arn=EXECUTION, wait=True), tmp_path,
                           BUILD)  # fmt: skip
    assert items["status"] == "Succeeded"


def test_default_display_name_keeps_capitals_and_trailing_letters():
    build = BuildMetadata("1", "t", "https://c", BUILD_NAME="X", BUILD_JOB_NAME="Deploy", BUILD_PIPELINE_NAME="Fraud")
    assert put_request.default_display_name(build) == "concourse-Fraud-Deploy-X"


def test_parameter_errors_place_the_name_and_shorten_the_file_name(tmp_path):
    name = "p" * 90 + ".json"
    (tmp_path / name).write_text(json.dumps({"bad name": "1"}), encoding="utf-8")
    error = error_of(put_request.pipeline_parameters, params(parameters_file=name), tmp_path, BUILD)
    assert error.message.startswith(f"params.parameters_file ({name[:80]}), key 1: the name is not a valid pipeline")
    error = error_of(put_request.pipeline_parameters, params(parameters={"A": [1, 2]}), tmp_path, BUILD)
    assert "not a list" in error.message or "[1, 2]" in error.message


def test_mark_saved_ignores_pending_executions_newer_than_its_own(capsys):
    client = PutClient(summaries=[summary("n1", 5, "Executing"), summary("abc123", 20)])
    placement.mark_saved(client, EXECUTION, {}, FakeAWS().config, own_holds=True)
    [update] = client.updates
    assert parse_marker(update["PipelineExecutionDescription"]).before is None
    assert "still pending" not in capsys.readouterr().err


# Attempts, outages after the start, the bounded stop on abort ----------------------------------------------


def attempt_of(token: str, status: str, name: str) -> Execution:
    return Execution(f"{PIPELINE}/execution/{name}", status, NOW, Marker("00000000", False, request=request_of(token)))


def test_each_attempt_after_a_spent_execution_gets_the_next_token(capsys):
    base = "b" * 64
    sequence = [tokens.attempt_token(base, attempt) for attempt in (1, 2, 3)]
    assert sequence[0] == base and len(set(sequence)) == 3 and all(len(token) == 64 for token in sequence)
    assert tokens.attempt(base, {}) == (base, None)
    failed, stopped = attempt_of(sequence[0], "Failed", "e1"), attempt_of(sequence[1], "Stopping", "e2")
    by_request = {failed.marker.request: failed, stopped.marker.request: stopped}
    assert tokens.attempt(base, by_request) == (sequence[2], None)
    err = capsys.readouterr().err
    assert "e1, started by an earlier attempt of this step, is Failed: this attempt starts another" in err
    assert "e2, started by an earlier attempt of this step, is Stopping" in err
    for status in ("Executing", "Succeeded"):
        running = attempt_of(sequence[1], status, "e2")
        assert tokens.attempt(base, {failed.marker.request: failed, running.marker.request: running}) == (
            sequence[1], running
        )  # fmt: skip


def test_a_deploy_s_version_is_in_the_token(tmp_path):
    request = put_request.build_request(params(), tmp_path, BUILD, FakeAWS())
    before = request.arguments["ClientRequestToken"]
    request.arguments["PipelineVersionId"] = 2
    put_request.cover_the_version(request, params(), BUILD)
    two = request.arguments["ClientRequestToken"]
    request.arguments["PipelineVersionId"] = 3
    put_request.cover_the_version(request, params(), BUILD)
    assert len({before, two, request.arguments["ClientRequestToken"]}) == 3
    explicit = put_request.build_request(params(client_request_token="t" * 32), tmp_path, BUILD, FakeAWS())
    put_request.cover_the_version(explicit, params(client_request_token="t" * 32), BUILD)
    assert explicit.arguments["ClientRequestToken"] == "t" * 32


def test_publish_rides_out_an_outage_after_the_start(tmp_path, fast_wait, capsys):
    """Without wait: the describe after the start is throttled three times, then answers (backoff 2, 4, 8 s)."""
    throttled = [client_error("ThrottlingException")] * 3
    client = PutClient(starts=[{"PipelineExecutionArn": EXECUTION}], describes=[*throttled, described("Executing")])
    version, items = put.publish(PublishAWS(client), params(), tmp_path, BUILD)
    assert version.execution_arn == EXECUTION and items["status"] == "Executing"
    assert fast_wait.sleeps == [2.0, 4.0, 8.0]
    err = capsys.readouterr().err
    assert err.count("put: AWS is failing (ThrottlingException: m)") == 1 and "put: AWS answers again" in err


def test_an_outage_after_the_start_that_outlasts_the_budget_names_the_execution(tmp_path, fast_wait, capsys):
    client = PutClient(
        starts=[{"PipelineExecutionArn": EXECUTION}], describes=[client_error("ThrottlingException")] * 50
    )
    error = error_of(put.publish, PublishAWS(client), params(wait=True, outage_budget=60), tmp_path, BUILD)
    assert error.message.startswith(f"AWS refused following up on the execution {EXECUTION} that this put started")
    assert sum(fast_wait.sleeps) == 60  # the budget, on the test's clock
    assert "wait: giving up" in capsys.readouterr().err


def test_stop_on_abort_gives_up_at_its_deadline(capsys):
    """The stop after an abort hangs (AWS does not answer): the put says so and goes on after the deadline."""
    release = threading.Event()

    class Hanging(PutClient):
        def stop_pipeline_execution(self, **kwargs):
            release.wait(10)
            return {}

    actions.stop_on_abort(PublishAWS(Hanging()), EXECUTION, BUILD, deadline=0.2)
    err = capsys.readouterr().err
    release.set()
    for thread in threading.enumerate():
        if thread.name == "stop-on-abort":
            thread.join(10)  # abandoned in the put (the process exits); here it must not print into another test
    assert err == f"put: could not stop {EXECUTION}: AWS did not answer within 0.2 s: stop it by hand\n"
