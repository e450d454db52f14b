"""The line a ``put`` appends to the description of the execution it starts: where its version sits.

Concourse saves a put's version on top of the resource's history the moment the put succeeds, even when
older executions have not been emitted yet (they are still running, or finished but held back by one that
is). A stateless check is then handed that version and nothing else. So the put writes, on the execution
itself, what the check needs to place it: the execution it was saved *before* (the first one that was still
pending), and whether the put has saved it at all (a put that waits saves its version only when it exits
successfully; it writes ``waiting`` at the start and ``saved`` just before it succeeds). The check reads it
from the summaries it already lists (ListPipelineExecutions returns each description): no extra call.

``scope`` ties the marker to one resource configuration (a hash of the source without its secrets), so the
check of a resource with another ``source`` on the same pipeline treats the execution as an outside one.

Where the version sits is one of: ``before=START/ID`` (just before the first execution that was still pending),
``after=START/ID`` (nothing was pending: just after the newest execution listed, so that one started elsewhere
between the listing and the start, or hidden by a listing that lags, still comes after it), or neither (its
own start). ``at`` is when a marker was written onto an existing execution (a waiting put that ends, a stop, a
retry): versions placed at the same spot are in the order Concourse saved them, which is the order of ``at``,
not of their starts.

The marker, after the user's description and a space (AWS allows no line break in a description)::

  [concourse sagemaker-pipeline-resource: scope=1a2b3c4d saved req=9f8e7d6c before=2026-11-27T12:00:00.123000+00:00/a1]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

MAX_DESCRIPTION = 3072
PREFIX = "[concourse sagemaker-pipeline-resource:"
_LINE = re.compile(
    r" ?\[concourse sagemaker-pipeline-resource: scope=(?P<scope>[0-9a-f]{8}) (?P<state>saved|waiting)"
    r"(?: req=(?P<request>[0-9a-f]{8}))?(?: (?P<side>before|after)=(?P<start>\S+)/(?P<id>[^\s\]]+))?"
    r"(?: at=(?P<at>[^\s\]]+))?\]\s*\Z"
)


@dataclass(frozen=True)
class Marker:
    """What a put wrote: its resource's scope, whether its version is saved, and the execution it sits before."""

    scope: str
    saved: bool
    before: tuple[dt.datetime, str] | None = None
    # a hash of the put's ClientRequestToken: a step that runs again finds its first attempt's execution and
    # sends the very same request (AWS refuses a token used again with other parameters)
    request: str | None = None
    after: tuple[dt.datetime, str] | None = None  # nothing was pending: just after this execution
    at: dt.datetime | None = None  # when the marker was written onto an existing execution

    def render(self) -> str:
        text = f"{PREFIX} scope={self.scope} {'saved' if self.saved else 'waiting'}"
        if self.request is not None:
            text += f" req={self.request}"
        for side, spot in (("before", self.before), ("after", self.after)):
            if spot is not None:
                start, execution_id = spot
                text += f" {side}={_stamp(start)}/{execution_id}"
        if self.at is not None:
            text += f" at={_stamp(self.at)}"
        return text + "]"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def parse(description: object) -> Marker | None:
    """The marker at the end of a description, or None (no marker, or one that does not parse)."""
    if not isinstance(description, str):
        return None
    match = _LINE.search(description)
    if match is None:
        return None
    spot = None
    if match["start"] is not None:
        start = _moment(match["start"])
        if start is None:
            return None
        spot = (start, match["id"])
    at = None
    if match["at"] is not None:
        at = _moment(match["at"])
        if at is None:
            return None
    before, after = (spot, None) if match["side"] == "before" else (None, spot)
    return Marker(match["scope"], match["state"] == "saved", before, match["request"], after, at)


def strip(description: str | None) -> str:
    """The user's part of a description (the marker removed)."""
    if not description:
        return ""
    match = _LINE.search(description)
    return description[: match.start()] if match else description


def attach(description: str | None, marker: Marker) -> str:
    """``description`` with ``marker`` at its end, the user's part shortened to fit AWS's 3072 characters."""
    user = strip(description)
    line = marker.render()
    room = MAX_DESCRIPTION - len(line) - 1
    if len(user) > room:
        user = user[: room - 1] + "…"
    return f"{user} {line}" if user else line  # AWS's pattern for descriptions is ".*": no line breaks


def request_of(token: str) -> str:
    """The short hash of a ClientRequestToken that a marker carries."""
    return hashlib.sha256(token.encode()).hexdigest()[:8]


def scope_of(config: object) -> str:
    """A short hash of the source without its secrets: the same configuration, the same resource history.

    Concourse resets a resource's history when its ``source`` changes; secrets are left out so that nothing
    derived from them is ever written anywhere.
    """
    public = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)  # type: ignore[arg-type]
        if field.init and not field.metadata.get("secret")
    }
    return hashlib.sha256(json.dumps(public, sort_keys=True, default=str).encode()).hexdigest()[:8]
