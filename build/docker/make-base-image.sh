#!/usr/bin/env bash
# Build a stand-in for the Dockerfile's BASE_IMAGE from Debian packages, for machines that cannot pull
# from a container registry (the development and CI machines of this project reach PyPI and Debian's
# package archive only).
#
#   build/docker/make-base-image.sh [TAG]    # default TAG: sagemaker-pipeline-resource-base:trixie
#
# Idempotent: if TAG already exists it is reused; if the root filesystem tarball is cached under
# .cache/base/ it is imported without a new debootstrap. FORCE=1 rebuilds both.
#
# The image is a minimal Debian (debootstrap --variant=minbase) with python3, python3-venv, python3-pip and
# ca-certificates: what the Dockerfile's stages need from `python:*-slim-SUITE`. The CA bundle that pip trusts
# on this machine ($PIP_CERT, else pip's configured `cert`, else the system bundle) is copied in and named
# by ENV PIP_CERT, so that pip inside a build reaches the package index the same way the host does.
#
# The Debian mirror is read from this machine's apt sources at run time (override with MIRROR=URL);
# the suite from SUITE (default trixie, the Dockerfile's default base). Needs root, debootstrap and a running Docker engine.
set -euo pipefail

tag="${1:-sagemaker-pipeline-resource-base:trixie}"
suite="${SUITE:-trixie}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache_dir="${BASE_CACHE_DIR:-${root}/.cache/base}"
tarball="${cache_dir}/${suite}-rootfs.tar.gz"
# Where the CA bundle lands inside the image.
image_cert=/etc/ssl/certs/pip-ca-bundle.crt

log() { printf 'make-base-image: %s\n' "$*" >&2; }

# The first Debian archive URI of this machine's apt sources (deb822 or one-line format), not -security.
apt_mirror() {
    local uri=""
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list.d/debian.sources)"
    fi
    if [[ -z "${uri}" ]]; then
        uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } break } }')"
    fi
    printf '%s\n' "${uri}"
}

# The CA bundle pip uses on this machine.
pip_cert() {
    local cert="${PIP_CERT:-}"
    if [[ -z "${cert}" ]] && command -v python3 >/dev/null 2>&1; then
        cert="$(python3 -m pip config get global.cert 2>/dev/null || true)"
    fi
    if [[ -z "${cert}" || ! -r "${cert}" ]]; then
        cert=/etc/ssl/certs/ca-certificates.crt
    fi
    printf '%s\n' "${cert}"
}

if [[ "${FORCE:-0}" != 1 ]] && docker image inspect "${tag}" >/dev/null 2>&1; then
    log "${tag} already exists; reusing it (FORCE=1 rebuilds)"
    exit 0
fi

mkdir -p "${cache_dir}"

if [[ "${FORCE:-0}" == 1 || ! -s "${tarball}" ]]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
        log "debootstrap not found (Debian: apt-get install -y debootstrap)"
        exit 1
    fi
    if [[ "$(id -u)" != 0 ]]; then
        log "debootstrap needs root"
        exit 1
    fi
    mirror="${MIRROR:-$(apt_mirror)}"
    if [[ -z "${mirror}" ]]; then
        log "no Debian mirror found in /etc/apt/sources.list{,.d/}; set MIRROR=URL"
        exit 1
    fi
    cert="$(pip_cert)"
    rootfs="$(mktemp -d "${cache_dir}/rootfs.XXXXXX")"
    # Remove the half-built tree on any exit; the finished tarball stays.
    trap 'rm -rf "${rootfs}"' EXIT
    log "debootstrap ${suite} from ${mirror} into ${rootfs} (takes a minute or more)"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        "${suite}" "${rootfs}" "${mirror}" >"${cache_dir}/debootstrap.log" 2>&1 || {
        log "debootstrap failed; last lines of ${cache_dir}/debootstrap.log:"
        tail -n 20 "${cache_dir}/debootstrap.log" >&2
        exit 1
    }
    # Trim what an image never needs: downloaded packages, package lists, documentation, locales.
    rm -rf "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/cache/apt/*.bin \
        "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/log/* "${rootfs}"/tmp/* \
        "${rootfs}"/usr/share/doc/* "${rootfs}"/usr/share/man/* "${rootfs}"/usr/share/info/* \
        "${rootfs}"/usr/share/locale/*
    # A container gets its own resolver and hosts files from the engine.
    : >"${rootfs}/etc/resolv.conf"
    : >"${rootfs}/etc/hostname"
    install -m 0644 "${cert}" "${rootfs}${image_cert}"
    log "packing ${tarball}"
    tar --numeric-owner --xattrs -C "${rootfs}" -czf "${tarball}.tmp" .
    mv "${tarball}.tmp" "${tarball}"
    rm -rf "${rootfs}"
    trap - EXIT
else
    log "reusing ${tarball}"
fi

log "importing ${tarball} as ${tag}"
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "ENV PIP_CERT=${image_cert}" \
    --change 'CMD ["python3"]' \
    --message "stand-in for python:*-slim-${suite}: Debian ${suite} minbase with python3 (build/docker/make-base-image.sh)" \
    "${tarball}" "${tag}" >/dev/null
log "built ${tag} ($(docker image inspect --format '{{.Size}}' "${tag}" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
