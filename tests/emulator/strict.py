"""Strictness switches: the places where AWS is less kind than a naive emulator, each one a switch.

A test that passes against a kind emulator proves little: code that describes an execution the instant it
started, reuses a ClientRequestToken for a different request, or polls by listing, works here and breaks in
production. Each behaviour below is a field of :class:`Strictness`, set through the control API
(``set_strictness``) and reset with everything else. Defaults are AWS's behaviour where it is known; where it
is not (marked "unverified" in the README), the default is the kinder choice and tests run the resource
against both.

* ``list_is_poll``: whether a ListPipelineExecutions page counts as a poll of the executions on it (so a
  ``finish_after_polls`` plan moves). AWS: listing observes, it never drives anything. Default False.
* ``not_found_reads`` / ``not_found_seconds``: a just-started execution (StartPipelineExecution) is not
  yet found by the reads that take its ARN: its first N reads, or for S seconds after it started, answer
  ResourceNotFound (eventual consistency; unverified). Default 0 / 0.
* ``token_mismatch``: a ClientRequestToken used again with different parameters: ``"reject"``
  (ValidationException; the exact code AWS uses is unverified) or ``"first"`` (answer the first request's
  result). Default "reject".
* ``token_ttl_seconds``: how long a ClientRequestToken is remembered; after that the same token starts a
  new execution (AWS documents no lifetime; unverified). Default None: forever.
* ``start_delay_seconds``: an API-started execution's ``StartTime`` (ListPipelineExecutions) is this long
  after its ``CreationTime`` (DescribePipelineExecution), as for a run that waited for capacity. The model
  has the two as separate fields; the gap AWS shows is unverified. Default 0.
* ``step_entries``: ``"per_step"`` (one entry per step, ``AttemptCount`` counting retries) or
  ``"per_attempt"`` (a retried step keeps its failed entry and gets a new one per attempt). Unverified.
  ForEach iterations are always one entry each, with ``IterationContext``, as the model shapes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from tests.emulator.errors import not_found, validation_error

STEP_ENTRIES = ("per_step", "per_attempt")
TOKEN_MISMATCH = ("reject", "first")


@dataclass
class Strictness:
    list_is_poll: bool = False
    not_found_reads: int = 0
    not_found_seconds: float = 0.0
    token_mismatch: str = "reject"
    token_ttl_seconds: float | None = None
    start_delay_seconds: float = 0.0
    step_entries: str = "per_step"

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Strictness:
        """Validated switches from a control request (unknown names and bad values are refused)."""
        known = {f.name for f in fields(cls)}
        unknown = set(payload) - known
        if unknown:
            raise validation_error(f"Unknown strictness switches {sorted(unknown)}; known: {sorted(known)}.")
        strict = cls(**payload)
        if strict.token_mismatch not in TOKEN_MISMATCH:
            raise validation_error(f"token_mismatch must be one of {TOKEN_MISMATCH}.")
        if strict.step_entries not in STEP_ENTRIES:
            raise validation_error(f"step_entries must be one of {STEP_ENTRIES}.")
        numbers = (strict.not_found_reads, strict.not_found_seconds, strict.start_delay_seconds)
        if any(n < 0 for n in numbers) or (strict.token_ttl_seconds is not None and strict.token_ttl_seconds < 0):
            raise validation_error("Strictness counts and durations must not be negative.")
        return strict


@dataclass
class TokenUse:
    """What a ClientRequestToken was first used for: the result, a fingerprint of the request, and when."""

    result: str
    fingerprint: str
    at_ms: int


def fingerprint(params: dict[str, Any]) -> str:
    """The request without its token: two requests with the same token must agree on this."""
    return json.dumps({k: v for k, v in params.items() if k != "ClientRequestToken"}, sort_keys=True, default=str)


def reuse(strict: Strictness, use: TokenUse | None, params: dict[str, Any], now: int) -> str | None:
    """The earlier result a repeated token gives back, or None to act afresh (new or expired token).

    A token used again with a different request is refused under ``token_mismatch="reject"``.
    """
    if use is None:
        return None
    if strict.token_ttl_seconds is not None and now - use.at_ms >= strict.token_ttl_seconds * 1000:
        return None
    if use.fingerprint != fingerprint(params) and strict.token_mismatch == "reject":
        raise validation_error(
            f"The ClientRequestToken {params['ClientRequestToken']} was already used with different "
            "parameters. Use a new token for a different request."
        )
    return use.result


def check_visible(strict: Strictness, arn: str, created_ms: int, reads: int, now: int) -> None:
    """ResourceNotFound while a just-started execution is inside its not-found window."""
    if reads < strict.not_found_reads or now < created_ms + strict.not_found_seconds * 1000:
        raise not_found(f"Pipeline execution '{arn}' does not exist.")
