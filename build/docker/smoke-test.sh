#!/usr/bin/env bash
# Smoke test of the resource inside the image, run by the Dockerfile's `tests` stage at build time.
# Offline and quick: it proves the zipapp starts on the image's interpreter, dispatches on argv[0],
# rejects bad input cleanly, runs as an unprivileged user and writes nothing while it runs.
# The behaviour against a SageMaker API is tested from outside, by tests/image/test_image.py.
#
#   smoke-test.sh [RESOURCE_DIR]       # default /opt/resource
set -euo pipefail

dir="${1:-/opt/resource}"
pyz="${dir}/sagemaker-pipeline-resource.pyz"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
failures=0

fail() {
    printf 'smoke-test: FAIL: %s\n' "$*" >&2
    failures=$((failures + 1))
}
pass() { printf 'smoke-test: ok: %s\n' "$*" >&2; }

# Run "$@" with $1 as stdin, keeping stdout, stderr and the exit status under ${work}/NAME.*
run() {
    local name="$1" stdin="$2"
    shift 2
    local rc=0
    printf '%s' "${stdin}" | "$@" >"${work}/${name}.out" 2>"${work}/${name}.err" || rc=$?
    echo "${rc}" >"${work}/${name}.rc"
}

# Anything written below these after this point is a write at run time.
touch "${work}/marker"
sleep 1

# 1. The layout: one zipapp, its unpacked tree, and three symlinks to the launcher that runs that tree.
launcher="${dir}/sagemaker-pipeline-resource"
for step in check in out; do
    if [[ -L "${dir}/${step}" && "$(readlink -f "${dir}/${step}")" == "$(readlink -f "${launcher}")" ]]; then
        pass "${step} is a symlink to the launcher"
    else
        fail "${dir}/${step} is not a symlink to ${launcher}"
    fi
done
if [[ -f "${dir}/site-packages/sagemaker_pipeline_resource/cli.py" ]]; then
    pass "site-packages is the zipapp's unpacked tree"
else
    fail "${dir}/site-packages does not hold the unpacked zipapp"
fi

# 2. It starts and knows its version.
run version '' "${pyz}" --version
if [[ "$(<"${work}/version.rc")" == 0 && -s "${work}/version.out" ]]; then
    pass "--version: $(head -n 1 "${work}/version.out")"
else
    fail "--version exited $(<"${work}/version.rc"): $(cat "${work}/version.out" "${work}/version.err")"
fi

# 3. Bad input: a pipeline name where an ARN belongs. A clear message, no traceback, nothing on stdout.
bad='{"source": {"pipeline": "just-a-name"}, "version": null}'
check_bad_input() {
    local name="$1"
    if [[ "$(<"${work}/${name}.rc")" == 0 ]]; then
        fail "${name}: bad source accepted"
    elif [[ -s "${work}/${name}.out" ]]; then
        fail "${name}: wrote to stdout: $(head -c 300 "${work}/${name}.out")"
    elif grep -q 'Traceback' "${work}/${name}.err"; then
        fail "${name}: traceback on stderr: $(tail -n 5 "${work}/${name}.err")"
    elif ! grep -qi 'arn:' "${work}/${name}.err"; then
        fail "${name}: stderr does not name the expected ARN form: $(head -c 300 "${work}/${name}.err")"
    else
        pass "${name}: rejected: $(head -n 1 "${work}/${name}.err")"
    fi
}
run bad-check "${bad}" "${dir}/check"
check_bad_input bad-check

# 4. The same as an unprivileged user (setpriv is in util-linux, which every Debian image has).
if command -v setpriv >/dev/null 2>&1; then
    run bad-check-nobody "${bad}" setpriv --reuid=65534 --regid=65534 --clear-groups "${dir}/check"
    check_bad_input bad-check-nobody
    run version-nobody '' setpriv --reuid=65534 --regid=65534 --clear-groups "${pyz}" --version
    if [[ "$(<"${work}/version-nobody.rc")" == 0 ]]; then
        pass "--version as uid 65534"
    else
        fail "--version as uid 65534 exited $(<"${work}/version-nobody.rc"): $(cat "${work}/version-nobody.err")"
    fi
else
    printf 'smoke-test: skipped the unprivileged runs: no setpriv\n' >&2
fi

# 5. Nothing was unpacked or byte-compiled at run time (not under the resource, not in the interpreter).
stdlib="$(python3 -B -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"
written="$(find "${dir}" "${stdlib}" -newer "${work}/marker" -print 2>/dev/null | head -n 20)"
if [[ -z "${written}" ]]; then
    pass "nothing written under ${dir} or ${stdlib}"
else
    fail "written at run time:"$'\n'"${written}"
fi

if ((failures > 0)); then
    printf 'smoke-test: %d failure(s)\n' "${failures}" >&2
    exit 1
fi
printf 'smoke-test: all passed\n' >&2
