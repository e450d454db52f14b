"""history.py in-process: summaries, the hold-back boundary, when paging stops, and what the outcome reports.

Written to kill the mutants tests/test_history.py let survive (``make mutation``).
"""

import datetime as dt

from sagemaker_pipeline_resource.history import Execution, Outcome, Policy, select

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(hours=24)
POLICY = Policy(frozenset({"Succeeded", "Failed", "Stopped"}), DAY, NOW)


def ex(name: str, age: dt.timedelta, status: str = "Succeeded") -> Execution:
    return Execution(f"arn:{name}", status, NOW - age)


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def test_from_summary_reads_arn_status_and_start_time():
    start = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    summary = {"PipelineExecutionArn": "arn:x", "PipelineExecutionStatus": "Failed", "StartTime": start}
    assert Execution.from_summary(summary) == Execution("arn:x", "Failed", start)


def test_from_summary_takes_a_naive_start_time_as_utc():
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    parsed = Execution.from_summary({"PipelineExecutionArn": "arn:x", "StartTime": naive})
    assert parsed.start_time == naive.replace(tzinfo=dt.timezone.utc)
    assert parsed.status == ""


def test_from_summary_without_a_start_time_sorts_first():
    parsed = Execution.from_summary({"PipelineExecutionArn": "arn:x", "PipelineExecutionStatus": "Succeeded"})
    assert parsed.start_time == dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    assert parsed.start_time.tzinfo is dt.timezone.utc
    assert Execution.from_summary({"PipelineExecutionArn": "arn:y", "StartTime": "yesterday"}).start_time == (
        parsed.start_time
    )


def test_hold_back_ends_exactly_at_the_window():
    assert POLICY.holds(ex("a", DAY - dt.timedelta(seconds=1), "Executing"))
    assert not POLICY.holds(ex("a", DAY, "Executing"))
    assert not POLICY.holds(ex("a", minutes(1), "Succeeded"))
    counting_running = Policy(frozenset({"Executing"}), DAY, NOW)
    assert not counting_running.holds(ex("a", minutes(1), "Executing"))  # a version itself holds nothing


def test_outcome_with_the_previous_version_found():
    pages = [[ex("c", minutes(10)), ex("b", minutes(20), "Executing")], [ex("a", minutes(30))]]
    outcome = select(pages, "arn:a", POLICY)
    assert outcome == Outcome([ex("a", minutes(30))], True, 2, 3, ex("b", minutes(20), "Executing"))


def test_outcome_without_a_previous_version():
    pages = [[ex("b", minutes(10))], [ex("a", minutes(20))]]
    outcome = select(pages, None, POLICY)
    assert (outcome.executions, outcome.previous_found, outcome.pages, outcome.scanned) == (
        [ex("b", minutes(10))],
        False,
        2,  # the newest is only settled once nothing older can be running inside the window
        2,
    )
    assert outcome.held_by is None


def test_paging_stops_once_the_oldest_fetched_is_outside_the_window():
    pages = [[ex("c", minutes(10)), ex("b", DAY)], [ex("a", DAY * 2, "Executing")], [ex("z", DAY * 3)]]
    outcome = select(pages, None, POLICY)
    assert [e.arn for e in outcome.executions] == ["arn:c"]
    assert (outcome.pages, outcome.scanned) == (1, 2)


def test_paging_goes_on_while_the_oldest_fetched_is_inside_the_window():
    pages = [[ex("c", minutes(10)), ex("b", DAY - minutes(1))], [ex("a", DAY * 2)], [ex("z", DAY * 3)]]
    outcome = select(pages, None, POLICY)
    assert (outcome.pages, outcome.scanned) == (2, 3)


def test_paging_goes_on_without_a_candidate_even_past_the_window():
    pages = [[ex("b", DAY * 2, "Executing")], [ex("a", DAY * 3)]]
    outcome = select(pages, None, POLICY)
    assert [e.arn for e in outcome.executions] == ["arn:a"]
    assert outcome.pages == 2


def test_an_empty_page_is_read_past():
    outcome = select([[], [ex("a", minutes(5))]], None, POLICY)
    assert [e.arn for e in outcome.executions] == ["arn:a"]
    assert outcome.pages == 2
    assert select([[]], None, POLICY) == Outcome([], False, 1, 0, None)


def test_a_previous_version_on_a_later_page_is_still_found():
    pages = [[ex("c", DAY * 2), ex("b", DAY * 3)], [ex("a", DAY * 4)]]
    outcome = select(pages, "arn:a", POLICY)
    assert [e.arn for e in outcome.executions] == ["arn:a", "arn:b", "arn:c"]
    assert outcome.previous_found and outcome.pages == 2


def test_a_previous_version_that_is_gone_reads_every_page():
    pages = [[ex("c", DAY * 2)], [ex("b", DAY * 3)], [ex("a", DAY * 4)]]
    outcome = select(pages, "arn:gone", POLICY)
    assert [e.arn for e in outcome.executions] == ["arn:c"]
    assert (outcome.previous_found, outcome.pages, outcome.scanned) == (False, 3, 3)
