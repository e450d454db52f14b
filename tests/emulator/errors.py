"""AWS-shaped errors for the emulator.

Stock moto answers many pipeline failures with an HTML 500 page (an unknown execution ARN, a malformed
ARN, an operation it does not implement). Real SageMaker never does: every client error is a JSON body
``{"__type": ..., "message": ...}`` with HTTP 400, and botocore turns it into a ``ClientError`` whose
``Error.Code`` is the ``__type``. Code under test branches on those codes, so the emulator raises
:class:`ApiError` everywhere and renders it the way the service does.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error the emulated service answers with, rendered as an AWS JSON error document."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation_error(message: str) -> ApiError:
    """SageMaker's generic request error (HTTP 400), e.g. a value that breaks a documented constraint."""
    return ApiError("ValidationException", message)


def not_found(message: str) -> ApiError:
    """SageMaker's ``ResourceNotFound`` (note: no ``Exception`` suffix, unlike most services)."""
    return ApiError("ResourceNotFound", message)


def conflict(message: str) -> ApiError:
    """SageMaker's ``ConflictException``: the entity is in a state that does not allow the call."""
    return ApiError("ConflictException", message)
