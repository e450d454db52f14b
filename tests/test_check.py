"""check, through the .pyz, against the emulator: versions, order, out-of-order completion, cost."""

import datetime as dt

NOW = dt.datetime.now(dt.timezone.utc)


def versions(result) -> list[str]:
    return [version["execution_arn"] for version in result.json]


def test_no_executions_gives_an_empty_list(run, source):
    assert run("check", {"source": source}).json == []


def test_first_check_emits_only_the_newest_finished(run, emulator, pipeline, source):
    arns = emulator.seed_executions(pipeline, 5, start=NOW - dt.timedelta(hours=2))
    assert versions(run("check", {"source": source})) == [arns[-1]]


def test_only_counted_statuses(run, emulator, pipeline, source):
    arns = emulator.seed_executions(
        pipeline, 4, statuses=["Succeeded", "Failed", "Succeeded", "Failed"], start=NOW - dt.timedelta(hours=1)
    )
    assert versions(run("check", {"source": {**source, "statuses": ["Succeeded"]}})) == [arns[2]]
    assert versions(run("check", {"source": source})) == [arns[3]]


def test_new_versions_since_the_previous_oldest_first(run, emulator, pipeline, source):
    arns = emulator.seed_executions(pipeline, 6, start=NOW - dt.timedelta(hours=1))
    result = run("check", {"source": source, "version": {"execution_arn": arns[2]}})
    assert versions(result) == arns[2:]


def test_nothing_new_returns_the_previous_version_in_one_call(run, emulator, pipeline, source):
    arns = emulator.seed_executions(pipeline, 250, start=NOW - dt.timedelta(hours=5), interval_seconds=30)
    emulator.clear_requests()
    result = run("check", {"source": source, "version": {"execution_arn": arns[-1]}})
    assert versions(result) == [arns[-1]]
    assert emulator.request_counts().get("ListPipelineExecutions") == 1


def test_out_of_order_completion_is_emitted_exactly_once(run, emulator, pipeline, source):
    start = NOW - dt.timedelta(minutes=30)
    first = emulator.start_execution(pipeline, start_time=start, status="Succeeded")
    slow = emulator.start_execution(pipeline, start_time=start + dt.timedelta(minutes=1))
    fast = emulator.start_execution(pipeline, start_time=start + dt.timedelta(minutes=2))
    emulator.finish(fast, "Succeeded")
    # The newer execution finished first: it waits for the older one, which is still running.
    assert versions(run("check", {"source": source, "version": {"execution_arn": first}})) == [first]
    emulator.finish(slow, "Failed", failure_reason="OOM")
    assert versions(run("check", {"source": source, "version": {"execution_arn": first}})) == [first, slow, fast]
    assert versions(run("check", {"source": source, "version": {"execution_arn": fast}})) == [fast]


def test_a_stuck_execution_cannot_block_forever(run, emulator, pipeline, source):
    old = NOW - dt.timedelta(hours=30)
    first = emulator.start_execution(pipeline, start_time=old, status="Succeeded")
    emulator.start_execution(pipeline, start_time=old + dt.timedelta(minutes=1))  # running for 30 hours
    later = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=5), status="Succeeded")
    payload = {"source": {**source, "hold_back_hours": 24}, "version": {"execution_arn": first}}
    assert versions(run("check", payload)) == [first, later]


def test_previous_version_deleted_gives_the_newest_without_crashing(run, emulator, pipeline, source):
    arns = emulator.seed_executions(pipeline, 5, start=NOW - dt.timedelta(hours=1))
    emulator.delete_execution(arns[1])
    result = run("check", {"source": source, "version": {"execution_arn": arns[1]}})
    assert versions(result) == [arns[-1]]
    assert "was not among the newest" in result.stderr


def test_a_previous_version_that_is_gone_costs_one_describe_not_max_pages(run, emulator, pipeline, source):
    """Issue #22, case 9: Concourse's convention for a version that is gone is to answer the newest one."""
    arns = emulator.seed_executions(pipeline, 1000, start=NOW - dt.timedelta(days=20), interval_seconds=60)
    emulator.delete_execution(arns[0])
    emulator.clear_requests()
    result = run("check", {"source": {**source, "max_pages": 3}, "version": {"execution_arn": arns[0]}})
    assert versions(result) == [arns[-1]]
    assert emulator.request_counts() == {"ListPipelineExecutions": 1, "DescribePipelineExecution": 1}


def test_a_previous_version_beyond_the_page_cap_costs_at_most_the_cap_and_warns(run, emulator, pipeline, source):
    """Issue #22, case 8: max_pages reached before the answer is certain is said, with what to raise."""
    arns = emulator.seed_executions(pipeline, 1000, start=NOW - dt.timedelta(days=20), interval_seconds=60)
    emulator.clear_requests()
    result = run("check", {"source": {**source, "max_pages": 3}, "version": {"execution_arn": arns[0]}})
    assert versions(result) == [arns[-1]]
    assert emulator.request_counts() == {"ListPipelineExecutions": 3, "DescribePipelineExecution": 1}
    assert "check: warning: read max_pages=3 pages (300 executions) before the answer was certain" in result.stderr
    assert "Raise source.max_pages." in result.stderr


def test_put_version_still_running_is_kept_and_finished_ones_follow(run, emulator, pipeline, source):
    running = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=10))
    done = emulator.start_execution(pipeline, start_time=NOW - dt.timedelta(minutes=5), status="Succeeded")
    assert versions(run("check", {"source": source, "version": {"execution_arn": running}})) == [running, done]


def test_check_stdout_is_only_json_and_logs_go_to_stderr(run, emulator, pipeline, source):
    emulator.seed_executions(pipeline, 2, start=NOW - dt.timedelta(hours=1))
    result = run("check", {"source": {**source, "debug": True}})
    assert isinstance(result.json, list)
    assert "check:" in result.stderr
