"""examples/sagemaker-pipeline-events.yaml: its EventBridge rule forwards exactly the configured pipeline's events.

The rule's pattern is taken from the template (parameters substituted as CloudFormation would), put into moto's
EventBridge in-process with an SQS queue as the target, and fed status-change events shaped like the sample in
AWS's SageMaker developer guide ("Pipeline execution state change"): what reaches the queue is what the rule
matched, by moto's implementation of EventBridge patterns, not by one written here. cfn-lint checks the rest of
the template (``make lint``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

TEMPLATE = Path(__file__).resolve().parent.parent / "examples" / "sagemaker-pipeline-events.yaml"
PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model"
DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B``, ``!Sub``)."""


for _tag in ("Ref", "Sub", "GetAtt"):
    _CfnLoader.add_constructor(
        f"!{_tag}",
        lambda loader, node, tag=_tag: {"Ref" if tag == "Ref" else f"Fn::{tag}": loader.construct_scalar(node)},
    )


def template() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)
    return document


def resolve(node: Any, parameters: dict[str, Any]) -> Any:
    """Substitute ``{"Ref": PARAMETER}`` as CloudFormation does (a CommaDelimitedList becomes a list)."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return parameters[node["Ref"]]
        return {key: resolve(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, parameters) for item in node]
    return node


def pattern(**overrides: Any) -> dict[str, Any]:
    declared = template()["Parameters"]
    parameters = {name: spec.get("Default") for name, spec in declared.items()}
    parameters["Statuses"] = parameters["Statuses"].split(",")
    parameters.update(PipelineArn=PIPELINE, **overrides)
    rule = template()["Resources"]["StatusChangeRule"]["Properties"]
    resolved: dict[str, Any] = resolve(rule["EventPattern"], parameters)
    return resolved


def event(pipeline: str, status: str = "Succeeded", detail_type: str = DETAIL_TYPE) -> dict[str, Any]:
    """A status-change event as SageMaker sends it (the developer guide's sample, with this pipeline)."""
    execution = f"{pipeline}/execution/p4jn9xou8a8s"
    return {
        "Source": "aws.sagemaker",
        "DetailType": detail_type,
        "Resources": [pipeline, execution],
        "Detail": json.dumps(
            {
                "pipelineExecutionDisplayName": "concourse-ml-models-train-17",
                "currentPipelineExecutionStatus": status,
                "previousPipelineExecutionStatus": "Executing",
                "executionStartTime": "2026-11-27T12:03:13Z",
                "executionEndTime": "2026-11-27T12:10:10Z",
                "pipelineExecutionDescription": "Started by Concourse",
                "pipelineArn": pipeline,
                "pipelineExecutionArn": execution,
            }
        ),
    }


def delivered(rule_pattern: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events that moto's EventBridge delivers to the rule's target."""
    with mock_aws():
        bridge = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="webhook")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bridge.put_rule(Name="status-change", EventPattern=json.dumps(rule_pattern))
        bridge.put_targets(Rule="status-change", Targets=[{"Id": "queue", "Arn": queue_arn}])
        for entry in events:
            assert bridge.put_events(Entries=[entry])["FailedEntryCount"] == 0
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


def test_a_status_change_of_the_pipeline_is_forwarded():
    got = delivered(pattern(), [event(PIPELINE)])
    assert [e["detail"]["pipelineArn"] for e in got] == [PIPELINE]


@pytest.mark.parametrize("status", ["Succeeded", "Failed", "Stopped", "CompletedWithFailures"])
def test_every_final_status_is_forwarded_by_default(status):
    assert len(delivered(pattern(), [event(PIPELINE, status)])) == 1


def test_the_name_in_another_case_is_the_same_pipeline():
    """AWS's own sample event spells the name with capitals; the ARN SageMaker returns is lower-case."""
    assert len(delivered(pattern(), [event(PIPELINE.replace("churn-model", "Churn-Model"))])) == 1


@pytest.mark.parametrize(
    "other",
    [
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/fraud-model",
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model-v2",  # a longer name, same start
        "arn:aws:sagemaker:us-east-1:210987654321:pipeline/churn-model",  # same name, another account
        "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-model",  # same name, another region
    ],
)
def test_another_pipelines_events_are_not_forwarded(other):
    assert delivered(pattern(), [event(other)]) == []


def test_other_statuses_and_event_types_are_not_forwarded():
    step_change = event(PIPELINE, detail_type="SageMaker Model Building Pipeline Execution Step Status Change")
    assert delivered(pattern(), [event(PIPELINE, "Executing"), step_change]) == []


def test_statuses_parameter_chooses_the_statuses():
    rule = pattern(Statuses=["Executing", "Succeeded"])
    got = delivered(rule, [event(PIPELINE, "Executing"), event(PIPELINE, "Failed")])
    assert [e["detail"]["currentPipelineExecutionStatus"] for e in got] == ["Executing"]


def test_the_token_is_kept_out_of_plain_text():
    document = template()
    assert document["Parameters"]["WebhookToken"]["NoEcho"] is True
    connection = document["Resources"]["Connection"]["Properties"]["AuthParameters"]
    (query,) = connection["InvocationHttpParameters"]["QueryStringParameters"]
    assert query == {"Key": "webhook_token", "Value": {"Ref": "WebhookToken"}, "IsValueSecret": True}
    text = TEMPLATE.read_text(encoding="utf-8")
    assert text.count("!Ref WebhookToken") == 1 and "WebhookToken}" not in text  # not in a !Sub either


def test_the_destination_is_the_resources_check_webhook():
    endpoint = template()["Resources"]["Destination"]["Properties"]["InvocationEndpoint"]["Fn::Sub"]
    assert endpoint == (
        "${ConcourseUrl}/api/v1/teams/${ConcourseTeam}/pipelines/${ConcoursePipeline}"
        "/resources/${ConcourseResource}/check/webhook"
    )


def test_template_passes_cfn_lint():
    """The same check as ``make lint`` (cfn-lint is locked in build/requirements-dev.txt)."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        pytest.skip("cfn-lint is not installed in this venv (build/requirements-dev.txt has it)")
    done = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
