#!/usr/bin/env bash
# Make Docker usable for the sandbox: install docker.io and debootstrap with apt-get when
# missing, start dockerd in the background when it is not running, and wait until
# `docker info` works. Idempotent; used by .ci/run and setup scripts. Needs root (or sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"

missing=()
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "ensure_docker: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2046
    $SUDO apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >&2
fi

if docker info >/dev/null 2>&1; then
    echo "ensure_docker: docker is ready" >&2
    exit 0
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
    echo "ensure_docker: starting dockerd (log: $LOG)" >&2
    if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
        $SUDO systemctl start docker || true
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        $SUDO sh -c "nohup dockerd > '$LOG' 2>&1 &"
    fi
fi

for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
        echo "ensure_docker: docker is ready" >&2
        exit 0
    fi
    sleep 1
done
echo "ensure_docker: dockerd did not come up in 60 s; see $LOG" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
