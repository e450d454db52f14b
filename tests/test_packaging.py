"""The zipapp's packaging: what build/prune.py keeps, size, running it, reproducibility.

- The operations the resource calls are read from ``resource/*.py`` (client calls, paginators, operation
  names in string literals, botocore helpers that call STS for it) and must all be in
  ``prune.KEPT_OPERATIONS``: a new call cannot ship with a model that lacks it.
- The built .pyz is inspected as a zip (trimmed models, nothing dropped that is needed, nothing kept that
  is not) and run: its botocore creates both clients, exposes every kept operation, and resolves the same
  endpoints as an unpruned botocore in every region of every partition.
- The zipapp unpacks itself once (shiv's bootstrap) and runs under a symlink named after the step.
- Two builds give the same bytes (slow: two full builds).
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import botocore.credentials
import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parent.parent
RESOURCE = ROOT / "resource" / "sagemaker_pipeline_resource"
MAX_PYZ_BYTES = 3_000_000
# Methods of a botocore client that are not API operations.
CLIENT_HELPERS = frozenset({"get_paginator", "can_paginate", "get_waiter", "close", "generate_presigned_url"})
# botocore classes that make API calls on the resource's behalf: (service, operation).
BOTOCORE_CALLERS = {
    "AssumeRoleCredentialFetcher": ("sts", "assume_role"),
    "AssumeRoleWithWebIdentityCredentialFetcher": ("sts", "assume_role_with_web_identity"),
}


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


prune = _load("build_prune", ROOT / "build" / "prune.py")
build_pyz = _load("build_build_pyz", ROOT / "build" / "build_pyz.py")


@pytest.fixture(scope="module")
def full_models() -> dict[str, set[str]]:
    """Python names of every operation of the kept services, from the dev venv's (unpruned) botocore."""
    session = botocore.session.get_session()
    return {
        service: {xform_name(name) for name in session.get_service_model(service).operation_names}
        for service in prune.KEPT_OPERATIONS
    }


def _sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(RESOURCE.rglob("*.py"))}


def used_operations(full_models: dict[str, set[str]]) -> dict[str, set[str]]:
    """Operation names the resource's code uses, by service: from calls and from string literals."""
    every = {name: service for service, names in full_models.items() for name in names}
    used: dict[str, set[str]] = {service: set() for service in full_models}
    for path, text in _sources().items():
        names: set[str] = set()
        names |= set(re.findall(r"\bclient\.([a-z_][a-z0-9_]*)\s*\(", text))
        names |= set(re.findall(r"\.(?:sts|sagemaker)\(\)\.([a-z_][a-z0-9_]*)\s*\(", text))
        names |= set(re.findall(r"get_paginator\(\s*[\"']([a-z0-9_]+)[\"']", text))
        # Operation names in string literals, e.g. a {"start": "start_pipeline_execution"} table for getattr.
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in every:
                names.add(node.value)
        for name in names - CLIENT_HELPERS:
            assert name in every, f"{path.name} calls client.{name}(), which is no operation of {sorted(full_models)}"
            used[every[name]].add(name)
        for helper, (service, operation) in BOTOCORE_CALLERS.items():
            if re.search(rf"\b{helper}\b", text):
                used[service].add(operation)
    return used


def test_every_operation_the_resource_calls_is_kept(full_models):
    used = used_operations(full_models)
    assert used["sagemaker"], "the scan found no SageMaker call at all: is the scan still right?"
    for service, names in used.items():
        missing = sorted(names - prune.KEPT_OPERATIONS[service])
        assert not missing, f"build/prune.py's KEPT_OPERATIONS['{service}'] lacks {missing}"


def test_every_kept_operation_exists(full_models):
    for service, names in prune.KEPT_OPERATIONS.items():
        assert names <= full_models[service], f"not {service} operations: {sorted(names - full_models[service])}"


def test_every_service_the_resource_uses_is_kept():
    services: set[str] = set()
    for text in _sources().values():
        services |= set(re.findall(r"(?:\bclient|create_client)\(\s*[\"']([a-z0-9-]+)[\"']", text))
        services |= set(re.findall(r"\b(?:aws|self)\.(sts|sagemaker)\(\)", text))
    assert "sagemaker" in services
    assert services <= prune.KEPT_SERVICES, f"services not kept by build/prune.py: {services - prune.KEPT_SERVICES}"


def test_the_credential_chain_calls_only_kept_sts_operations():
    """botocore's default chain (web identity, assume-role profiles) calls STS: those operations are kept."""
    text = Path(botocore.credentials.__file__).read_text(encoding="utf-8")
    for operation in ("assume_role", "assume_role_with_web_identity"):
        assert f"client.{operation}(" in text
        assert operation in prune.KEPT_OPERATIONS["sts"]


def test_python_name_matches_botocore(full_models):
    session = botocore.session.get_session()
    for service in full_models:
        for name in session.get_service_model(service).operation_names:
            assert prune.python_name(name) == xform_name(name), name


def test_trim_service_model_keeps_what_is_referenced_and_every_exception():
    model = {
        "metadata": {"endpointPrefix": "svc"},
        "operations": {
            "GetThing": {
                "name": "GetThing",
                "input": {"shape": "GetThingRequest"},
                "output": {"shape": "GetThingResponse"},
                "errors": [{"shape": "NotFound"}],
                "documentation": "<p>docs</p>",
                "documentationUrl": "https://docs.example.com",
            },
            "DeleteThing": {"name": "DeleteThing", "input": {"shape": "DeleteThingRequest"}},
        },
        "shapes": {
            "GetThingRequest": {
                "type": "structure",
                "members": {"Name": {"shape": "Name", "documentation": "its name"}, "documentation": {"shape": "Name"}},
            },
            "GetThingResponse": {"type": "structure", "members": {"Tags": {"shape": "TagMap"}}},
            "TagMap": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Values"}},
            "Values": {"type": "list", "member": {"shape": "Value"}},
            "Value": {"type": "string", "documentation": "a value"},
            "Name": {"type": "string"},
            "NotFound": {"type": "structure", "members": {}, "exception": True},
            "Conflict": {"type": "structure", "members": {"Message": {"shape": "Message"}}, "exception": True},
            "Message": {"type": "string"},
            "DeleteThingRequest": {"type": "structure", "members": {"Force": {"shape": "Flag"}}},
            "Flag": {"type": "boolean"},
        },
    }
    trimmed = prune.trim_service_model(model, ["get_thing"])
    assert list(trimmed["operations"]) == ["GetThing"]
    assert set(trimmed["shapes"]) == {
        "GetThingRequest", "GetThingResponse", "TagMap", "Values", "Value", "Name", "NotFound", "Conflict", "Message",
    }  # fmt: skip
    assert "docs" not in json.dumps(trimmed) and "a value" not in json.dumps(trimmed)
    # A member called "documentation" is data, not documentation.
    assert trimmed["shapes"]["GetThingRequest"]["members"] == {
        "Name": {"shape": "Name"},
        "documentation": {"shape": "Name"},
    }
    with pytest.raises(prune.PruneError, match="no operation delete_everything"):
        prune.trim_service_model(model, ["delete_everything"])


# -- the built .pyz --------------------------------------------------------------------------------------


def _model(archive: zipfile.ZipFile, service: str, kind: str) -> dict:
    names = [
        name
        for name in archive.namelist()
        if re.fullmatch(rf"site-packages/botocore/data/{service}/[^/]+/{kind}\.json(\.gz)?", name)
    ]
    assert len(names) == 1, f"{service} {kind}: {names}"
    data = archive.read(names[0])
    if names[0].endswith(".gz"):
        data = gzip.decompress(data)
    return json.loads(data)


def test_the_pyz_carries_the_kept_operations_and_little_else(pyz, full_models):
    assert pyz.stat().st_size <= MAX_PYZ_BYTES, f"{pyz.stat().st_size / 1e6:.1f} MB"
    session = botocore.session.get_session()
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
        data = [name.split("/") for name in names if name.startswith("site-packages/botocore/data/")]
        assert {parts[3] for parts in data if len(parts) > 4} == set(prune.KEPT_SERVICES)
        for service, kept in prune.KEPT_OPERATIONS.items():
            model = _model(archive, service, "service-2")
            assert {xform_name(name) for name in model["operations"]} == kept
            full_paginators = session.get_paginator_model(service)._paginator_config
            paginators = _model(archive, service, "paginators-1")["pagination"]
            expected = {name for name in full_paginators if xform_name(name) in kept}
            assert set(paginators) == expected
            for name in expected:
                assert paginators[name] == full_paginators[name]
        for dropped in ("waiters-2", "examples-1"):
            assert not [name for name in names if f"/{dropped}." in name]
        for package in ("boto3/", "s3transfer/", "boto3-", "s3transfer-"):
            assert not [name for name in names if name.startswith(f"site-packages/{package}")]
        for needed in ("endpoints.json", "partitions.json", "_retry.json", "sdk-default-configuration.json"):
            assert f"site-packages/botocore/data/{needed}" in names
        assert "site-packages/botocore/cacert.pem" in names  # the CA bundle when certifi is absent
        assert not [name for name in names if "__pycache__" in name or name.endswith(".pth")]


def _pyz_python(pyz: Path, code: str, tmp_path: Path) -> str:
    """Run ``code`` with the zipapp's own site-packages (shiv's interpreter mode), return stdout."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SHIV_ROOT": str(tmp_path / "shiv")}
    env["SHIV_INTERPRETER"] = "1"
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(pyz), "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


CLIENTS_AND_ENDPOINTS = """
import json, sys
import botocore.session
from botocore import xform_name
session = botocore.session.get_session()
kept = json.loads(sys.argv[1])
regions = sorted({r for p in session.get_component("data_loader").load_data("partitions")["partitions"]
                  for r in p["regions"]})
out = {"regions": {}, "clients": {}}
for service, operations in kept.items():
    client = session.create_client(service, region_name="us-east-1", aws_access_key_id="testing",
                                   aws_secret_access_key="testing")
    out["clients"][service] = {
        "methods": sorted(op for op in operations if callable(getattr(client, op, None))),
        "exceptions": sorted(name for name in dir(client.exceptions) if name[0].isupper()),
        "pageable": sorted(op for op in operations if client.can_paginate(op)),
    }
for region in regions:
    for service in kept:
        client = session.create_client(service, region_name=region, aws_access_key_id="testing",
                                       aws_secret_access_key="testing")
        out["regions"][f"{service} {region}"] = [client.meta.endpoint_url, client.meta.region_name]
print(json.dumps(out, sort_keys=True))
"""


def test_the_pruned_botocore_works_like_the_full_one(pyz, tmp_path):
    """Same clients, exceptions, paginators and endpoints (every region of every partition) as the dev venv."""
    kept = json.dumps({service: sorted(names) for service, names in prune.KEPT_OPERATIONS.items()})
    pruned = json.loads(_run_in_pyz(pyz, kept, tmp_path))
    full = json.loads(
        subprocess.run(
            [sys.executable, "-c", CLIENTS_AND_ENDPOINTS, kept], capture_output=True, text=True, check=True, timeout=300
        ).stdout
    )
    for service, names in prune.KEPT_OPERATIONS.items():
        assert pruned["clients"][service]["methods"] == sorted(names)
        # Modelled exceptions: all of the full model's (they are small, and client.exceptions.X must not vanish).
        assert pruned["clients"][service]["exceptions"] == full["clients"][service]["exceptions"]
        assert pruned["clients"][service]["pageable"] == full["clients"][service]["pageable"]
    assert len(pruned["regions"]) > 50
    assert pruned["regions"] == full["regions"]


def _run_in_pyz(pyz: Path, argument: str, tmp_path: Path) -> str:
    code = f"import sys; sys.argv[1:] = [{argument!r}]\n" + CLIENTS_AND_ENDPOINTS
    return _pyz_python(pyz, code, tmp_path).strip().splitlines()[-1]


# -- running it ------------------------------------------------------------------------------------------


def _run_pyz(pyz: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SHIV_ROOT": str(tmp_path / "shiv")}
    return subprocess.run(
        [sys.executable, str(pyz), *args], input="", check=False, capture_output=True, text=True, env=env, timeout=120
    )


def test_the_zipapp_unpacks_once_and_runs_under_a_step_name(pyz, tmp_path):
    assert pyz.read_bytes().startswith(f"#!{build_pyz.DEFAULT_SHEBANG}\n".encode())
    with zipfile.ZipFile(pyz) as archive:
        build_id = json.loads(archive.read("environment.json"))["build_id"]
    link = tmp_path / "opt" / "check"
    link.parent.mkdir()
    link.symlink_to(pyz)
    for attempt in ("unpacks", "already unpacked"):
        done = _run_pyz(link, tmp_path)
        # No payload on stdin (a pipe that is closed): check says so, as the step named by argv[0].
        assert done.returncode == 1, (attempt, done.stderr)
        assert "stdin was empty" in done.stderr, (attempt, done.stderr)
    assert (tmp_path / "shiv" / f"{pyz.name}_{build_id}" / "site-packages" / "botocore").is_dir()


def checkout(destination: Path, umask: int) -> Path:
    """The build's inputs (build/, resource/) with the permission bits a checkout under ``umask`` gives them."""
    for part in ("build", "resource"):
        shutil.copytree(ROOT / part, destination / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in destination.rglob("*"):
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod((0o777 if executable else 0o666) & ~umask)
    return destination


@pytest.mark.slow
def test_two_builds_give_the_same_bytes_whatever_the_umask(tmp_path):
    """Two checkouts, one made and built under umask 022 (files 0644), one under 002 (files 0664, as on
    systems with a group per user): the same bytes. A zip records each file's mode."""
    outputs = []
    for umask in (0o022, 0o002):
        tree = checkout(tmp_path / f"checkout-{umask:03o}", umask)
        assert (tree / "resource" / "sagemaker_pipeline_resource" / "cli.py").stat().st_mode & 0o777 == 0o666 & ~umask
        output = tmp_path / f"umask-{umask:03o}.pyz"
        subprocess.run(
            [sys.executable, str(tree / "build" / "build_pyz.py"), "--output", str(output)],
            check=True,
            capture_output=True,
            timeout=600,
            umask=umask,
        )
        outputs.append(output.read_bytes())
    assert outputs[0] == outputs[1]
