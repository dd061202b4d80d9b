#!/bin/sh
# Install what the tests drive but pip cannot provide, when it is missing:
#   chromium (browser tests), docker.io + debootstrap + the Compose v2 plugin (container tests),
#   prometheus (promtool and a real Prometheus for the monitoring tests).
# Only as root on Debian/Ubuntu (apt-get); elsewhere it says what is missing and the tests that
# need it fail with a line saying how to get it. One apt transaction: apt allows one at a time.
set -u
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v dockerd >/dev/null 2>&1 || missing="$missing docker.io"
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
plugin=/usr/local/lib/docker/cli-plugins/docker-compose
need_compose=0
docker compose version >/dev/null 2>&1 || need_compose=1

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    [ -n "$missing" ] && echo "not installed (needs root and apt-get):$missing" >&2
    [ "$need_compose" = 1 ] && echo "the Docker Compose v2 plugin is missing: https://docs.docker.com/compose/install/" >&2
    exit 0
fi

apt() { DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 "$@"; }
if [ -n "$missing" ]; then
    echo "installing Debian packages for the tests:$missing ..."
    # shellcheck disable=SC2086  # one word per package
    (apt update && apt install -y --no-install-recommends $missing) >/dev/null || echo "apt-get install failed:$missing" >&2
fi

# Compose v2 is not in bookworm: take the static plugin from trixie's docker-compose package,
# with a private source list (the machine's apt configuration stays as it is).
if [ "$need_compose" = 1 ] && ! docker compose version >/dev/null 2>&1; then
    echo "installing the Docker Compose v2 plugin from Debian trixie's docker-compose package ..."
    work=$(mktemp -d)
    mkdir -p "$work/lists/partial" "$work/dl"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        > "$work/sources.list"
    opts="-o Dir::Etc::sourcelist=$work/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$work/lists"
    # shellcheck disable=SC2086
    if apt $opts update >/dev/null && (cd "$work/dl" && apt $opts download docker-compose >/dev/null 2>&1); then
        dpkg -x "$work"/dl/docker-compose_*.deb "$work/x"
        mkdir -p "$(dirname "$plugin")"
        cp "$work/x/usr/libexec/docker/cli-plugins/docker-compose" "$plugin"
    else
        echo "could not download trixie's docker-compose" >&2
    fi
    rm -rf "$work"
fi
exit 0
