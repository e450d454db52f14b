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

The marker, after the user's description and a space (AWS allows no line break in a description; ``before``
only when something was pending)::

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
    r"(?: req=(?P<request>[0-9a-f]{8}))?(?: before=(?P<start>\S+)/(?P<id>[^\s\]]+))?\]\s*\Z"
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

    def render(self) -> str:
        text = f"{PREFIX} scope={self.scope} {'saved' if self.saved else 'waiting'}"
        if self.request is not None:
            text += f" req={self.request}"
        if self.before is not None:
            start, execution_id = self.before
            text += f" before={start.astimezone(dt.timezone.utc).isoformat(timespec='microseconds')}/{execution_id}"
        return text + "]"


def parse(description: object) -> Marker | None:
    """The marker at the end of a description, or None (no marker, or one that does not parse)."""
    if not isinstance(description, str):
        return None
    match = _LINE.search(description)
    if match is None:
        return None
    before = None
    if match["start"] is not None:
        try:
            start = dt.datetime.fromisoformat(match["start"])
        except ValueError:
            return None
        before = (start if start.tzinfo else start.replace(tzinfo=dt.timezone.utc), match["id"])
    return Marker(match["scope"], match["state"] == "saved", before, match["request"])


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
