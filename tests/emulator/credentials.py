"""Every credential the emulator's STS hands out, so that a leak check can look for each one of them.

moto answers STS (AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken, ...) with XML; the secret parts
of each answer are kept here, from the start of the process (a reset does not forget them: a credential
issued in one test must not show up in another either).
"""

from __future__ import annotations

import re
import threading

_SECRET_FIELDS = re.compile(rb"<(SecretAccessKey|SessionToken)>([^<]+)</\1>")


class IssuedCredentials:
    """The secret access keys and session tokens in every STS answer so far."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, None] = {}

    def record(self, body: bytes) -> None:
        found = [value.decode("utf-8", "replace") for _, value in _SECRET_FIELDS.findall(body)]
        if found:
            with self._lock:
                self._values.update(dict.fromkeys(found))

    def values(self) -> list[str]:
        with self._lock:
            return list(self._values)
