"""Turning a JSON object from Concourse into a typed dataclass, with errors a pipeline author can act on.

Concourse hands the resource plain JSON (``source`` and ``params``). Passing it to ``__init__(**source)``,
as concoursetools does by default, turns a typo into ``TypeError: unexpected keyword argument`` and a wrong
type into a crash deep inside boto3. Instead, each configuration is a dataclass whose fields say their type
(``str``, ``bool``, ``int``, ``float``, ``tuple[str, ...]`` for a JSON list, ``dict[str, str]``, each
optionally ``| None``), and
:func:`from_json` checks every key against it: unknown keys (with a "did you mean"), missing keys and wrong
types all become a :class:`ResourceError` naming ``source.KEY`` or ``params.KEY``. Fields marked
``secret`` never have their value shown.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Any, TypeVar

from sagemaker_pipeline_resource.errors import ResourceError

T = TypeVar("T")


def secret(default: Any = None) -> Any:
    """A field whose value is never shown in an error, a log line or an output."""
    return dataclasses.field(default=default, metadata={"secret": True}, repr=False)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin in (list, tuple):
        return "a list of strings"
    if origin is dict:
        return "a mapping of strings to strings"
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
        shown = "" if is_secret or isinstance(value, dict | list) else f" ({value!r})"
        raise ResourceError(f"{key} must be {_type_name(annotation)}, but it is {_json_name(value)}{shown}.")
    return value


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
    known = sorted(fields)
    values: dict[str, object] = {}
    for key, value in raw.items():
        name = (aliases or {}).get(key, key)
        if name not in fields or not fields[name].init:
            close = difflib.get_close_matches(str(key), known, n=1)
            suggestion = f" Did you mean '{close[0]}'?" if close else ""
            raise ResourceError(
                f"{where} has an unknown key '{key}'.{suggestion}",
                f"Valid keys are: {', '.join(name for name in known if fields[name].init)}.",
            )
        field = fields[name]
        values[name] = _convert(value, hints[name], f"{where}.{key}", bool(field.metadata.get("secret")))
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
