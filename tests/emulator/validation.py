"""Request validation driven by botocore's own SageMaker service model.

AWS validates every request against the published model (lengths, ranges, enums, regular expressions)
before the service code runs and answers violations with a ``ValidationException`` whose message lists
them in a fixed style ("1 validation error detected: Value 'x' at 'maxResults' failed to satisfy
constraint: Member must have value less than or equal to 100"). Stock moto checks none of this, so a
resource that sends ``MaxResults=500`` or an over-long display name passes against moto and fails in
production. botocore's client-side validation only covers required members, types and minimums, so the
maximums and patterns must be enforced server-side. Reading the constraints from the installed service
model keeps them exactly in step with the SDK instead of copying numbers by hand.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape

from tests.emulator.errors import validation_error

# Patterns are matched whole (as AWS's Java validators do); very long values are only length-checked,
# which keeps a 1 MB pipeline definition from being run through a backtracking regular expression.
_MAX_PATTERN_CHECK = 4096


@functools.lru_cache(maxsize=1)
def sagemaker_model() -> ServiceModel:
    """The SageMaker service model shipped with the installed botocore (loaded once: it is large)."""
    return botocore.session.get_session().get_service_model("sagemaker")


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # Java-only syntax such as \p{L}: not checkable here, so not checked.
        return None


def _wire_name(member: str) -> str:
    """AWS reports member paths in lowerCamelCase ("PipelineExecutionArn" -> "pipelineExecutionArn")."""
    return member[:1].lower() + member[1:]


class RequestValidator:
    """Checks a decoded JSON request against an operation's input shape, AWS style."""

    def __init__(self, model: ServiceModel | None = None) -> None:
        self._model = model or sagemaker_model()

    def operation(self, name: str) -> OperationModel:
        return self._model.operation_model(name)

    def validate(self, operation: str, params: dict[str, Any], *, required: tuple[str, ...] = ()) -> None:
        """Raise ``ValidationException`` listing every violated constraint, as AWS does.

        ``required`` adds members the service needs although the model marks them optional
        (ListPipelineExecutionSteps' PipelineExecutionArn, for one).
        """
        shape = self.operation(operation).input_shape
        errors: list[str] = []
        if shape is not None:
            self._structure(shape, params, "", errors)
        for member in required:
            if params.get(member) is None and not any(f"'{_wire_name(member)}'" in e for e in errors):
                errors.append(
                    f"Value null at '{_wire_name(member)}' failed to satisfy constraint: Member must not be null"
                )
        if errors:
            noun = "error" if len(errors) == 1 else "errors"
            raise validation_error(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))

    def _structure(self, shape: StructureShape, value: Any, prefix: str, errors: list[str]) -> None:
        if not isinstance(value, dict):
            return
        for name in shape.required_members:
            if value.get(name) is None:
                path = prefix + _wire_name(name)
                errors.append(f"Value null at '{path}' failed to satisfy constraint: Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                self._value(member, value[name], prefix + _wire_name(name), errors)

    def _value(self, shape: Shape, value: Any, path: str, errors: list[str]) -> None:
        meta = shape.metadata
        if isinstance(shape, StructureShape):
            self._structure(shape, value, f"{path}.", errors)
        elif isinstance(shape, ListShape):
            if isinstance(value, list):
                self._length(len(value), meta, value, path, errors)
                for index, item in enumerate(value, start=1):
                    self._value(shape.member, item, f"{path}.{index}.member", errors)
        elif shape.type_name == "string" and isinstance(value, str):
            self._string(value, meta, path, errors)
        elif shape.type_name in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
            if "min" in meta and value < meta["min"]:
                errors.append(self._fail(value, path, f"Member must have value greater than or equal to {meta['min']}"))
            if "max" in meta and value > meta["max"]:
                errors.append(self._fail(value, path, f"Member must have value less than or equal to {meta['max']}"))

    def _string(self, value: str, meta: dict[str, Any], path: str, errors: list[str]) -> None:
        enum = meta.get("enum")
        if enum and value not in enum:
            errors.append(self._fail(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]"))
            return
        self._length(len(value), meta, value, path, errors)
        pattern = meta.get("pattern")
        if pattern and len(value) <= _MAX_PATTERN_CHECK:
            compiled = _compiled(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                errors.append(self._fail(value, path, f"Member must satisfy regular expression pattern: {pattern}"))

    def _length(self, length: int, meta: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
        if "min" in meta and length < meta["min"]:
            errors.append(self._fail(value, path, f"Member must have length greater than or equal to {meta['min']}"))
        if "max" in meta and length > meta["max"]:
            errors.append(self._fail(value, path, f"Member must have length less than or equal to {meta['max']}"))

    @staticmethod
    def _fail(value: Any, path: str, constraint: str) -> str:
        shown = value if not isinstance(value, list) else "[" + ", ".join(map(str, value)) + "]"
        return f"Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}"
