"""Opaque ``NextToken`` values that resume a listing after the last item returned.

Stock moto never pages ListPipelineExecutions. AWS tokens are opaque strings; clients must hand them
back unchanged. These tokens carry a cursor (the sort key of the last item served), not an offset, so
paging stays correct while executions are being started or aged out between pages, as it does on the
real service. A token that was tampered with, or is replayed with a different sort, is rejected with a
``ValidationException`` instead of silently restarting the listing.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tests.emulator.errors import validation_error


def encode_token(kind: str, cursor: Any) -> str:
    raw = json.dumps({"k": kind, "c": cursor}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, kind: str) -> Any:
    """The cursor inside ``token`` (None when there is no token); ``kind`` must match the listing."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict) or document.get("k") != kind or "c" not in document:
        raise validation_error("Invalid pagination token.")
    return document["c"]
