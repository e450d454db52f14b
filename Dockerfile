# Container image of the sagemaker-pipeline-resource Concourse resource type.
#
#   python -m tests.image.build --tag IMAGE        # what `make image` runs (see tests/image/build.py)
#   docker build --target tests .                  # build, then smoke-test the .pyz inside the image
#
# Stages:
#   builder  a throw-away venv with the hash-locked build tools; runs build/build_pyz.py, the same one
#            recipe as `make pyz`, to make /dist/sagemaker-pipeline-resource.pyz.
#   runtime  BASE_IMAGE plus the .pyz, its site-packages unpacked and byte-compiled ahead of time, and
#            check/in/out: symlinks to a launcher that runs them. No pip cache, build venv, compiler or
#            source tree.
#   tests    runtime plus build/docker/smoke-test.sh, run at build time: offline and a few seconds.
#   (last)   the image that ships: runtime with its labels.
# The legacy builder (DOCKER_BUILDKIT=0) builds every stage in order, so a plain build runs the smoke test
# too; BuildKit skips the tests stage unless it is the --target.
#
# BASE_IMAGE needs python3 (3.10 or newer) on PATH and a coreutils `env` that knows -S (the zipapp's
# shebang is `/usr/bin/env -S python3 -IS`). All stages use the same base, so the interpreter that
# installs the dependencies is the one that runs them.
# The release workflow pins the base by digest: it resolves this default tag once (`docker buildx
# imagetools inspect`) and builds with --build-arg BASE_IMAGE=python:3.13-slim-trixie@sha256:<digest>.
# Machines that cannot pull from a registry build a stand-in from Debian packages
# (build/docker/make-base-image.sh); an image built on it (`make image`, `make dist`) is for local tests only:
# the stand-in carries the build machine's CA bundle and names it in ENV PIP_CERT.
# The default: Debian 13 (trixie, the current stable release, with full security support) and CPython 3.13,
# the newest the .pyz is tested on (tests/test_release.py). The minor version's tag, so that a build gets its
# latest patch release; releases pin what it resolves to by digest. Measured side by side with bookworm
# (`make bench`, docs/performance.md): an idle check costs about the same on either, and the image is 17 MB
# smaller.
ARG BASE_IMAGE=python:3.13-slim-trixie

FROM ${BASE_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The build tools first, on their own layer: it stays cached while the resource's code changes.
COPY build/requirements-build.txt build/
RUN python3 -m venv /opt/build-venv \
 && /opt/build-venv/bin/pip install --no-cache-dir --require-hashes -r build/requirements-build.txt
COPY build/ build/
COPY resource/ resource/
# Optional: the timestamp inside the zipapp (build_pyz.py has a fixed default, so builds are reproducible).
ARG SOURCE_DATE_EPOCH
RUN /opt/build-venv/bin/python build/build_pyz.py --output /dist/sagemaker-pipeline-resource.pyz

FROM ${BASE_IMAGE} AS runtime
# shiv unpacks the zipapp's site-packages under SHIV_ROOT on first run. It is done here, at build time, so
# a container never unpacks or writes anything: it works with --read-only, as any user, and starts at
# once. shiv reads SHIV_ROOT from the environment (the shebang's -I hides only PYTHON* variables).
ENV SHIV_ROOT=/opt/resource/.shiv
COPY --from=builder /dist/sagemaker-pipeline-resource.pyz /opt/resource/sagemaker-pipeline-resource.pyz
COPY build/docker/launcher.py /opt/resource/sagemaker-pipeline-resource
WORKDIR /opt/resource
# 1. Unpack with the resource's own interpreter (SHIV_INTERPRETER runs the -c code instead of the entry
#    point, so this step does not depend on what the resource does with its arguments) and import the
#    package once as a sanity check.
# 2. check, in and out are symlinks to the launcher (build/docker/launcher.py), which runs that unpacked
#    tree (linked as site-packages) and dispatches on argv[0]: the zipapp's own start (zipimport, shiv's
#    bootstrap) costs ~8% of an idle check, and Concourse starts a check every minute. The zipapp stays,
#    runnable as ever (`sagemaker-pipeline-resource.pyz --version`), on the same tree.
# 3. Byte-compile what was unpacked. unchecked-hash: the tree never changes, so Python need not stat the
#    sources, and a changed mtime (e.g. from a COPY) cannot make the .pyc stale.
# 4. Warm up: run in, out and check, each failing at connecting (nothing listens on 127.0.0.1:9), recording
#    the start-up snapshot (startup.snapshot: where each module is; see resource/snapshot.py) that every
#    later run replays. Python also writes the byte code of
#    every standard-library module the run imports, where the base image has none (the official python
#    images delete theirs): otherwise every run compiles them in memory (~0.3 s). Only what a run imports
#    is compiled, not the whole standard library (~1 MB rather than ~18 MB); on bases that ship their
#    .pyc this writes nothing. Steps 1 and 3 run with PYTHONDONTWRITEBYTECODE, so that the byte code of
#    what only they import (shiv's unpacking, compileall's process pool) is not left in the image.
#    The snapshot is recorded last (nothing may change the directories it saw afterwards), then verified:
#    each module is where it says.
# 5. Everything readable and nothing writable by other users.
RUN set -eu \
 && PYTHONDONTWRITEBYTECODE=1 SHIV_INTERPRETER=1 ./sagemaker-pipeline-resource.pyz -c 'import sagemaker_pipeline_resource' \
 && ln -s "$(echo .shiv/*/site-packages)" site-packages \
 && test -f site-packages/sagemaker_pipeline_resource/cli.py \
 && chmod 0755 sagemaker-pipeline-resource \
 && for step in check in out; do ln -s sagemaker-pipeline-resource "$step"; done \
 && PYTHONDONTWRITEBYTECODE=1 python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash "$SHIV_ROOT" \
 && rm -f "$SHIV_ROOT"/.*_lock \
 && src='"source": {"pipeline": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/warm-up",'\
' "endpoint_url": "http://127.0.0.1:9", "access_key_id": "warm-up", "secret_access_key": "warm-up",'\
' "max_attempts": 1, "connect_timeout": 1}' \
 && execution='"version": {"execution_arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/warm-up/execution/w"}' \
 && export SAGEMAKER_PIPELINE_RESOURCE_SNAPSHOT_RECORD=/opt/resource/startup.snapshot \
 && mkdir /tmp/warm-up \
 && warm_up() { \
      printf '%s' "$1" > /tmp/warm-up/payload.json; shift; rc=0; \
      "$@" < /tmp/warm-up/payload.json 2>/tmp/warm-up/stderr || rc=$?; \
      if [ "$rc" != 1 ] || ! grep -q 'Could not connect to http://127.0.0.1:9/' /tmp/warm-up/stderr; then \
        echo "the warm-up $* should have failed at connecting (exit 1), not $rc:" >&2; \
        cat /tmp/warm-up/stderr >&2; exit 1; fi; } \
 && warm_up "{$src, $execution}" ./in /tmp/warm-up \
 && warm_up "{$src, \"params\": {}}" ./out /tmp/warm-up \
 && warm_up "{$src}" ./check \
 && unset SAGEMAKER_PIPELINE_RESOURCE_SNAPSHOT_RECORD \
 && rm -r /tmp/warm-up \
 && PYTHONDONTWRITEBYTECODE=1 python3 -IS -c 'import sys; sys.path.append("site-packages");'\
' from sagemaker_pipeline_resource.startup import snapshot; print(snapshot.verify("startup.snapshot"))' \
 && chmod -R a+rX,go-w /opt/resource
# Concourse runs resource containers as root and hands `in` and `out` a directory owned by root, so the
# default user stays root: a non-root default could not write into that directory. Nothing in the image
# needs root, though: it runs unchanged as any user (`--user 65534`) and on a read-only root filesystem.
# (hadolint's DL3002 warns only about an explicit `USER root`, so none is written.)

FROM runtime AS tests
COPY build/docker/smoke-test.sh /usr/local/bin/smoke-test
RUN smoke-test /opt/resource

FROM runtime
ARG BASE_IMAGE
# Passed by tests/image/build.py: VERSION from the package's __init__.py, REVISION from git.
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="sagemaker-pipeline-resource" \
      org.opencontainers.image.description="Concourse CI resource type that tracks and triggers AWS SageMaker Pipeline executions" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
