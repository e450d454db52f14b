"""Turning a JSON object from Concourse into a typed dataclass, with errors a pipeline author can act on.

Concourse hands the resource plain JSON (``source`` and ``params``). Passing it to ``__init__(**source)``,
as concoursetools does by default, turns a typo into ``TypeError: unexpected keyword argument`` and a wrong
type into a crash deep inside boto3. Instead, each configuration is a dataclass whose fields say their type
(``str``, ``bool``, ``int``, ``float``, ``tuple[str, ...]`` for a JSON list, ``dict[str, str]``, each
optionally ``| None``), and
:func:`from_json` checks every key against it: unknown keys (with a "did you mean"), missing keys and wrong
types all become a :class:`ResourceError` naming ``source.KEY`` or ``params.KEY``. Fields marked
``secret`` never have their value shown.

Ranges are data, not literals scattered through validation code: a field declared with :func:`bounded` (a
number's range) or :func:`sized` (a string's length) carries its :class:`Bounds` in its metadata;
:func:`check_bounds` enforces them, and the README's tables are tested against them
(``tests/test_readme.py``), so that the page and the code cannot drift apart.

Every value is also checked, as it is read, by rules that hold for all fields (:func:`check_value`):
numbers are finite; strings are never empty (leave the key out for the default), at most :data:`MAX_TEXT`
characters unless their bounds say otherwise, and hold no control characters (newlines and tabs are fine
in a ``multiline`` field). A field declared with :func:`text` (or :func:`secret`) may add a ``pattern`` it
must match in full, with its ``form`` in words for the message and the README.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from sagemaker_pipeline_resource.errors import ResourceError, shown

T = TypeVar("T")

MAX_TEXT = 2048
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Bounds:
    """The documented limits of a field: a number's range (``Range``) or a string's length (``Length``)."""

    low: float
    high: float | None = None
    label: str = "Range"

    def describe(self) -> str:
        """``1 to 1000``, ``at least 1`` or ``up to 82``: the words used in messages and in the README."""
        if self.high is None:
            return f"at least {_number(self.low)}"
        if self.label == "Length" and self.low <= 1:
            return f"up to {_number(self.high)}"
        return f"{_number(self.low)} to {_number(self.high)}"

    def contains(self, value: float) -> bool:
        return value >= self.low and (self.high is None or value <= self.high)


def _number(value: float) -> str:
    """A bound as a person writes it: ``1``, ``0.1``, ``2419200`` (not ``2.4192e+06``)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def bounded(default: Any, low: float, high: float | None = None) -> Any:
    """A number field whose value must lie between ``low`` and ``high`` (inclusive; no upper bound if None)."""
    return dataclasses.field(default=default, metadata={"bounds": Bounds(low, high)})


def sized(low: int, high: int, *, checked_later: bool = False, hint: str = "") -> Any:
    """An optional string field of ``low`` to ``high`` characters.

    ``checked_later`` is for strings that are templated with the build's metadata first (``display_name``):
    their length is only known after templating, so :func:`check_bounds` leaves them to the caller.
    """
    return dataclasses.field(
        default=None, metadata={"bounds": Bounds(low, high, "Length"), "checked_later": checked_later, "hint": hint}
    )


def bounds_of(cls: type, name: str) -> Bounds:
    """The :class:`Bounds` declared for the field ``name`` of the dataclass ``cls``."""
    field = {field.name: field for field in dataclasses.fields(cls)}[name]
    bounds: Bounds = field.metadata["bounds"]
    return bounds


def check_length(value: str, key: str, bounds: Bounds, hint: str = "") -> None:
    if not bounds.contains(len(value)):
        raise ResourceError(f"{key} must be {bounds.describe()} characters, but it has {len(value)}.", hint)


def check_bounds(config: object, where: str) -> None:
    """Enforce every field's declared :class:`Bounds` on the dataclass instance ``config``."""
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        bounds: Bounds | None = field.metadata.get("bounds")
        value = getattr(config, field.name)
        if bounds is None or value is None or field.metadata.get("checked_later"):
            continue
        key = f"{where}.{field.name}"
        if isinstance(value, str):
            check_length(value, key, bounds, field.metadata.get("hint", ""))
        elif not bounds.contains(value):
            if bounds.high is None:
                raise ResourceError(f"{key} must be at least {_number(bounds.low)}, but it is {shown(value)}.")
            raise ResourceError(
                f"{key} must be between {_number(bounds.low)} and {_number(bounds.high)}, but it is {shown(value)}."
            )


def secret(default: Any = None, **rules: Any) -> Any:
    """A field whose value is never shown in an error, a log line or an output."""
    return text(default, secret=True, **rules)


def text(
    default: Any = None,
    *,
    pattern: str | None = None,
    form: str | None = None,
    length: tuple[int, int] | None = None,
    max_length: int = MAX_TEXT,
    multiline: bool = False,
    secret: bool = False,
) -> Any:
    """A string field with its rules: a ``pattern`` (``form`` says it in words), a ``length`` range (low, high)
    declared as :class:`Bounds` (the README says it as ``Length: ...``), or only a ``max_length`` cap."""
    metadata: dict[str, object] = {"multiline": multiline, "max_length": max_length}
    if pattern is not None:
        metadata.update(pattern=pattern, form=form or f"the pattern {pattern}")
    if length is not None:
        metadata["bounds"] = Bounds(length[0], length[1], "Length")
    if secret:
        metadata["secret"] = True
    return dataclasses.field(default=default, metadata=metadata, repr=not secret)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin in (list, tuple):
        return "a list of strings"
    if origin is dict:
        # dict[str, object] (parameters, selective_execution) holds more than strings: say no more than is true.
        value_type = typing.get_args(annotation)[1:] or (object,)
        return "a mapping of strings to strings" if value_type[0] is str else "a mapping of names to values"
    return {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}.get(
        annotation, str(annotation)
    )


def _json_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _convert(value: object, annotation: Any, key: str, is_secret: bool) -> object:
    """Check ``value`` against ``annotation`` and return it (ints are accepted where floats are)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], key, is_secret)
    ok: bool
    if annotation is bool:
        ok = isinstance(value, bool)
    elif annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            return float(value)  # type: ignore[arg-type]
    elif annotation is str:
        ok = isinstance(value, str)
    elif origin in (list, tuple):
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        if ok:
            return tuple(value)  # type: ignore[arg-type]
    elif origin is dict:
        ok = isinstance(value, dict)
        if ok:
            return dict(value)  # type: ignore[call-overload]
    else:  # pragma: no cover - a field type this module does not know is a programming error
        raise TypeError(f"unsupported field type {annotation!r} for {key}")
    if not ok:
        echo = "" if is_secret or isinstance(value, dict | list) else f" ({shown(value)})"
        raise ResourceError(f"{key} must be {_type_name(annotation)}, but it is {_json_name(value)}{echo}.")
    return value


def check_value(value: object, key: str, metadata: typing.Mapping[str, Any]) -> None:
    """The rules every value obeys as it is read (finite numbers; strings: see :func:`check_text`)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ResourceError(f"{key} must be a finite number, but it is {shown(value)}.")
    if isinstance(value, str):
        check_text(value, key, metadata)
    elif isinstance(value, tuple):
        for item in value:
            check_text(item, f"{key} item", {})


def check_text(value: str, key: str, metadata: typing.Mapping[str, Any]) -> None:
    """Not empty, not over :data:`MAX_TEXT` (unless bounds say), no control characters, the ``pattern``."""
    echo = "" if metadata.get("secret") else f": {shown(value)}"
    if not value.strip():
        raise ResourceError(
            f"{key} must be non-empty, but it is blank.", "Leave the key out for its default, or give a value."
        )
    limit = int(metadata.get("max_length", MAX_TEXT))
    if "bounds" not in metadata and len(value) > limit:
        raise ResourceError(f"{key} is {len(value)} characters long; at most {limit} are allowed.")
    control = _CONTROL_BUT_LINES if metadata.get("multiline") else _CONTROL
    if control.search(value):
        raise ResourceError(f"{key} contains a control character (a newline, tab, escape...){echo}.")
    pattern = metadata.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ResourceError(f"{key} must be {metadata.get('form')}, but it is not{echo}.")


def from_json(cls: type[T], raw: object, where: str, aliases: dict[str, str] | None = None) -> T:
    """Build the dataclass ``cls`` from the JSON object ``raw`` found at ``where`` (``source`` or ``params``)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ResourceError(
            f"{where} must be a JSON object (a mapping of keys to values), but it is {_json_name(raw)}."
        )
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    # Only the keys a user can write: internal fields (init=False, such as SourceConfig.pipeline_arn) are
    # neither accepted nor suggested.
    known = sorted(name for name, field in fields.items() if field.init)
    values: dict[str, object] = {}
    for key, value in raw.items():
        name = (aliases or {}).get(key, key)
        if name not in fields or not fields[name].init:
            import difflib  # noqa: PLC0415 (start-up: only a mistake needs it; see startup.py)

            close = difflib.get_close_matches(str(key), known, n=1)
            suggestion = f" Did you mean '{close[0]}'?" if close else ""
            raise ResourceError(
                f"{where} has an unknown key {shown(key)}.{suggestion}",
                f"Valid keys are: {', '.join(known)}.",
            )
        field = fields[name]
        converted = _convert(value, hints[name], f"{where}.{key}", bool(field.metadata.get("secret")))
        check_value(converted, f"{where}.{key}", field.metadata)
        values[name] = converted
    for name, field in fields.items():
        required = field.init and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        if required and name not in values:
            raise ResourceError(f"{where}.{name} is required but missing.")
    return cls(**values)


def secrets_of(config: object) -> list[str]:
    """The values of every ``secret`` field of a dataclass instance (to redact them from all output)."""
    found: list[str] = []
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, field.name)
        if field.metadata.get("secret") and isinstance(value, str) and value:
            found.append(value)
    return found
