"""Reading untrusted input, bounded: the JSON payload on stdin, and files named by params.

Everything the resource reads from the user goes through here, so that the limits are in one place:

- JSON (the payload, a ``parameters_file``) is at most :data:`MAX_JSON_BYTES`, nested at most
  :data:`MAX_DEPTH` deep, with integers of at most :data:`MAX_INT_DIGITS` digits and finite numbers only
  (no ``NaN``, ``Infinity`` or ``1e400``, which Python's parser would otherwise accept), and no string in it
  holds a NUL or a lone surrogate (neither can be sent to AWS or written to a log). Without these bounds
  ``json.loads`` raises ValueError for a 5,000-digit integer, RecursionError for deep nesting, and
  returns ``nan`` for a template that rendered a missing value.
- A file named by a param is resolved inside the build's directory (no ``..``, absolute path or symlink
  out of it: the error would show what it read), opened without blocking (a FIFO would hang the step),
  and read only if it is a regular file of at most :data:`MAX_FILE_BYTES` of UTF-8 text.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any, TextIO

from sagemaker_pipeline_resource.errors import ResourceError, shown

MAX_JSON_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_INT_DIGITS = 64
MAX_FILE_BYTES = 1024 * 1024

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_UNSENDABLE = re.compile("[\x00\ud800-\udfff]")


def _too_deep(text: str) -> bool:
    """Whether the brackets of a JSON text nest deeper than :data:`MAX_DEPTH` (strings skipped), unparsed."""
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _NumberError(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NumberError(f"the number {shown(text, 40)}, too large to represent")
    return value


def _parse_constant(name: str) -> float:
    raise _NumberError(f"{name}, which is not a number JSON allows")


class _NumberError(Exception):
    """A number the hooks refuse (raised through ``json.loads``, turned into a ResourceError by :func:`loads`)."""


def _check_strings(value: object, where: str, start: str) -> None:
    """Refuse NUL and lone surrogates in any string (key or value), naming where it is (``source.KEY``)."""
    pending: list[tuple[object, str]] = [(value, start)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if _UNSENDABLE.search(key):
                    raise ResourceError(
                        f"{shown(path or where, 120)[1:-1]} has a key with a NUL character or a lone surrogate "
                        f"(\\u escape): {shown(key)}.",
                        "Remove it: such text cannot be sent to AWS.",
                    )
                pending.append((child, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            pending.extend((child, f"{path or where}[{index}]") for index, child in enumerate(item))
        elif isinstance(item, str) and _UNSENDABLE.search(item):
            raise ResourceError(
                f"{shown(path or where, 120)[1:-1]} contains a NUL character or a lone surrogate (\\u escape).",
                "Remove it: such text cannot be sent to AWS or used as a path.",
            )


def loads(text: str, where: str, hint: str, *, keys_from: str | None = None) -> Any:
    """Parse JSON from an untrusted source within the bounds above; ``where`` names it in errors, and
    ``keys_from`` (default: ``where``) starts the path of a value in it (``""``: ``source.region``)."""
    if len(text) > MAX_JSON_BYTES:
        raise ResourceError(f"{where} is {len(text)} characters long; at most {MAX_JSON_BYTES} are read.", hint)
    if _too_deep(text):
        raise ResourceError(f"{where} nests lists and objects more than {MAX_DEPTH} deep: too deep to be read.", hint)
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as error:
        raise ResourceError(
            f"{where} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.", hint
        ) from error
    except _NumberError as error:
        raise ResourceError(f"{where} holds {error}.", "Numbers must be finite and of reasonable size.") from error
    except (ValueError, RecursionError) as error:  # belt and braces: the bounds above should prevent both
        raise ResourceError(f"{where} cannot be read as JSON ({type(error).__name__}).", hint) from error
    _check_strings(value, where, where if keys_from is None else keys_from)
    return value


def read_stdin(stdin: TextIO) -> str:
    """At most :data:`MAX_JSON_BYTES` (plus one, to notice more) of stdin, decoded as UTF-8."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:
        return stdin.read(MAX_JSON_BYTES + 1)
    data: bytes = buffer.read(MAX_JSON_BYTES + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ResourceError(
            f"stdin is not UTF-8 text: byte {error.start} cannot be decoded.",
            "Concourse sends the payload as UTF-8 JSON; check how the payload file was written.",
        ) from error


def confined(base: Path, relative: str, key: str) -> Path:
    """``relative`` resolved inside ``base`` (the build's directory); anything that leaves it is refused."""
    hint = "Give a path relative to the build's directory, starting with an input or output name."
    try:
        root = base.resolve()
        path = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError) as error:
        raise ResourceError(f"{key}: cannot resolve {shown(relative)}: {_reason(error)}.", hint) from error
    if path != root and root not in path.parents:
        raise ResourceError(
            f"{key} {shown(relative)} leads out of the build's directory (an absolute path, '..' or a "
            "symbolic link out of it).",
            hint,
        )
    return path


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return type(error).__name__


def read_text(path: Path, key: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the regular file ``path``, read without blocking; never quoted in an error."""
    hint = "Point it at a regular UTF-8 text file in an input of the put step."
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as error:
        raise ResourceError(
            f"{key}: no file at {shown(path.name)}.",
            "The path is relative to the build's directory: its first part is an input's name.",
        ) from error
    except OSError as error:
        raise ResourceError(f"{key}: cannot open {shown(path.name)}: {_reason(error)}.", hint) from error
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):  # checked before fdopen, which refuses a directory (IsADirectoryError)
        os.close(descriptor)
        kind = "a directory" if stat.S_ISDIR(status.st_mode) else "not a regular file"
        raise ResourceError(f"{key}: {shown(path.name)} is {kind}, not a regular file.", hint)
    with os.fdopen(descriptor, "rb") as handle:
        if status.st_size > max_bytes:
            raise ResourceError(f"{key}: {shown(path.name)} is {status.st_size} bytes; at most {max_bytes}.", hint)
        try:
            data = handle.read(max_bytes + 1)
        except OSError as error:
            raise ResourceError(f"{key}: cannot read {shown(path.name)}: {_reason(error)}.", hint) from error
    if len(data) > max_bytes:
        raise ResourceError(f"{key}: {shown(path.name)} is over {max_bytes} bytes.", hint)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ResourceError(f"{key}: {shown(path.name)} is not UTF-8 text (byte {error.start}).", hint) from error
    if "\x00" in text:
        raise ResourceError(f"{key}: {shown(path.name)} holds a NUL character: it is not a text file.", hint)
    return text


def writable_directory(path: Path, key: str) -> Path:
    """``path`` as a directory this process can write into (made if missing), checked before any AWS call."""
    hint = "Concourse gives the step an empty directory; when running by hand, pass a writable directory."
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as error:
        raise ResourceError(f"{key} {shown(str(path))} is not a directory.", hint) from error
    except OSError as error:
        raise ResourceError(f"{key} {shown(str(path))} cannot be made: {_reason(error)}.", hint) from error
    import tempfile  # noqa: PLC0415 (start-up: only in and out need it, and a check never does; see startup.py)

    try:  # a real write: os.access says yes to root even where nothing can be written (/proc, read-only mounts)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as error:
        raise ResourceError(f"{key} {shown(str(path))} cannot be written into: {_reason(error)}.", hint) from error
    return path
