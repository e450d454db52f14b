"""The marker that places a put's version in the history (see :mod:`versions.ordering`): written into the
start request, or onto an existing execution just before the put succeeds."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sagemaker_pipeline_resource.config.params import SourceConfig
from sagemaker_pipeline_resource.put.request import Request
from sagemaker_pipeline_resource.put.tokens import attempt
from sagemaker_pipeline_resource.versions.listing import pending, policy_of
from sagemaker_pipeline_resource.versions.marker import Marker, attach, parse, request_of, scope_of
from sagemaker_pipeline_resource.versions.ordering import Frontier

T = TypeVar("T")


def placement(client: Any, config: SourceConfig, arn: str, action: str) -> tuple[str | None, bool]:
    """Before a stop or a retry of ``arn``: which marker it needs, and whether it holds the rest back now.

    - ``"on_top"``: its version is new to this history (running and not a version yet; finished but held
      back; an uncounted status; past ``hold_back_hours``): Concourse saves it on top, and the marker says
      where that is.
    - ``"in_place"``: a retry of a version already in the history: its place does not change, but the marker
      says it is saved, so that while it runs again it holds back no later put's version.
    - None: nothing to write (a stop of a version already in the history, or one already marked saved).
    """
    found = pending(client, config, arn, own_holds=True)
    own = found.own
    policy = policy_of(config)
    if own is None or policy.saved(own):
        return None, False
    if not found.in_history(policy):
        return "on_top", policy.holds(own)
    return ("in_place" if action == "retry" else None), False


def mark_start(client: Any, request: Request, config: SourceConfig, saved: bool, *, attempts: bool = True) -> None:
    """Choose the attempt's token (:func:`attempt`; ``attempts`` false: an explicit or random token, used as
    it is) and append the marker to the description.

    Without ``wait`` Concourse saves the version as soon as the put exits, so the marker says ``saved`` and
    where; with ``wait`` it says ``waiting`` until :func:`mark_saved` (a wait that fails saves nothing).
    The request must be the same whenever the step runs again (AWS refuses a ClientRequestToken used with
    other parameters): ``waiting`` does not depend on the moment, and a ``saved`` marker is taken from the
    execution an earlier attempt started, when there is one.
    """
    arguments = request.arguments
    base = str(arguments["ClientRequestToken"])
    found = pending(client, config)
    if attempts:
        chosen, earlier = attempt(base, found.requests)
    else:
        chosen, earlier = base, found.requests.get(request_of(base))
    arguments["ClientRequestToken"] = chosen
    scope, token = scope_of(config), request_of(chosen)
    if earlier is not None:
        print(
            f"put: {earlier.arn} was started by an earlier attempt of this step ({earlier.status}): re-attaching",
            file=sys.stderr,
        )
    if not saved:
        marker = Marker(scope, False, request=token)
    else:
        if earlier is not None:
            arguments["PipelineExecutionDescription"] = earlier.description
            return
        _say_where(found)
        marker = found.marker(scope, None, token)
    arguments["PipelineExecutionDescription"] = attach(arguments.get("PipelineExecutionDescription"), marker)


def held_to_the_end(description: dict[str, Any], config: SourceConfig) -> bool:
    """Whether a waited execution held the rest back until it ended: it ran less than ``hold_back_hours``
    (AWS's creation and last-modified times; without them, counted from now)."""
    start, end = description.get("CreationTime"), description.get("LastModifiedTime")
    if not isinstance(start, dt.datetime):
        return True
    if not isinstance(end, dt.datetime):
        end = dt.datetime.now(dt.timezone.utc)
    start, end = (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc) for moment in (start, end))
    return end - start < dt.timedelta(hours=config.hold_back_hours)


def _say_where(found: Frontier) -> None:
    if found.holder is not None:
        holder = found.holder
        print(f"put: {holder.arn} ({holder.status}) is still pending: this version goes before it", file=sys.stderr)


# After marking an execution, how long to wait for the listing to show it (AWS's listing may lag an update).
VISIBLE_MARK_TRIES = 5


def mark_saved(
    client: Any,
    arn: str,
    description: dict[str, Any],
    config: SourceConfig,
    *,
    own_holds: bool,
    in_place: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
) -> None:
    """Just before a put succeeds and Concourse saves ``arn`` on top: mark it saved, and where.

    If this call fails the put fails, so Concourse saves nothing and check emits the execution itself. The
    put then reads the listing until it shows the marker: a check handed this version that still saw the old
    description would place it at its start and lose what was pending before it.
    """
    previous = parse(description.get("PipelineExecutionDescription"))
    request = previous.request if previous else None  # it stays: a step run again finds this execution by it
    if in_place:
        marker = Marker(scope_of(config), True, request=request, at=clock())
    else:
        found = pending(client, config, arn, own_holds=own_holds)
        _say_where(found)
        marker = found.marker(scope_of(config), clock(), request)
    text = attach(description.get("PipelineExecutionDescription"), marker)
    client.update_pipeline_execution(PipelineExecutionArn=arn, PipelineExecutionDescription=text)
    for look in range(1, VISIBLE_MARK_TRIES + 1):
        own = pending(client, config, arn).own
        if own is None or own.marker == marker:
            return
        if look < VISIBLE_MARK_TRIES:
            sleep(2 ** (look - 1))
    print(
        f"put: warning: the listing of executions does not show the marker of {arn} yet; a check in the next "
        "seconds may place its version at its start (docs/ordering.md).",
        file=sys.stderr,
    )
