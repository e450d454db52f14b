"""The README's IAM policies, proven through the built .pyz against the emulator's permission mode.

The policies are read from the README, or docs/ should they move there ("Required IAM permissions", the
``<!-- iam-policy: NAME -->`` blocks),
so the test follows the README: each use (check; get with wait; put start with and without wait, stop and
retry, each followed by its implicit get; put with ``definition_file``, create and update; ``role_arn``) runs
with exactly its policy's actions allowed and every other AWS call refused as AWS refuses it. Then each
action is dropped in turn: some run of that use must fail with one clean error that names the action, which
proves the permission mode bites and that the policy holds no action the resource never needs.

Only actions are checked: resources and conditions are not modelled (the README says so).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest

from tests import docs_text
from tests.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Result, Runner

BLOCK = re.compile(r"<!-- iam-policy: (\S+) -->\n```json\n(.*?)\n```", re.DOTALL)
USES = ("check", "get", "put", "definition_file", "role_arn")
DEPLOYED = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-deploy"
PIPELINE_ROLE = "arn:aws:iam::123456789012:role/sagemaker-pipeline-execution"
ROLE = "arn:aws:iam::123456789012:role/concourse-sagemaker"
GET = {"wait": True, "poll_interval": 1}  # the get_params of every get and implicit get here


def readme_policies() -> dict[str, dict[str, Any]]:
    """The README's policies by use, each a parsed JSON policy document."""
    found = {name: json.loads(text) for name, text in BLOCK.findall(docs_text.text())}
    missing = set(USES) - set(found)
    assert not missing, f"README's IAM section lacks the policies {sorted(missing)}"
    return found


def actions_of(policy: dict[str, Any]) -> list[str]:
    """Every action the policy allows (its statements are all Allow; resources and conditions are not read)."""
    actions: list[str] = []
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        named = statement["Action"]
        actions.extend([named] if isinstance(named, str) else named)
    return actions


POLICIES = readme_policies()
ACTIONS = {use: actions_of(policy) for use, policy in POLICIES.items()}


class Refused(Exception):
    """A step exited non-zero: the run of the use stops there."""

    def __init__(self, result: Result) -> None:
        super().__init__(f"{result.step} failed ({result.returncode}):\n{result.stderr}")
        self.result = result


@dataclass
class Use:
    """Runs the steps of one use as Concourse would, each a build of its own, under the allow-list."""

    run: Runner
    emulator: Any
    source: dict[str, Any]
    tmp_path: Path
    allowed: list[str]
    files: dict[str, str] = field(default_factory=dict)  # written into each put's build directory
    builds: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def enforce(self) -> None:
        """From here on, only the allowed actions (staging before this may use AWS calls freely)."""
        self.emulator.set_permissions(self.allowed)

    def step(self, step: str, *, params: dict[str, Any] | None = None, version: Any = None) -> Result:
        payload: dict[str, Any] = {"source": self.source}
        if step in ("check", "in"):
            payload["version"] = version
        if step in ("in", "out"):
            payload["params"] = params or {}
        build = str(next(self.builds))
        env = {"BUILD_ID": build, "BUILD_NAME": build} if step in ("in", "out") else None
        directory = self.tmp_path / f"{step}-{build}" if step in ("in", "out") else None
        if step == "out" and directory is not None:
            directory.mkdir()
            for name, text in self.files.items():
                (directory / name).write_text(text, encoding="utf-8")
        result = self.run(step, payload, directory=directory, env=env)
        if result.returncode != 0:
            raise Refused(result)
        return result

    def put(self, **params: Any) -> str:
        """A put, then its implicit get of the version it returned; the execution's ARN."""
        version = self.step("out", params=params).json["version"]
        self.step("in", params=GET, version=version)
        return str(version["execution_arn"])


def admin_client(emulator: Any) -> Any:
    """Staging calls that only the AWS API makes (an execution with a lifecycle plan); used before enforce."""
    return boto3.client(
        "sagemaker",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def use_check(use: Use, pipeline: str) -> None:
    arns = use.emulator.seed_executions(pipeline, 3)
    use.emulator.delete_execution(arns[0])
    use.enforce()
    newest = use.step("check").json
    assert len(newest) == 1  # the newest, as Concourse asks a first check
    # a version on top that is gone: one DescribePipelineExecution tells, and the newest is answered
    assert use.step("check", version={"execution_arn": arns[0]}).json == newest


def use_get(use: Use, pipeline: str) -> None:
    use.emulator.set_lifecycle(finish_after_polls=1)
    running = admin_client(use.emulator).start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    use.enforce()
    use.step("check")
    got = use.step("in", params=GET, version={"execution_arn": running})
    assert {"name": "status", "value": "Succeeded"} in got.json["metadata"]  # it waited


def use_put(use: Use, pipeline: str) -> None:
    use.emulator.set_lifecycle(finish_after_polls=1)
    use.emulator.seed_executions(pipeline, 1)
    to_stop = use.emulator.start_execution(pipeline)
    to_retry = use.emulator.start_execution(pipeline)
    use.emulator.finish(to_retry, "Failed", failure_reason="flaky", failing_step="Train")
    use.enforce()
    use.step("check")
    use.put(wait=True, poll_interval=1)
    use.put()
    use.put(action="stop", execution_arn=to_stop)
    use.put(action="retry", execution_arn=to_retry)


def definition(epochs: str) -> str:
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Parameters": [{"Name": "Epochs", "Type": "String", "DefaultValue": epochs}],
            "Steps": [{"Name": "Train", "Type": "Training", "Arguments": {}}],
        }
    )


def use_definition_file(use: Use, pipeline: str) -> None:
    use.source = {**use.source, "pipeline": DEPLOYED, "sts_endpoint_url": use.emulator.url}
    use.emulator.set_lifecycle(finish_after_polls=1)
    use.enforce()
    deploy = {"definition_file": "pipeline.json", "pipeline_role_arn": PIPELINE_ROLE}
    for epochs, outcome in (("10", "created"), ("20", "updated")):
        use.files["pipeline.json"] = definition(epochs)
        before = use.emulator.request_counts()
        use.put(**deploy)
        calls = use.emulator.request_counts()
        made = "CreatePipeline" if outcome == "created" else "UpdatePipeline"
        assert calls.get(made, 0) == before.get(made, 0) + 1


def use_role_arn(use: Use, pipeline: str) -> None:
    use.source = {**use.source, "role_arn": ROLE, "sts_endpoint_url": use.emulator.url}
    use_check(use, pipeline)


SCENARIOS: dict[str, Callable[[Use, str], None]] = {
    "check": use_check,
    "get": use_get,
    "put": use_put,
    "definition_file": use_definition_file,
    "role_arn": use_role_arn,
}


def allowed_for(use: str) -> list[str]:
    """The allow-list of a use: its policy; with role_arn, check's policy (the role's) and AssumeRole."""
    return ACTIONS["check"] + ACTIONS["role_arn"] if use == "role_arn" else ACTIONS[use]


@pytest.fixture
def make_use(run: Runner, emulator: Any, source: dict[str, Any], tmp_path: Path) -> Callable[[list[str]], Use]:
    return lambda allowed: Use(run, emulator, dict(source), tmp_path, allowed)


@pytest.mark.parametrize("name", USES)
def test_each_use_succeeds_under_its_readme_policy(name, make_use, pipeline):
    SCENARIOS[name](make_use(allowed_for(name)), pipeline)


def test_each_policy_includes_the_one_before():
    for smaller, larger in itertools.pairwise(("check", "get", "put", "definition_file")):
        assert set(ACTIONS[smaller]) <= set(ACTIONS[larger]), f"{larger} lacks some of {smaller}'s actions"
    assert ACTIONS["role_arn"] == ["sts:AssumeRole"]


def _droppable() -> list[tuple[str, str]]:
    """(use, action): every action of each policy, except those a later policy only inherits (proven there)."""
    pairs = [("check", a) for a in ACTIONS["check"]]
    pairs += [("get", a) for a in ACTIONS["get"]]
    pairs += [("put", a) for a in ACTIONS["put"]]
    pairs += [("definition_file", a) for a in ACTIONS["definition_file"] if a not in ACTIONS["put"]]
    pairs += [("role_arn", a) for a in ACTIONS["role_arn"]]
    return pairs


@pytest.mark.parametrize(("name", "action"), _droppable(), ids=[f"{u}-{a}" for u, a in _droppable()])
def test_without_any_one_action_a_step_fails_naming_it(name, action, make_use, pipeline):
    allowed = [a for a in allowed_for(name) if a != action]
    with pytest.raises(Refused) as refused:
        SCENARIOS[name](make_use(allowed), pipeline)
    result = refused.value.result
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 1 and result.stdout == "", result.stderr
    assert "Traceback" not in result.stderr
    assert last.startswith("error:") and action in last, last


def test_a_waiting_put_without_update_fails_after_the_run(run, emulator, source):
    """The README's warning: UpdatePipelineExecution is needed last, once the execution has succeeded."""
    action = "sagemaker:UpdatePipelineExecution"
    emulator.set_lifecycle(finish_after_polls=1)
    emulator.set_permissions([a for a in ACTIONS["put"] if a != action])
    result = run("out", {"source": source, "params": {"wait": True, "poll_interval": 1}})
    assert result.returncode == 1 and action in result.stderr.splitlines()[-1]
    arn = result.stderr.split("put: start ")[1].split()[0]
    assert emulator.describe(arn)["status"] == "Succeeded"


def test_a_put_without_list_fails_before_it_starts_anything(run, emulator, source, pipeline):
    """ListPipelineExecutions comes first (earlier attempts, where the version goes): nothing is started."""
    action = "sagemaker:ListPipelineExecutions"
    emulator.set_permissions([a for a in ACTIONS["put"] if a != action])
    result = run("out", {"source": source, "params": {"wait": True, "poll_interval": 1}})
    assert result.returncode == 1 and action in result.stderr.splitlines()[-1]
    assert "put: start " not in result.stderr
    emulator.set_permissions(None)
    assert emulator.request_counts().get("StartPipelineExecution", 0) == 0


def test_doctor_needs_checks_policy_and_describe_pipeline(run, emulator, sts_source):
    emulator.set_permissions([*ACTIONS["check"], "sagemaker:DescribePipeline"])
    assert run("doctor", {"source": sts_source}).returncode == 0
    emulator.set_permissions(ACTIONS["check"])
    result = run("doctor", {"source": sts_source})
    assert result.returncode == 1 and "sagemaker:DescribePipeline" in result.stderr.splitlines()[-1]


# The permission mode itself, through boto3: the shapes AWS answers with.


def fake_clients(emulator: Any) -> tuple[Any, Any]:
    keys = {"aws_access_key_id": ACCESS_KEY_ID, "aws_secret_access_key": SECRET_ACCESS_KEY}
    common = {"region_name": "us-east-1", "endpoint_url": emulator.url, **keys}
    return boto3.client("sagemaker", **common), boto3.client("sts", **common)


def refusal(call: Callable[[], Any]) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value


def test_permission_mode_refuses_as_aws_does(emulator, pipeline):
    sm, sts = fake_clients(emulator)
    emulator.set_permissions(["sagemaker:ListPipelineExecutions"])
    sm.list_pipeline_executions(PipelineName=pipeline)
    error = refusal(lambda: sm.start_pipeline_execution(PipelineName=pipeline))
    response = error.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith("AccessDeniedException:")
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert response["Error"]["Message"] == (
        "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: "
        f"sagemaker:StartPipelineExecution on resource: {pipeline} because no identity-based policy allows the "
        "sagemaker:StartPipelineExecution action"
    )
    assumed = refusal(lambda: sts.assume_role(RoleArn=ROLE, RoleSessionName="ci"))
    assert assumed.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert assumed.response["Error"]["Code"] == "AccessDenied"
    assert f"sts:AssumeRole on resource: {ROLE}" in assumed.response["Error"]["Message"]
    assert sts.get_caller_identity()["Account"] == "123456789012"  # needs no permission


def test_pass_role_is_checked_for_the_pipelines_role(emulator):
    sm, _sts = fake_clients(emulator)
    emulator.set_permissions(["SageMaker:*Pipeline"])  # case-insensitive, with wildcards, as IAM matches actions
    create = {"PipelineName": "p", "PipelineDefinition": definition("1"), "RoleArn": PIPELINE_ROLE}
    error = refusal(lambda: sm.create_pipeline(**create))
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert f"iam:PassRole on resource: {PIPELINE_ROLE}" in error.response["Error"]["Message"]
    emulator.set_permissions(["sagemaker:*Pipeline", "iam:PassRole"])
    sm.create_pipeline(**create)
    emulator.set_permissions(None)  # off: everything goes
    sm.list_pipeline_versions(PipelineName="p")


def test_reset_turns_the_mode_off(emulator, pipeline):
    sm, _sts = fake_clients(emulator)
    emulator.set_permissions([])
    refusal(lambda: sm.list_pipeline_executions(PipelineName=pipeline))
    emulator.reset()
    emulator.create_pipeline("churn-model")
    sm.list_pipeline_executions(PipelineName=pipeline)
