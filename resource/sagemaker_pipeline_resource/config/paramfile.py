"""Reading ``parameters_file``: pipeline parameters from a JSON or YAML file in a put's inputs.

Pipeline parameters are a flat mapping of names to strings, so YAML support is the flat subset that such a
file needs (``name: value`` lines, comments, quoted or plain scalars). A full YAML parser would be a third
runtime dependency for one feature; anything nested is rejected with a message that says so. What is read
is read as YAML reads it: ``Name: "x"  # note`` is ``x``, and ``Name: ~`` (or ``null``, or nothing after the
colon) is null, which is refused as a JSON null is (AWS takes no null values). Names and values are checked
here, where the line (YAML) or the key's position (JSON) is known: an error says where, never what the file
holds (a name may be a secret pasted into the wrong file).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sagemaker_pipeline_resource import inputs
from sagemaker_pipeline_resource.errors import ResourceError

# A pipeline parameter's name, as AWS takes it (put checks the names of params.parameters with it too).
PARAMETER_NAME = re.compile(r"[A-Za-z0-9\-_]{1,256}")
_LINE = re.compile(r"(?P<key>[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*:(?:\s+(?P<value>.*))?")


_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_SINGLE_QUOTED = re.compile(r"'(?:[^']|'')*'")
_AFTER_QUOTE = re.compile(r"(?:\s+#.*)?")
# YAML 1.2's null: `~`, `null` in three spellings, or nothing at all after the colon.
_NULLS = ("", "~", "null", "Null", "NULL")


def _scalar(text: str, where: str) -> str | None:
    """One value as YAML reads it: a quoted string, a plain one (up to a `` #`` comment), or None for null."""
    text = text.strip()
    if text[:1] in ('"', "'"):
        quoted = (_DOUBLE_QUOTED if text[0] == '"' else _SINGLE_QUOTED).match(text)
        if quoted is None:
            raise ResourceError(f"{where}: a quoted value is not closed.")
        if not _AFTER_QUOTE.fullmatch(text[quoted.end() :]):
            raise ResourceError(
                f"{where}: unexpected text after the quoted value.",
                'Only a comment may follow a quoted value, after a space: Name: "value"  # comment.',
            )
        body = quoted.group()
        if body[0] == "'":
            return body[1:-1].replace("''", "'")
        try:
            return str(json.loads(body))
        except ValueError as error:
            raise ResourceError(f"{where}: a quoted value is not a valid (JSON) string: {error}.") from error
    if text[:1] and text[0] in "[{&*!|>%@`":
        raise ResourceError(
            f"{where}: nested values, anchors, tags and block scalars are not supported in parameters files.",
            "Pipeline parameters are flat strings: write name: value per line (or use JSON).",
        )
    text = re.sub(r"(?:^|\s+)#.*$", "", text)
    return None if text in _NULLS else text


def parse_yaml_mapping(text: str, where: str) -> dict[str, object]:
    """Parse a flat ``name: value`` YAML mapping."""
    result: dict[str, object] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "..."):
            continue
        if line[0].isspace() or line.lstrip().startswith("- "):
            raise ResourceError(
                f"{where}, line {number}: nested YAML is not supported in parameters files.",
                "Pipeline parameters are flat strings: write name: value per line (or use JSON).",
            )
        match = _LINE.fullmatch(line)
        if not match:
            # The line is not quoted back: the file may not be what the author meant to point at (a secret).
            raise ResourceError(
                f"{where}, line {number}: expected 'name: value'.",
                "Names are letters, digits, '-' and '_' (or quoted), followed by ': ' and the value.",
            )
        key = match["key"].strip("\"'")
        result[key] = _checked(key, _scalar(match["value"] or "", f"{where}, line {number}"), f"{where}, line {number}")
    return result


def _checked(name: str, value: object, where: str) -> object:
    """``value`` if ``name`` and it can be pipeline parameters; else an error that says where, never what."""
    if not PARAMETER_NAME.fullmatch(name):
        raise ResourceError(
            f"{where}: the name is not a valid pipeline parameter name (not shown: an error never quotes a file).",
            "Names are 1 to 256 letters, digits, '-' or '_', as declared in the pipeline definition.",
        )
    if value is None:
        raise ResourceError(
            f"{where}: the value is null (JSON null; in YAML ~, null or nothing after the colon).",
            "Give it a value ('' for an empty string), or leave it out to use the pipeline's default.",
        )
    if isinstance(value, dict | list):
        raise ResourceError(
            f"{where}: the value is {'an object' if isinstance(value, dict) else 'a list'}, not a string, number "
            "or boolean.",
            "Pipeline parameters are strings: encode structured values as JSON text.",
        )
    return value


def load(sources: Path, relative: str, where: str = "params.parameters_file") -> dict[str, object]:
    """Load a parameters file inside the build's directory ``sources`` (a JSON object, or flat YAML for
    .yml/.yaml or anything that is not JSON). Errors say what is wrong, never what the file holds."""
    path = inputs.confined(sources, relative, where)
    text = inputs.read_text(path, where)
    label = f"{where} ({path.name[:80]})"
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        data = inputs.loads(text, label, "The file must hold one JSON object of parameter names to values.")
        if not isinstance(data, dict):
            raise ResourceError(f"{label} must hold a JSON object of parameter names to values.")
        return {name: _checked(name, value, f"{label}, key {n}") for n, (name, value) in enumerate(data.items(), 1)}
    return parse_yaml_mapping(text, label)
