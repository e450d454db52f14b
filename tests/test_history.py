"""The ordering rule (start order, held back by running executions), on hand-made summaries."""

import datetime as dt

from sagemaker_pipeline_resource.versions.marker import Marker
from sagemaker_pipeline_resource.versions.ordering import Execution, Policy, select

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
POLICY = Policy(frozenset({"Succeeded", "Failed", "Stopped"}), dt.timedelta(hours=24), NOW)


def ex(name: str, minutes_ago: float, status: str = "Succeeded") -> Execution:
    return Execution(f"arn:{name}", status, NOW - dt.timedelta(minutes=minutes_ago))


def pages_of(*executions: Execution, size: int = 100) -> list[list[Execution]]:
    newest_first = sorted(executions, key=lambda e: e.order, reverse=True)
    return [newest_first[i : i + size] for i in range(0, len(newest_first), size)]


def arns(outcome) -> list[str]:
    return [e.arn for e in outcome.executions]


def test_first_check_is_the_newest_counted() -> None:
    outcome = select(pages_of(ex("a", 50), ex("b", 40), ex("c", 30, "Executing")), None, POLICY)
    assert arns(outcome) == ["arn:b"]


def test_first_check_is_not_newer_than_a_running_execution() -> None:
    # c is newest and finished, but b is still running: emitting c would lose b when it finishes.
    outcome = select(pages_of(ex("a", 50), ex("b", 40, "Executing"), ex("c", 30)), None, POLICY)
    assert arns(outcome) == ["arn:a"]
    assert outcome.held_by and outcome.held_by.arn == "arn:b"


def test_empty_history() -> None:
    assert arns(select([], None, POLICY)) == []
    assert arns(select(pages_of(ex("a", 1, "Executing")), None, POLICY)) == []


def test_new_versions_in_start_order_even_if_the_server_order_is_wrong() -> None:
    page = [ex("c", 10), ex("a", 30), ex("d", 5), ex("b", 20)]  # shuffled
    assert arns(select([page], "arn:a", POLICY)) == ["arn:a", "arn:b", "arn:c", "arn:d"]


def test_out_of_order_completion_is_held_back_then_emitted_once() -> None:
    first = select(pages_of(ex("a", 30), ex("b", 20, "Executing"), ex("c", 10)), "arn:a", POLICY)
    assert arns(first) == ["arn:a"]  # c finished, but b (older) has not: hold c back
    second = select(pages_of(ex("a", 30), ex("b", 20, "Failed"), ex("c", 10)), "arn:a", POLICY)
    assert arns(second) == ["arn:a", "arn:b", "arn:c"]
    third = select(pages_of(ex("a", 30), ex("b", 20, "Failed"), ex("c", 10)), "arn:c", POLICY)
    assert arns(third) == ["arn:c"]


def test_a_stuck_execution_stops_holding_back_after_the_window() -> None:
    stuck = ex("b", 25 * 60, "Executing")
    outcome = select(pages_of(ex("a", 26 * 60), stuck, ex("c", 10)), "arn:a", POLICY)
    assert arns(outcome) == ["arn:a", "arn:c"]


def test_uncounted_finished_executions_are_skipped_not_waited_for() -> None:
    policy = Policy(frozenset({"Succeeded"}), dt.timedelta(hours=24), NOW)
    outcome = select(pages_of(ex("a", 30), ex("b", 20, "Failed"), ex("c", 10)), "arn:a", policy)
    assert arns(outcome) == ["arn:a", "arn:c"]


def test_running_previous_version_from_a_put_is_kept_and_newer_ones_follow() -> None:
    outcome = select(pages_of(ex("p", 30, "Executing"), ex("q", 10)), "arn:p", POLICY)
    assert arns(outcome) == ["arn:p", "arn:q"]


def test_previous_version_gone_falls_back_to_the_newest() -> None:
    outcome = select(pages_of(ex("a", 30), ex("b", 20)), "arn:deleted", POLICY)
    assert arns(outcome) == ["arn:b"]
    assert not outcome.previous_found


def test_paging_stops_as_soon_as_the_previous_version_is_found() -> None:
    history = [ex(f"e{i:05d}", 10_000 - i) for i in range(1000)]
    fetched = []

    def lazy_pages():
        for page in pages_of(*history):
            fetched.append(page)
            yield page

    outcome = select(lazy_pages(), "arn:e00990", POLICY)
    assert len(fetched) == 1 and outcome.pages == 1
    assert arns(outcome)[0] == "arn:e00990" and len(arns(outcome)) == 10


def test_including_executing_in_statuses_emits_running_executions() -> None:
    policy = Policy(frozenset({"Executing", "Succeeded"}), dt.timedelta(hours=24), NOW)
    outcome = select(pages_of(ex("a", 30), ex("b", 20, "Executing")), "arn:a", policy)
    assert arns(outcome) == ["arn:a", "arn:b"]


def test_a_failed_page_fails_the_whole_check_instead_of_a_partial_answer() -> None:
    history = [ex(f"e{i:05d}", 1000 - i) for i in range(300)]

    def failing_pages():
        yield pages_of(*history)[0]
        raise ConnectionError("page 2 failed")

    try:
        select(failing_pages(), "arn:e00000", POLICY)
    except ConnectionError:
        pass
    else:
        raise AssertionError("a failed page must not give an answer")


def test_a_put_version_sits_before_the_execution_that_was_pending_only_for_its_own_scope() -> None:
    policy = Policy(POLICY.statuses, POLICY.hold_back, NOW, scope="1a2b3c4d")
    held = ex("a", 30, "Executing")
    put = Execution("arn:p", "Executing", NOW - dt.timedelta(minutes=10), Marker("1a2b3c4d", True, held.order))
    other = Execution("arn:p", "Executing", put.start_time, Marker("99999999", True, held.order))
    assert [e.arn for e in policy.ordered([held, put])] == ["arn:p", "arn:a"]
    assert [e.arn for e in policy.ordered([held, other])] == ["arn:a", "arn:p"]  # another resource's put
    assert not policy.holds(put) and policy.holds(other)
    done = ex("a", 30, "Succeeded")
    assert arns(select(pages_of(done, put), "arn:p", policy)) == ["arn:p", "arn:a"]
