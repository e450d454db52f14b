"""Remove from the staging tree what the resource never loads, before shiv zips it.

Every byte in the zipapp is unpacked once and then read (or not) on every run. botocore alone carries models
for hundreds of AWS services, and the resource calls a handful of operations of two (SageMaker, and STS for
assumed roles and the credential chain). What stays, and why:

- ``botocore/data/{sagemaker,sts}/<version>/service-2.json``: rewritten to the operations in
  :data:`KEPT_OPERATIONS`, the shapes they reference (transitively) and every modelled exception (so that
  ``client.exceptions.ConflictException`` and friends keep existing), without documentation strings.
  Creating a SageMaker client parses this file: the full model is 2.6 MB of JSON (~40 ms to inflate and
  parse on every run), the trimmed one 24 kB.
- ``paginators-1.json`` (and its ``.sdk-extras``): only the kept operations' paginators.
- ``endpoint-rule-set-1.json``: unchanged (endpoint resolution runs it for every client).
- ``botocore/data/endpoints.json``: every partition and region, but only the kept services' entries (the
  client's endpoint bridge reads it for every client: 1.2 MB, ~16 ms, parsed on each run otherwise).
- ``partitions.json``, ``_retry.json``, ``sdk-default-configuration.json``: unchanged (endpoint rules,
  legacy retries, defaults mode).
- Dropped: ``waiters-2`` and ``examples-1`` (the resource polls with its own loop; examples are docs), boto3
  and s3transfer (nothing imports them: the resource uses botocore sessions; they stay in the lock file
  because boto3 is what pins botocore), console scripts in ``bin/``, dateutil's zoneinfo tarball (botocore
  only uses UTC and local time), byte-code caches.

Every model file is written as plain ``.json`` (the loader tries ``.json`` before ``.json.gz``), minified,
with sorted keys, so that the build stays reproducible. Each ``*.dist-info/RECORD`` is rewritten to list the
files that remain, with their real hashes.

The operation list is the one place that says what the resource may call: ``tests/test_packaging.py`` scans
``resource/`` for client calls and fails if one is missing here.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Operations the resource (or botocore's credential chain on its behalf) calls, by service, in the Python
# names the code uses (``client.<name>(...)``, ``client.get_paginator("<name>")``).
KEPT_OPERATIONS: dict[str, frozenset[str]] = {
    "sagemaker": frozenset(
        {
            "create_pipeline",  # out (definition_file)
            "describe_pipeline",  # doctor, out (definition_file)
            "describe_pipeline_definition_for_execution",  # in
            "describe_pipeline_execution",  # in, out (wait)
            "list_pipeline_execution_steps",  # in, out (wait)
            "list_pipeline_executions",  # check, doctor, out (where a put's version goes)
            "list_pipeline_versions",  # out (definition_file)
            "list_pipeline_parameters_for_execution",  # in
            "retry_pipeline_execution",  # out
            "start_pipeline_execution",  # out
            "stop_pipeline_execution",  # out
            "update_pipeline",  # out (definition_file)
            "update_pipeline_execution",  # out: the marker of a waiting put's version (issue #11)
        }
    ),
    "sts": frozenset(
        {
            "assume_role",  # source.role_arn; profiles with role_arn in the credential chain
            "assume_role_with_web_identity",  # credential chain: AWS_WEB_IDENTITY_TOKEN_FILE (EKS IRSA)
            "get_caller_identity",  # doctor, out (definition_file: the account a pipeline is created in)
        }
    ),
}
KEPT_SERVICES = frozenset(KEPT_OPERATIONS)

# Model files per service and API version: what happens to each.
TRIMMED_MODELS = ("service-2", "paginators-1")
KEPT_MODELS = ("endpoint-rule-set-1",)
# Anything else there (waiters-2, examples-1, ...) is deleted.

# Top-level packages (and their dist-info) that nothing imports at run time.
DROPPED_PACKAGES = ("boto3", "s3transfer")
DROPPED_FILES = ("dateutil/zoneinfo/dateutil-zoneinfo.tar.gz",)
DROPPED_DIRS = ("bin",)

# Shape keys that hold documentation only (botocore reads them with .get(..., "") for docstrings).
_DOC_KEYS = frozenset({"documentation", "documentationUrl"})


class PruneError(RuntimeError):
    """The staging tree is not what prune expects (e.g. a kept operation is missing from the model)."""


def python_name(operation: str) -> str:
    """botocore's ``xform_name`` for operation names: ``ListPipelineExecutions`` -> ``list_pipeline_executions``.

    Only what operation names need (acronyms such as ``SAML`` stay together); :func:`trim_service_model`
    fails when a kept name matches no operation, so a wrong conversion cannot go unnoticed.
    """
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", operation)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


# -- JSON files ----------------------------------------------------------------------------------------


def _read_json(path_without_ext: Path) -> Any:
    plain = path_without_ext.with_name(path_without_ext.name + ".json")
    packed = path_without_ext.with_name(path_without_ext.name + ".json.gz")
    if plain.is_file():
        return json.loads(plain.read_text(encoding="utf-8"))
    if packed.is_file():
        with gzip.open(packed, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))
    raise PruneError(f"no {plain.name} or {packed.name} in {plain.parent}")


def _write_json(path_without_ext: Path, data: Any) -> None:
    """Write ``NAME.json`` (minified, keys sorted: reproducible) and remove any ``NAME.json.gz``."""
    for ext in (".json", ".json.gz"):
        path_without_ext.with_name(path_without_ext.name + ext).unlink(missing_ok=True)
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    path_without_ext.with_name(path_without_ext.name + ".json").write_text(text, encoding="utf-8")


def _model_name(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".json")


# -- service models --------------------------------------------------------------------------------------


def _without_docs(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key not in _DOC_KEYS}


def _strip_docs(model: dict[str, Any]) -> dict[str, Any]:
    """``model`` without documentation, removed only where the format puts it (a structure member may well be
    called ``documentation``: it stays)."""
    model = _without_docs(model)
    operations = {}
    for name, original_operation in model["operations"].items():
        operation = _without_docs(original_operation)
        for key in ("input", "output"):
            if key in operation:
                operation[key] = _without_docs(operation[key])
        if "errors" in operation:
            operation["errors"] = [_without_docs(error) for error in operation["errors"]]
        operations[name] = operation
    shapes = {}
    for name, original_shape in model["shapes"].items():
        shape = _without_docs(original_shape)
        for key in ("member", "key", "value"):
            if key in shape:
                shape[key] = _without_docs(shape[key])
        if "members" in shape:
            shape["members"] = {member: _without_docs(ref) for member, ref in shape["members"].items()}
        shapes[name] = shape
    model["operations"] = operations
    model["shapes"] = shapes
    return model


def _referenced_shapes(shape: dict[str, Any]) -> Iterable[str]:
    for key in ("member", "key", "value"):
        if key in shape:
            yield shape[key]["shape"]
    for member in shape.get("members", {}).values():
        yield member["shape"]


def trim_service_model(model: dict[str, Any], keep: Iterable[str], service: str = "") -> dict[str, Any]:
    """``model`` (a service-2 document) with only the operations named in ``keep`` (Python names)."""
    by_python_name = {python_name(name): name for name in model["operations"]}
    wanted = sorted(set(keep))
    missing = [name for name in wanted if name not in by_python_name]
    if missing:
        raise PruneError(f"{service or 'the service'} model has no operation {', '.join(missing)}")
    operations = {by_python_name[name]: model["operations"][by_python_name[name]] for name in wanted}

    shapes = model["shapes"]
    todo: list[str] = [name for name, shape in shapes.items() if shape.get("exception")]
    for operation in operations.values():
        for key in ("input", "output"):
            if key in operation:
                todo.append(operation[key]["shape"])
        todo.extend(error["shape"] for error in operation.get("errors", []))
    kept: set[str] = set()
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        if name not in shapes:
            raise PruneError(f"{service or 'the service'} model references an unknown shape {name}")
        kept.add(name)
        todo.extend(_referenced_shapes(shapes[name]))

    trimmed = {key: value for key, value in model.items() if key not in ("operations", "shapes")}
    trimmed["operations"] = operations
    trimmed["shapes"] = {name: shapes[name] for name in sorted(kept)}
    return _strip_docs(trimmed)


def trim_paginators(document: dict[str, Any], operation_names: Iterable[str], key: str) -> dict[str, Any]:
    """A paginators-1 (``key="pagination"``) or its extras (``key="merge"``) for the kept operations only."""
    names = set(operation_names)
    result = dict(document)
    if key == "pagination":
        result["pagination"] = {n: v for n, v in document.get("pagination", {}).items() if n in names}
    else:
        merge = dict(document.get("merge", {}))
        merge["pagination"] = {n: v for n, v in merge.get("pagination", {}).items() if n in names}
        if not merge["pagination"]:
            del merge["pagination"]
        result["merge"] = merge
    return result


def prune_service(version_dir: Path, keep: Iterable[str]) -> list[str]:
    """Trim one ``botocore/data/<service>/<version>`` directory; return the kept operations' wire names."""
    service = version_dir.parent.name
    model = trim_service_model(_read_json(version_dir / "service-2"), keep, service)
    operation_names = list(model["operations"])
    _write_json(version_dir / "service-2", model)

    for path in sorted(version_dir.iterdir()):
        name = _model_name(path)
        if name in ("service-2", *KEPT_MODELS):
            continue
        if name == "paginators-1":
            _write_json(
                version_dir / name, trim_paginators(_read_json(version_dir / name), operation_names, "pagination")
            )
        elif name.startswith("paginators-1.") and name.endswith("-extras"):
            extras = trim_paginators(_read_json(version_dir / name), operation_names, "merge")
            if extras["merge"]:
                _write_json(version_dir / name, extras)
            else:
                path.unlink()
        else:
            path.unlink()
    for name in KEPT_MODELS:
        packed = version_dir / f"{name}.json.gz"
        if packed.is_file():  # same content, but the loader need not inflate it on every run
            _write_json(version_dir / name, _read_json(version_dir / name))
    return operation_names


def prune_endpoints(data: Path, endpoint_keys: set[str]) -> None:
    """Keep every partition and region in ``endpoints.json`` but only the services in ``endpoint_keys``."""
    if not (data / "endpoints.json").is_file() and not (data / "endpoints.json.gz").is_file():
        return
    document = _read_json(data / "endpoints")
    for partition in document.get("partitions", []):
        services = partition.get("services", {})
        partition["services"] = {name: value for name, value in services.items() if name in endpoint_keys}
    _write_json(data / "endpoints", document)


def prune_botocore_data(data: Path) -> dict[str, list[str]]:
    """Prune ``botocore/data``; return the wire names of the operations kept per service."""
    kept: dict[str, list[str]] = {}
    endpoint_keys: set[str] = set()
    for entry in sorted(data.iterdir()):
        if not entry.is_dir():
            continue
        if entry.name not in KEPT_OPERATIONS:
            shutil.rmtree(entry)
            continue
        versions = sorted(path for path in entry.iterdir() if path.is_dir())
        if not versions:
            raise PruneError(f"{entry} has no API version directory")
        # The loader uses the newest version that has a service-2; older ones are dead weight.
        for old in versions[:-1]:
            shutil.rmtree(old)
        kept[entry.name] = prune_service(versions[-1], KEPT_OPERATIONS[entry.name])
        metadata = _read_json(versions[-1] / "service-2")["metadata"]
        endpoint_keys |= {entry.name, metadata.get("endpointPrefix", ""), metadata.get("signingName", "")}
    missing = KEPT_SERVICES - set(kept)
    if missing:
        raise PruneError(f"botocore has no model for {', '.join(sorted(missing))}")
    prune_endpoints(data, endpoint_keys - {""})
    return kept


# -- packages and metadata -------------------------------------------------------------------------------


def _drop_package(staging: Path, name: str) -> None:
    shutil.rmtree(staging / name, ignore_errors=True)
    (staging / f"{name}.py").unlink(missing_ok=True)
    for dist_info in staging.glob("*.dist-info"):
        project = dist_info.name.split("-", 1)[0]
        if project.lower().replace("-", "_") == name.lower():
            shutil.rmtree(dist_info)


def _record_hash(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def rewrite_records(staging: Path) -> None:
    """Make each ``RECORD`` list the files of its distribution that remain, with their current hashes.

    A file that prune rewrote under a new name (``NAME.json.gz`` -> ``NAME.json``) is listed under the
    distribution whose top-level directory holds it.
    """
    for record in sorted(staging.glob("*.dist-info/RECORD")):
        record_name = record.relative_to(staging).as_posix()
        with record.open(encoding="utf-8", newline="") as handle:
            listed = [row[0] for row in csv.reader(handle) if row and row[0]]
        kept = {name for name in listed if (staging / name).is_file() and "__pycache__" not in name}
        tops = {name.split("/", 1)[0] for name in kept if "/" in name and ".dist-info/" not in name}
        for top in tops:
            for path in (staging / top).rglob("*"):
                name = path.relative_to(staging).as_posix()
                if path.is_file() and "__pycache__" not in name:
                    kept.add(name)
        kept.discard(record_name)
        rows = [[name, _record_hash(staging / name), str((staging / name).stat().st_size)] for name in sorted(kept)]
        rows.append([record_name, "", ""])
        with record.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)


def prune(staging: Path) -> dict[str, list[str]]:
    """Prune the staging tree in place; return the operations kept per service (wire names)."""
    kept: dict[str, list[str]] = {}
    data = staging / "botocore" / "data"
    if data.is_dir():
        kept = prune_botocore_data(data)
    for name in DROPPED_PACKAGES:
        _drop_package(staging, name)
    for relative in DROPPED_FILES:
        (staging / relative).unlink(missing_ok=True)
    for relative in DROPPED_DIRS:
        shutil.rmtree(staging / relative, ignore_errors=True)
    for cache in sorted(staging.rglob("__pycache__")):
        shutil.rmtree(cache)
    rewrite_records(staging)
    return kept
