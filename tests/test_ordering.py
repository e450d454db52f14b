"""The ordering guarantees of docs/ordering.md "Ordering", through the built .pyz against the emulator (issue #11)."""

import datetime as dt
import re

from tests import docs_text

NOW = dt.datetime.now(dt.timezone.utc)


def versions(result) -> list[str]:
    return [version["execution_arn"] for version in result.json]


def check(run, source, top):
    return versions(run("check", {"source": source, "version": {"execution_arn": top}}))


def test_case_1_a_put_does_not_hide_an_older_running_execution(run, emulator, pipeline, source):
    z = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    a = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=20))  # from Studio, running
    assert check(run, source, z) == [z]  # held back by a
    put = run("out", {"source": source, "params": {}})
    b = put.json["version"]["execution_arn"]
    assert "is still pending: this version goes before it" in put.stderr
    # Concourse saved b on top and hands it to the next check: a is still to come, after b.
    assert check(run, source, b) == [b]
    got = run("in", {"source": source, "version": {"execution_arn": b}, "params": {"wait": False}})
    description = {item["name"]: item["value"] for item in got.json["metadata"]}["description"]
    assert description.startswith("Started by Concourse build") and "[concourse" not in description
    emulator.finish(a, "Failed")
    assert check(run, source, b) == [b, a]
    emulator.finish(b, "Succeeded")
    emulator.clear_requests()
    assert check(run, source, a) == [a]  # b is not emitted again: nothing moves
    assert emulator.request_counts() == {"ListPipelineExecutions": 1}


def test_a_put_step_run_again_sends_the_same_request_while_older_executions_are_pending(
    run, emulator, pipeline, source
):
    a = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=20))  # pending: in the marker
    first = run("out", {"source": source, "params": {}}).json["version"]
    emulator.finish(a, "Succeeded")  # nothing is pending any more when Concourse runs the step again
    again = run("out", {"source": source, "params": {}})
    assert again.json["version"] == first  # AWS refuses a token used again with other parameters
    assert "started by an earlier attempt of this step" in again.stderr


def test_case_1_a_waiting_put_that_fails_leaves_its_execution_to_check_once(run, emulator, pipeline, source, sm):
    z = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    emulator.set_lifecycle(finish_after_polls=1, final_status="Failed")
    put = run("out", {"source": source, "params": {"wait": True, "poll_interval": 1}})
    assert put.returncode == 1  # Concourse saves no version for a failed put
    (b,) = [s["PipelineExecutionArn"] for s in sm.list_pipeline_executions(PipelineName=pipeline)[
        "PipelineExecutionSummaries"] if s["PipelineExecutionArn"] != z]  # fmt: skip
    assert run("check", {"source": source, "version": {"execution_arn": z}}).json == [
        {"execution_arn": z},
        {"execution_arn": b},  # the very object the put would have returned
    ]
    assert check(run, source, b) == [b]


def test_case_1_a_waiting_put_that_succeeds_goes_before_what_is_still_pending(run, emulator, pipeline, source):
    z = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    a = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=20))
    assert check(run, source, z) == [z]
    emulator.set_lifecycle(finish_after_polls=1, final_status="Succeeded")
    put = run("out", {"source": source, "params": {"wait": True, "poll_interval": 1}})
    b = put.json["version"]["execution_arn"]
    assert re.search(
        r" saved( req=\w+)? before=\S+/" + a.rsplit("/", 1)[-1] + r" at=\S+\]$", emulator.describe(b)["description"]
    )
    assert check(run, source, b) == [b]
    emulator.finish(a, "Succeeded")
    assert check(run, source, b) == [b, a]


def test_case_1_a_stop_of_a_running_execution_does_not_hide_an_older_one(run, emulator, pipeline, source):
    z = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    a = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=20))
    x = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=10))
    assert check(run, source, z) == [z]
    stopped = run("out", {"source": source, "params": {"action": "stop", "execution_arn": x}}).json["version"]
    assert stopped == {"execution_arn": x}  # new to Concourse: saved on top, before a
    assert check(run, source, x) == [x]
    emulator.finish(a, "Succeeded")
    assert check(run, source, x) == [x, a]
    assert check(run, source, a) == [a]


def test_case_4_every_execution_finished_between_two_checks_is_a_version_in_start_order(
    run, emulator, pipeline, source
):
    first = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    later = [emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=20 - i)) for i in range(3)]
    for arn, status in zip(reversed(later), ("Succeeded", "CompletedWithFailures", "Failed"), strict=True):
        emulator.finish(arn, status)  # they finish in reverse order, before one check sees them
    assert check(run, source, first) == [first, *later]
    # With the default `version: latest` a job runs once for the newest of these: the README example of
    # a job that must see each of them uses `version: every`.
    example = docs_text.text().split("## Example pipeline", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"version: every", example)


def test_issue_22_case_1_a_get_only_pipeline_with_the_same_source_sees_every_put(run, emulator, pipeline, source):
    """Two Concourse histories over one `source`: "train" puts, "deploy" only checks. A saved put version
    that sorts after the version deploy's check is handed cannot be in deploy's history: it is emitted."""
    z = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    assert check(run, source, z) == [z]  # both histories start at z
    builds = [{"BUILD_ID": str(100 + i), "BUILD_NAME": str(i)} for i in (1, 2)]  # two builds of train's job
    puts = [run("out", {"source": source, "params": {}}, env=env).json["version"]["execution_arn"] for env in builds]
    for arn in puts:
        emulator.finish(arn, "Succeeded")
    deploy = run("check", {"source": source, "version": {"execution_arn": z}})
    assert versions(deploy) == [z, *puts], deploy.stderr  # deploy, handed z
    assert check(run, source, puts[-1]) == [puts[-1]]  # train, handed its last put: nothing moves


def test_issue_22_case_3_a_stop_of_a_finished_execution_still_held_back_is_marked(run, emulator, pipeline, source):
    z = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    a = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=20))  # holds x back
    x = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=10), status="Succeeded")
    assert check(run, source, z) == [z]
    stopped = run("out", {"source": source, "params": {"action": "stop", "execution_arn": x}})
    assert stopped.json["version"] == {"execution_arn": x}  # Concourse saves x on top: it is new
    assert re.search(
        r" saved( req=\w+)? before=\S+/" + a.rsplit("/", 1)[-1] + r" at=\S+\]$", emulator.describe(x)["description"]
    )
    assert check(run, source, x) == [x]
    emulator.finish(a, "Succeeded")
    assert check(run, source, x) == [x, a]  # a is not lost, and nothing moves


def test_issue_22_case_2_a_retry_of_an_execution_that_is_not_a_version_is_marked(run, emulator, pipeline, source):
    counted = {**source, "statuses": ["Succeeded"]}
    z = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=30), status="Succeeded")
    f = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=20), status="Failed")
    a = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=10))  # still running
    assert check(run, counted, z) == [z]
    retried = run("out", {"source": counted, "params": {"action": "retry", "execution_arn": f}})
    assert retried.json["version"] == {"execution_arn": f}
    # nothing after it is a version yet: it keeps its place, marked saved (Concourse put it on top)
    assert re.search(r" saved( req=\w+)? at=\S+\]$", emulator.describe(f)["description"])
    emulator.finish(a, "Succeeded")
    assert check(run, counted, f) == [f, a]  # a follows the retried version: not lost
