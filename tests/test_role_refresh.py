"""Role sessions refresh ahead of expiry, a handful of times an hour, even at role_duration: 900.

botocore refreshes credentials when fewer than 15 minutes remain, so a 15-minute session (900 s, the
least AWS allows) would be assumed again before every call. ``RoleCredentials`` scales the refresh windows
to the session. Measured here with botocore's own refresh logic on a fake clock (an hour of waiting is
simulated), and through the .pyz against the emulator's STS (a real wait of many polls).
"""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.credentials import DeferredRefreshableCredentials, RefreshableCredentials

from sagemaker_pipeline_resource.aws import session as aws
from sagemaker_pipeline_resource.aws.session import RoleCredentials, refresh_windows

T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
ROLE = "arn:aws:iam::123456789012:role/concourse-deployer"


def assume_role_calls_per_hour(duration: int, credentials_class=RoleCredentials) -> int:
    """An hour of a wait polling every 30 s, 3 signed calls a poll: how many times is the role assumed?"""
    now = [T0]
    calls = 0

    def fetch() -> dict[str, str]:
        nonlocal calls
        calls += 1
        expiry = now[0] + dt.timedelta(seconds=duration)
        return {"access_key": "AKIA", "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}

    if credentials_class is RoleCredentials:
        credentials = RoleCredentials(fetch, duration, time_fetcher=lambda: now[0])
    else:
        credentials = credentials_class(refresh_using=fetch, method="assume-role", time_fetcher=lambda: now[0])
    for second in range(0, 3600, 30):
        now[0] = T0 + dt.timedelta(seconds=second)
        for _ in range(3):
            credentials.get_frozen_credentials()
    return calls


@pytest.mark.parametrize(("duration", "most"), [(900, 7), (3600, 2), (43200, 1)])
def test_assume_role_calls_per_hour_of_waiting(duration, most, record_property):
    calls = assume_role_calls_per_hour(duration)
    record_property(f"assume_role_per_hour_{duration}", calls)
    print(f"role_duration {duration}: {calls} AssumeRole calls in an hour of polling")
    assert 1 <= calls <= most


def test_without_the_scaled_windows_a_short_session_storms():
    """The problem this solves, measured the same way: botocore's own windows at 900 s."""
    # once per poll even on a frozen clock (every call, with real time passing): 120 in the hour
    assert assume_role_calls_per_hour(900, DeferredRefreshableCredentials) == 120


def test_windows():
    assert refresh_windows(900) == (300, 150)
    assert refresh_windows(3600) == (900, 600)
    assert refresh_windows(43200) == (900, 600)


def test_the_botocore_internals_relied_on_are_still_there():
    """RoleCredentials sets RefreshableCredentials' private refresh windows: if the locked botocore renames
    them or changes its defaults, this fails loudly (and the per-hour counts above would silently drift)."""
    assert RefreshableCredentials._advisory_refresh_timeout == aws.BOTOCORE_ADVISORY_REFRESH == 15 * 60
    assert RefreshableCredentials._mandatory_refresh_timeout == aws.BOTOCORE_MANDATORY_REFRESH == 10 * 60
    credentials = RoleCredentials(dict, 900)
    assert (credentials._advisory_refresh_timeout, credentials._mandatory_refresh_timeout) == (300, 150)
    assert credentials.refresh_needed(), "deferred: nothing is fetched before the first call"


def test_a_wait_of_many_polls_assumes_the_role_once(run, emulator, sts_source):
    # Five polls, a second apart, are enough: botocore's own windows would assume the role again at every one.
    emulator.set_lifecycle(finish_after_polls=5, final_status="Succeeded")
    emulator.clear_requests()
    source = {**sts_source, "role_arn": ROLE, "role_duration": 900}
    result = run("out", {"source": source, "params": {"wait": True, "poll_interval": 1}})
    assert result.returncode == 0, result.stderr
    counts = emulator.request_counts()
    assert counts["DescribePipelineExecution"] >= 5
    assert counts.get("AssumeRole") == 1, counts
