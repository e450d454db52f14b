#!/usr/bin/env bash
# Start a Docker engine for the image build and the container tests, unless one already answers.
#
#   build/docker/start-dockerd.sh        # idempotent: safe to call any number of times
#   build/docker/stop-dockerd.sh         # stops the engine only if this script started it
#
# The engine runs without a bridge network and without touching iptables: builds and tests give every
# container `--network host` or `--network none`, never an address of its own. The PID of an engine
# started here goes to $DOCKERD_STATE_DIR/dockerd.pid (default .cache/dockerd/ in the repository), its
# log beside it; stop-dockerd.sh reads that file and stops nothing else.
#
# Environment: DOCKERD_STATE_DIR (state dir), DOCKERD_WAIT (seconds to wait for the engine, default 60).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state_dir="${DOCKERD_STATE_DIR:-${root}/.cache/dockerd}"
pidfile="${state_dir}/dockerd.pid"
logfile="${state_dir}/dockerd.log"
wait_seconds="${DOCKERD_WAIT:-60}"

log() { printf 'start-dockerd: %s\n' "$*" >&2; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

wait_for_engine() {
    local pid="$1" waited=0
    until engine_answers; do
        if ! kill -0 "${pid}" 2>/dev/null; then
            log "dockerd (pid ${pid}) exited; last lines of ${logfile}:"
            tail -n 20 "${logfile}" >&2 || true
            rm -f "${pidfile}"
            return 1
        fi
        if ((waited >= wait_seconds)); then
            log "no answer from dockerd (pid ${pid}) after ${wait_seconds}s; see ${logfile}"
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

if ! command -v docker >/dev/null 2>&1; then
    log "no docker client on PATH (Debian: apt-get install -y docker.io)"
    exit 1
fi

if engine_answers; then
    log "a Docker engine already answers; nothing to start"
    exit 0
fi

mkdir -p "${state_dir}"

# An engine we started earlier may still be coming up: wait for it rather than start a second one.
if [[ -s "${pidfile}" ]]; then
    pid="$(<"${pidfile}")"
    if kill -0 "${pid}" 2>/dev/null; then
        log "waiting for the dockerd started earlier (pid ${pid})"
        wait_for_engine "${pid}"
        exit 0
    fi
    rm -f "${pidfile}"
fi

if ! command -v dockerd >/dev/null 2>&1; then
    log "no dockerd on PATH (Debian: apt-get install -y docker.io)"
    exit 1
fi
if [[ "$(id -u)" != 0 ]]; then
    log "dockerd needs root; run this as root or start an engine yourself"
    exit 1
fi

log "starting dockerd (log: ${logfile})"
# setsid: the engine outlives this script and is not in the caller's process group.
setsid dockerd --bridge=none --iptables=false --ip6tables=false </dev/null >"${logfile}" 2>&1 &
pid=$!
echo "${pid}" >"${pidfile}"
wait_for_engine "${pid}"
log "dockerd is up (pid ${pid})"
