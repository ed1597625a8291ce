#!/bin/bash
# Installs what building, running and testing Storj Registry needs on
# Debian 12 / Ubuntu 22.04+, with apt-get (and npm for the browser tests).
#
#   scripts/install-deps.sh          build + run: compiler, libraries, Docker
#   scripts/install-deps.sh --test   also the test tools: Ceph RGW, Debian's
#                                    registry, Chromium, valgrind, clang, ...
# Only installs what is missing; needs root (or sudo) when something is.
set -euo pipefail

BUILD="build-essential pkg-config libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev"
RUN="docker.io curl ca-certificates"
TEST="libcmocka-dev valgrind clang libclang-rt-14-dev jq docker-registry ceph-mon ceph-osd radosgw
      chromium debootstrap nodejs npm python3 uuid-runtime iproute2 procps clang-format cppcheck"
# The multi-arch extension image (make extension) needs only Docker here: the
# cross compiler (gcc-aarch64-linux-gnu / gcc-x86-64-linux-gnu) and the other
# architecture's libraries (libssl-dev:arm64, ...) are installed inside the
# Dockerfile's build stage. Its test runs the arm64 backend under Debian's
# qemu-aarch64-static (explicitly, no binfmt registration needed).
TEST="$TEST qemu-user-static"

want="$BUILD $RUN"
[ "${1:-}" = --test ] && want="$want $TEST"
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# a docker client alone is not enough: we need an engine or a socket
if [[ " ${missing[*]} " == *" docker.io "* ]] && { [ -S /var/run/docker.sock ] || command -v dockerd >/dev/null; }; then
  missing=("${missing[@]/docker.io/}")
fi
# node from another source is fine for the browser tests
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
