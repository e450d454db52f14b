"""The README's configuration tables against the configuration dataclasses: they must not drift apart.

The README (or a page of docs/: the test reads them all) marks each table with an HTML comment
``<!-- config-table: NAME ... -->`` on the line(s) before it (``source``, ``get``, ``put``). A table has one row
per key: ``| `key` | type | default | description |``.
This test checks, for every init field of the dataclass and every row of its table:

- the same keys on both sides (a new field needs a row, a row needs a field);
- the type (``string``, ``integer``, ``number``, ``boolean``, ``list of strings``, ``map``);
- the default: ``required`` for a required key, the default in backticks for a key that has one (``10``,
  ``true``, ``[Failed, Stopped]``), free words when the default is null (what happens when it is unset);
- the range: a field declared with ``bounded``/``sized`` (resource/fields.py) says ``Range: 1 to 1000.`` or
  ``Length: up to 82 characters.`` in its description, in the words of ``Bounds.describe``; a field without
  bounds says neither;

and, for every declared bound, that the configuration really accepts its ends and refuses just outside them
(the validation reads the same metadata). These tests import the package: they check documentation and
declarations, not the built ``.pyz``.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any

import pytest

from sagemaker_pipeline_resource.config.fields import Bounds
from sagemaker_pipeline_resource.config.params import GetParams, PutParams, SourceConfig
from sagemaker_pipeline_resource.errors import ResourceError
from tests import docs_text

TABLES: dict[str, type] = {"source": SourceConfig, "get": GetParams, "put": PutParams}
ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn"
# What a field needs besides itself to be valid (so that a bound is tested alone).
BASE: dict[str, dict[str, object]] = {"source": {"pipeline": ARN}, "get": {}, "put": {}}
NEEDS: dict[str, dict[str, object]] = {
    "role_duration": {"role_arn": "arn:aws:iam::123456789012:role/ci"},
    "role_session_name": {"role_arn": "arn:aws:iam::123456789012:role/ci"},
    "external_id": {"role_arn": "arn:aws:iam::123456789012:role/ci"},
    "session_token": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "example"},
    # wait-only params are refused without wait
    "poll_interval": {"wait": True},
    "timeout": {"wait": True},
    "outage_budget": {"wait": True},
    # deploy params go with a definition file and the pipeline's role
    "pipeline_description": {"definition_file": "p.json", "pipeline_role_arn": "arn:aws:iam::123456789012:role/p"},
    "pipeline_display_name": {"definition_file": "p.json", "pipeline_role_arn": "arn:aws:iam::123456789012:role/p"},
}
BOUND_MARK = re.compile(r"\b(Range|Length): ")


@dataclasses.dataclass(frozen=True)
class Row:
    type: str
    default: str
    description: str


def table(name: str) -> dict[str, Row]:
    """The rows of the README table marked ``<!-- config-table: NAME``, by key."""
    lines = docs_text.text().splitlines()
    marks = [number for number, line in enumerate(lines) if line.startswith(f"<!-- config-table: {name}.")]
    assert len(marks) == 1, (
        f"README.md and docs/ need exactly one '<!-- config-table: {name}.' comment before its table"
    )
    number = marks[0]
    while "-->" not in lines[number]:
        number += 1
    while not lines[number].startswith("|"):
        number += 1
    rows: dict[str, Row] = {}
    for line in lines[number + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
        assert len(cells) == 4, f"README {name} table: expected | key | type | default | description |: {line}"
        key = re.fullmatch(r"`(\w+)`", cells[0])
        assert key, f"README {name} table: the key must be one `name` per row: {line}"
        assert key[1] not in rows, f"README {name} table: {key[1]} has two rows"
        rows[key[1]] = Row(*cells[1:])
    return rows


def init_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {field.name: field for field in dataclasses.fields(cls) if field.init}


def type_label(annotation: Any) -> str:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return "list of strings"
    if origin is dict:
        return "map"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}[annotation]


def render(value: object) -> str:
    """A default as the README writes it, in YAML's words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {item}" for key, item in value.items()) + "}"
    return str(value)


def default_of(field: dataclasses.Field[Any]) -> object:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


@pytest.mark.parametrize("name", TABLES)
def test_every_key_has_a_row_and_every_row_a_key(name: str) -> None:
    fields, rows = set(init_fields(TABLES[name])), set(table(name))
    assert not fields - rows, f"keys of {TABLES[name].__name__} missing from the README's {name} table"
    assert not rows - fields, f"README {name} table rows that are not keys of {TABLES[name].__name__}"


@pytest.mark.parametrize("name", TABLES)
def test_types_defaults_and_ranges_match(name: str) -> None:
    cls = TABLES[name]
    hints = typing.get_type_hints(cls)
    rows = table(name)
    for key, field in init_fields(cls).items():
        row = rows[key]
        assert row.type == type_label(hints[key]), f"{name}.{key}: README says type {row.type!r}"
        default = default_of(field)
        if default is dataclasses.MISSING:
            assert row.default == "required", f"{name}.{key} is required: its Default must say 'required'"
        elif default is not None:
            assert row.default == f"`{render(default)}`", f"{name}.{key}: README default {row.default!r}"
        else:
            assert row.default != "required", f"{name}.{key} is optional, the README says required"
        bounds: Bounds | None = field.metadata.get("bounds")
        marks = BOUND_MARK.findall(row.description)
        if bounds is None:
            assert not marks, f"{name}.{key}: README documents a {marks} the code does not declare"
            continue
        unit = " characters" if bounds.label == "Length" else ""
        expected = f"{bounds.label}: {bounds.describe()}{unit}"
        assert marks == [bounds.label], f"{name}.{key}: README must say {expected!r} once"
        assert re.search(re.escape(expected) + r"(?!\d|\.\d)", row.description), (
            f"{name}.{key}: README says {row.description!r}, the code declares {expected!r}"
        )


def bounded_fields() -> list[tuple[str, str, Bounds, Any]]:
    found = []
    for name, cls in TABLES.items():
        hints = typing.get_type_hints(cls)
        for key, field in init_fields(cls).items():
            if "bounds" in field.metadata and not field.metadata.get("checked_later"):
                found.append((name, key, field.metadata["bounds"], hints[key]))
    return found


@pytest.mark.parametrize(("name", "key", "bounds", "annotation"), bounded_fields(), ids=str)
def test_declared_bounds_are_enforced(name: str, key: str, bounds: Bounds, annotation: Any) -> None:
    """Each end of a declared range is accepted, and the first value past it refused, naming the key."""
    cls = TABLES[name]
    kind = type_label(annotation)
    step = 1 if kind in ("integer", "string") else 0.01

    def make(value: float) -> object:
        if kind == "string":
            value = "x" * int(value)
        if kind == "integer":
            value = int(value)
        return cls.from_json({**BASE[name], **NEEDS.get(key, {}), key: value})  # type: ignore[attr-defined]

    ends = [bounds.low] + ([bounds.high] if bounds.high is not None else [])
    for end in ends:
        make(end)
    outside = [bounds.low - step] + ([bounds.high + step] if bounds.high is not None else [])
    for value in outside:
        if kind == "string" and value < 0:
            continue
        with pytest.raises(ResourceError, match=rf"{name if name == 'source' else 'params'}\.{key} must be"):
            make(value)
