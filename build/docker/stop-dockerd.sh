#!/usr/bin/env bash
# Stop the Docker engine that start-dockerd.sh started, by the PID it wrote; leave any other engine alone.
#
# Environment: DOCKERD_STATE_DIR (must match start-dockerd.sh's; default .cache/dockerd/ in the repository).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state_dir="${DOCKERD_STATE_DIR:-${root}/.cache/dockerd}"
pidfile="${state_dir}/dockerd.pid"

log() { printf 'stop-dockerd: %s\n' "$*" >&2; }

if [[ ! -s "${pidfile}" ]]; then
    log "no ${pidfile}: this checkout started no engine; nothing to stop"
    exit 0
fi

pid="$(<"${pidfile}")"
if ! [[ "${pid}" =~ ^[0-9]+$ ]]; then
    log "ignoring ${pidfile}: not a PID"
    rm -f "${pidfile}"
    exit 0
fi
if ! kill -0 "${pid}" 2>/dev/null; then
    log "dockerd (pid ${pid}) is not running"
    rm -f "${pidfile}"
    exit 0
fi
# Make sure that PID is still the engine we started, not a recycled number.
if [[ "$(cat "/proc/${pid}/comm" 2>/dev/null || true)" != dockerd ]]; then
    log "pid ${pid} is no longer dockerd; leaving it alone"
    rm -f "${pidfile}"
    exit 0
fi

log "stopping dockerd (pid ${pid})"
kill -TERM "${pid}"
for _ in $(seq 1 30); do
    if ! kill -0 "${pid}" 2>/dev/null; then
        rm -f "${pidfile}"
        log "stopped"
        exit 0
    fi
    sleep 1
done
log "dockerd (pid ${pid}) still running after 30s; sending KILL"
kill -KILL "${pid}" 2>/dev/null || true
rm -f "${pidfile}"
