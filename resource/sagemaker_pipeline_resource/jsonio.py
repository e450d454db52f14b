"""JSON in and out: AWS responses to files, with datetimes as ISO 8601 and explicit UTF-8."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any


def _default(value: object) -> object:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path, value: Any) -> None:
    """Write ``value`` as JSON; the metadata key boto3 adds to every response is dropped."""
    if isinstance(value, dict):
        value = {key: item for key, item in value.items() if key != "ResponseMetadata"}
    path.write_text(dumps(value), encoding="utf-8")


def iso(value: dt.datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC (seconds precision), for metadata shown in the Concourse UI."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
