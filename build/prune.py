"""Remove from the staging tree what the resource never loads, before shiv zips it.

Every byte in the zipapp is unpacked on first run and read by nobody: botocore alone carries models for
hundreds of AWS services, and the resource calls two (SageMaker, and STS for assumed roles).
"""

from __future__ import annotations

import shutil
from pathlib import Path

# Services the resource can call. A test checks that every operation the resource uses is in one of them.
KEPT_SERVICES = frozenset({"sagemaker", "sts"})


def prune(staging: Path) -> None:
    """Delete unused botocore service models and byte-code caches below ``staging``."""
    data = staging / "botocore" / "data"
    if data.is_dir():
        for entry in data.iterdir():
            if entry.is_dir() and entry.name not in KEPT_SERVICES:
                shutil.rmtree(entry)
    for cache in staging.rglob("__pycache__"):
        shutil.rmtree(cache)
