#!/bin/sh
# Checks that the Debian packages a make target needs are installed. As root, installs
# the missing ones; otherwise prints the one apt-get line to run and fails.
# usage: scripts/deps.sh build|test
set -eu

build_pkgs="gcc meson ninja-build pkg-config libsqlite3-dev libyaml-dev libmicrohttpd-dev"
test_pkgs="$build_pkgs libcmocka-dev python3 python3-torch python3-sklearn python3-pytest libopenblas0-pthread python3-numpy prometheus wrk libxml2-utils chromium fonts-dejavu-core openssl curl"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    echo "wattprof: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
    exit 0
fi
echo "wattprof: missing Debian packages; run:" >&2
echo "    sudo apt-get install -y$missing" >&2
exit 1
