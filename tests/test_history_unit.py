"""history.py in-process: summaries, the hold-back boundary, when paging stops, and what the outcome reports.

Written to kill the mutants tests/test_history.py let survive (``make mutation``).
"""

import datetime as dt

from sagemaker_pipeline_resource.versions.marker import Marker
from sagemaker_pipeline_resource.versions.ordering import Execution, Outcome, Policy, frontier, select

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
    assert select([[]], None, POLICY) == Outcome([], False, 1, 0, None, undecided=True)  # the pages ran out


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


# frontier: what a put needs before its version is saved -------------------------------------------------

SCOPED = Policy(frozenset({"Succeeded", "Failed", "Stopped"}), DAY, NOW, scope="abcd1234")


def test_frontier_is_the_first_pending_execution():
    pages = [[ex("c", minutes(10), "Executing"), ex("b", minutes(20), "Executing"), ex("a", minutes(30))]]
    found = frontier(pages, POLICY)
    assert found.holder == ex("b", minutes(20), "Executing")
    assert (found.own, found.earlier) == (None, None)
    assert frontier([[ex("a", minutes(30))]], POLICY).holder is None
    assert frontier([], POLICY).holder is None


def test_frontier_for_a_waiting_put_counts_only_what_started_before_its_own():
    own = ex("b", minutes(20))
    pages = [[ex("c", minutes(10), "Executing"), own, ex("a", minutes(30), "Executing")]]
    found = frontier(pages, POLICY, own.arn, own_holds="in_window")
    assert found.holder == ex("a", minutes(30), "Executing") and found.own == own
    alone = frontier([[ex("c", minutes(10), "Executing"), own]], POLICY, own.arn, own_holds="in_window")
    assert alone.holder is None and alone.own == own
    running_own = ex("r", minutes(40), "Executing")
    assert frontier([[running_own]], POLICY, running_own.arn).holder is None  # its own execution never holds


def test_frontier_reads_until_the_window_is_covered_and_its_own_is_found():
    reads: list[int] = []

    def pages():
        for number, page in enumerate(
            [[ex("d", minutes(5), "Executing")], [ex("c", DAY * 2)], [ex("b", DAY * 3)], [ex("a", DAY * 4)]], 1
        ):
            reads.append(number)
            yield page

    assert frontier(pages(), POLICY).holder == ex("d", minutes(5), "Executing")
    assert reads == [1, 2]  # page 2 reaches past the window: nothing older can be pending
    reads.clear()
    frontier(pages(), POLICY, "arn:b")
    assert reads == [1, 2, 3]  # and on until its own execution is seen
    reads.clear()
    frontier(pages(), POLICY, "arn:gone")
    assert reads == [1, 2, 3, 4]


def test_frontier_finds_the_execution_an_earlier_attempt_started():
    mine = Execution("arn:m", "Executing", NOW - minutes(3), Marker("abcd1234", False, None, "req12345"))
    other = Execution("arn:o", "Executing", NOW - minutes(2), Marker("abcd1234", False, None, "zzzz9999"))
    found = frontier([[other, mine]], SCOPED, request="req12345")
    assert found.earlier == mine
    assert frontier([[other, mine]], SCOPED, request="nope").earlier is None
    assert frontier([[other, mine]], SCOPED).earlier is None


def test_from_summary_reads_the_marker_and_keeps_the_description():
    text = "my run [concourse sagemaker-pipeline-resource: scope=abcd1234 saved]"
    parsed = Execution.from_summary(
        {"PipelineExecutionArn": "arn:x", "PipelineExecutionStatus": "Executing", "StartTime": NOW,
         "PipelineExecutionDescription": text}
    )  # fmt: skip
    assert parsed.description == text
    assert parsed.marker == Marker("abcd1234", True)
    bare = Execution.from_summary({"PipelineExecutionArn": "arn:y/execution/id9", "StartTime": NOW})
    assert (bare.description, bare.marker, bare.id) == ("", None, "id9")


def test_frontier_reads_past_an_empty_first_page():
    assert frontier([[], [ex("a", minutes(5), "Executing")]], POLICY).holder == ex("a", minutes(5), "Executing")


def test_frontier_reports_an_earlier_attempt_when_nothing_is_pending():
    mine = Execution("arn:m", "Succeeded", NOW - minutes(3), Marker("abcd1234", False, None, "req12345"))
    found = frontier([[mine]], SCOPED, request="req12345")
    assert found.holder is None and found.earlier == mine


def test_a_saved_put_version_after_the_previous_one_is_another_historys_and_is_emitted():
    """A put saves on top: a saved version that sorts after the version on top was saved into another history
    over the same pipeline (issue #22, case 1), so here it is an execution like any other."""
    saved = Execution("arn:s", "Succeeded", NOW - minutes(20), Marker("abcd1234", True))
    pages = [[ex("c", minutes(10)), saved, ex("a", minutes(30))]]
    outcome = select(pages, "arn:a", SCOPED)
    assert [e.arn for e in outcome.executions] == ["arn:a", "arn:s", "arn:c"]


def test_a_previous_version_the_listing_does_not_show_yet_is_answered_alone():
    """Issue #22: AWS's listing may lag a put's start; the version on top then exists (a describe finds it)
    but is not listed: nothing is new yet, rather than the newest (which would move versions)."""
    pages = [[ex("b", minutes(2)), ex("a", minutes(30))]]
    outcome = select(pages, "arn:p", POLICY, locate=lambda arn: NOW - minutes(1))
    assert [e.arn for e in outcome.executions] == ["arn:p"] and outcome.lagging
    gone = select(pages, "arn:p", POLICY, locate=lambda arn: None)
    assert [e.arn for e in gone.executions] == ["arn:b"] and not gone.lagging and not gone.previous_found
