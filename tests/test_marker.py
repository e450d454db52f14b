"""The marker a put appends to its execution's description (resource/marker.py)."""

import datetime as dt

from sagemaker_pipeline_resource.config.params import SourceConfig
from sagemaker_pipeline_resource.versions.marker import (
    MAX_DESCRIPTION,
    Marker,
    attach,
    parse,
    request_of,
    scope_of,
    strip,
)

START = dt.datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=dt.timezone.utc)
PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"


def test_a_marker_round_trips_after_the_users_text() -> None:
    marker = Marker("1a2b3c4d", True, (START, "abc123"))
    text = attach("Nightly run", marker)
    assert text == f"Nightly run {marker.render()}" and "\n" not in text  # AWS: no line break in a description
    assert parse(text) == marker and strip(text) == "Nightly run"
    assert parse(attach(None, Marker("1a2b3c4d", False))) == Marker("1a2b3c4d", False)
    with_request = Marker("1a2b3c4d", True, (START, "abc123"), request_of("x" * 64))
    assert parse(attach("run", with_request)) == with_request and len(with_request.request or "") == 8


def test_a_new_marker_replaces_the_old_one() -> None:
    waiting = attach("Nightly run", Marker("1a2b3c4d", False))
    saved = attach(waiting, Marker("1a2b3c4d", True, (START, "abc")))
    assert strip(saved) == "Nightly run" and parse(saved) == Marker("1a2b3c4d", True, (START, "abc"))


def test_a_long_description_is_shortened_to_fit_with_the_marker() -> None:
    text = attach("x" * MAX_DESCRIPTION, Marker("1a2b3c4d", True, (START, "a" * 40)))
    assert len(text) == MAX_DESCRIPTION and strip(text).endswith("…") and parse(text) is not None


def test_text_that_is_not_a_marker_is_left_alone() -> None:
    for text in (None, "", "plain", "[concourse sagemaker-pipeline-resource: scope=zz saved]", "x [other: thing]"):
        assert parse(text) is None
    assert strip("plain [not ours]") == "plain [not ours]"


def test_scope_depends_on_the_source_but_not_on_secrets() -> None:
    base = SourceConfig(pipeline=PIPELINE, access_key_id="AKIAEXAMPLE", secret_access_key="one")
    assert scope_of(base) == scope_of(
        SourceConfig(pipeline=PIPELINE, access_key_id="AKIAEXAMPLE", secret_access_key="two")
    )
    assert scope_of(base) != scope_of(SourceConfig(pipeline=PIPELINE, statuses=("Succeeded",)))
