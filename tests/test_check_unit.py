"""check.py in-process, with botocore's Stubber: the exact ListPipelineExecutions requests, the page cap,
the policy built from source, and the lines on stderr. (``make mutation`` runs these against mutants.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from sagemaker_pipeline_resource import check as check_module
from sagemaker_pipeline_resource.config.params import SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError
from sagemaker_pipeline_resource.versions import listing
from sagemaker_pipeline_resource.versions.marker import Marker, attach, scope_of
from sagemaker_pipeline_resource.versions.version import ExecutionVersion

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"
NOW = dt.datetime.now(dt.timezone.utc)


def arn(name: str) -> str:
    return f"{PIPELINE}/execution/{name}"


def summary(name: str, minutes_ago: float, status: str = "Succeeded") -> dict[str, Any]:
    return {
        "PipelineExecutionArn": arn(name),
        "PipelineExecutionStatus": status,
        "StartTime": NOW - dt.timedelta(minutes=minutes_ago),
    }


class FakeAWS:
    """What check needs of aws.AWS: the config and a SageMaker client (here a stubbed one)."""

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.client = botocore.session.get_session().create_client(
            "sagemaker", region_name="us-east-1", aws_access_key_id="AKIAFAKE", aws_secret_access_key="fake"
        )
        self.stub = Stubber(self.client)

    def sagemaker(self, **_: Any) -> Any:
        return self.client

    def expect_page(self, summaries: list[dict[str, Any]], token: str | None = None, after: str | None = None) -> None:
        expected: dict[str, Any] = {
            "PipelineName": PIPELINE,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 100,
        }
        if after is not None:
            expected["NextToken"] = after
        response: dict[str, Any] = {"PipelineExecutionSummaries": summaries}
        if token is not None:
            response["NextToken"] = token
        self.stub.add_response("list_pipeline_executions", response, expected)


def aws_for(**source: Any) -> FakeAWS:
    return FakeAWS(SourceConfig.from_json({"pipeline": PIPELINE, **source}))


def test_first_check_lists_one_page_newest_first_and_reports_it(capsys):
    aws = aws_for()
    aws.expect_page([summary("b", 10), summary("a", 2000)])
    with aws.stub:
        assert check_module.check(aws, None) == [ExecutionVersion(arn("b"))]
    aws.stub.assert_no_pending_responses()
    assert capsys.readouterr().err == "check: 1 page(s), 2 execution(s) read, 1 version(s)\n"


def test_pages_follow_next_token_up_to_max_pages(capsys):
    aws = aws_for(max_pages=2)
    aws.expect_page([summary(f"d{i}", 1 + i, "Executing") for i in range(100)], token="t1")
    # the previous version is not on the first page: one describe says it exists (it is further back)
    aws.stub.add_response(
        "describe_pipeline_execution",
        {"PipelineExecutionArn": arn("a"), "CreationTime": NOW - dt.timedelta(days=30)},
        {"PipelineExecutionArn": arn("a")},
    )
    aws.expect_page([summary(f"c{i}", 200 + i, "Executing") for i in range(100)], token="t2", after="t1")
    with aws.stub:
        versions = check_module.check(aws, ExecutionVersion(arn("a")))
    aws.stub.assert_no_pending_responses()  # the third page (beyond max_pages=2) was never asked for
    assert versions == []
    err = capsys.readouterr().err
    assert "200 executions" in err
    assert "check: warning: read max_pages=2 pages (200 executions) before the answer was certain" in err
    assert "Raise source.max_pages." in err


def test_a_previous_version_that_is_gone_costs_one_describe_not_max_pages(capsys):
    aws = aws_for(max_pages=5)
    aws.expect_page([summary(f"d{i}", 1 + i) for i in range(99)] + [summary("old", 60 * 25)], token="t1")
    aws.stub.add_client_error("describe_pipeline_execution", "ResourceNotFound", "gone", 400)
    with aws.stub:
        versions = check_module.check(aws, ExecutionVersion(arn("a")))
    aws.stub.assert_no_pending_responses()  # no second page
    assert versions == [ExecutionVersion(arn("d0"))]  # the newest, as Concourse expects
    assert "warning" not in capsys.readouterr().err


def test_previous_version_missing_is_said_on_stderr(capsys):
    aws = aws_for(max_pages=3)
    aws.expect_page([summary("c", 10), summary("b", 20, "Executing")])
    aws.stub.add_client_error("describe_pipeline_execution", "ResourceNotFound", "gone", 400)
    with aws.stub:
        versions = check_module.check(aws, ExecutionVersion(arn("gone")))
    assert versions == []
    err = capsys.readouterr().err
    assert err == (
        f"check: the previous version {arn('gone')} was not among the newest 2 executions (deleted, aged out, "
        "or beyond max_pages=3): starting again from the newest.\n"
        f"check: 1 page(s), 2 execution(s) read, 0 version(s); held back by {arn('b')} (Executing)\n"
    )


def test_previous_version_then_newer_ones_in_start_order(capsys):
    aws = aws_for()
    aws.expect_page([summary("c", 10), summary("b", 20, "Failed"), summary("a", 30)])
    with aws.stub:
        versions = check_module.check(aws, ExecutionVersion(arn("a")))
    assert versions == [ExecutionVersion(arn(name)) for name in ("a", "b", "c")]
    assert capsys.readouterr().err == "check: 1 page(s), 3 execution(s) read, 3 version(s)\n"


def test_policy_comes_from_source():
    config = SourceConfig.from_json({"pipeline": PIPELINE, "statuses": ["Succeeded"], "hold_back_hours": 2})
    policy = listing.policy_of(config)
    assert policy.statuses == frozenset({"Succeeded"})
    assert policy.hold_back == dt.timedelta(hours=2)
    assert policy.scope == scope_of(config)
    assert policy.now.tzinfo is not None
    assert abs((policy.now - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


def test_hold_back_hours_and_statuses_decide_the_versions():
    aws = aws_for(hold_back_hours=1, statuses=["Succeeded"])
    aws.expect_page([summary("c", 10), summary("b", 90, "Executing"), summary("x", 100, "Failed"), summary("a", 120)])
    with aws.stub:
        versions = check_module.check(aws, ExecutionVersion(arn("a")))
    assert versions == [ExecutionVersion(arn("a")), ExecutionVersion(arn("c"))]  # b runs past the window


def test_pending_is_the_first_execution_still_held():
    aws = aws_for()
    aws.expect_page([summary("c", 10, "Executing"), summary("b", 20, "Executing"), summary("a", 30)])
    with aws.stub:
        held = listing.pending(aws.client, aws.config).holder
    assert held is not None and held.arn == arn("b")


def test_an_empty_listing_and_a_page_without_summaries():
    aws = aws_for()
    aws.stub.add_response(
        "list_pipeline_executions",
        {},
        {"PipelineName": PIPELINE, "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 100},
    )
    with aws.stub:
        assert check_module.check(aws, None) == []


def test_aws_errors_name_what_was_being_done():
    aws = aws_for()
    aws.stub.add_client_error("list_pipeline_executions", "AccessDeniedException", "not allowed", 400)
    with aws.stub, pytest.raises(ResourceError) as caught:
        check_module.check(aws, None)
    assert f"listing the executions of {PIPELINE}" in caught.value.message
    assert "AccessDeniedException" in caught.value.message


def test_pending_for_a_waiting_put_looks_only_before_its_own_execution():
    for own, expected in ((arn("b"), None), (None, arn("c"))):
        aws = aws_for()
        aws.expect_page([summary("c", 10, "Executing"), summary("b", 20), summary("a", 30)])
        with aws.stub:
            held = listing.pending(aws.client, aws.config, own, own_holds=True).holder
        assert (held.arn if held else None) == expected


def test_pending_finds_the_execution_an_earlier_attempt_of_the_step_started():
    aws = aws_for()
    text = attach("x", Marker(scope_of(aws.config), False, request="0a1b2c3d"))
    started = {**summary("e", 2, "Executing"), "PipelineExecutionDescription": text}
    aws.expect_page([started, summary("a", 30)])
    with aws.stub:
        found = listing.pending(aws.client, aws.config, None, "0a1b2c3d")
    assert found.earlier is not None and found.earlier.arn == arn("e")
    assert found.own is None
