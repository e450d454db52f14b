"""Reading ``parameters_file``: pipeline parameters from a JSON or YAML file in a put's inputs.

Pipeline parameters are a flat mapping of names to strings, so YAML support is the flat subset that such a
file needs (``name: value`` lines, comments, quoted or plain scalars). A full YAML parser would be a third
runtime dependency for one feature; anything nested is rejected with a message that says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sagemaker_pipeline_resource.errors import ResourceError

_LINE = re.compile(r"(?P<key>[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*:(?:\s+(?P<value>.*))?")


def _scalar(text: str, where: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError as error:
            raise ResourceError(f"{where}: cannot read the quoted value {text}: {error}.") from error
        return str(value)
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise ResourceError(f"{where}: the quoted value {text} is not closed.")
        return text[1:-1].replace("''", "'")
    if text[0] in "[{&*!|>":
        raise ResourceError(
            f"{where}: nested values, anchors and block scalars are not supported in parameters files.",
            "Pipeline parameters are flat strings: write name: value per line (or use JSON).",
        )
    return re.sub(r"\s+#.*$", "", text)


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
            raise ResourceError(f"{where}, line {number}: expected 'name: value', got {line[:80]!r}.")
        key = match["key"].strip("\"'")
        result[key] = _scalar(match["value"] or "", f"{where}, line {number}")
    return result


def load(path: Path, where: str = "params.parameters_file") -> dict[str, object]:
    """Load a parameters file (JSON object, or flat YAML for .yml/.yaml or anything that is not JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ResourceError(
            f"{where}: no file at {path}.", "The path is relative to the build's directory: inputs/outputs first."
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ResourceError(f"{where}: cannot read {path}: {error}.") from error
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ResourceError(f"{where}: {path} is not valid JSON: {error}.") from error
        if not isinstance(data, dict):
            raise ResourceError(f"{where}: {path} must hold a JSON object of parameter names to values.")
        return data
    return parse_yaml_mapping(text, f"{where} ({path.name})")
