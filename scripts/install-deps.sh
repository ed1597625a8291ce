#!/bin/bash
# Installs what building, running and testing Storj Registry needs on
# Debian 12 / Ubuntu 22.04+, with apt-get (and npm for the browser tests).
#
#   scripts/install-deps.sh          build + run: compiler, libraries, Docker
#   scripts/install-deps.sh --test   also the test tools: Ceph RGW, Debian's
#                                    registry, Chromium, valgrind, clang, ...
# Only installs what is missing; needs root (or sudo) when something is.
set -euo pipefail

BUILD="build-essential pkg-config libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev libcrypt-dev libsqlite3-dev libyaml-dev"
RUN="docker.io curl ca-certificates"
TEST="libcmocka-dev valgrind clang libclang-rt-14-dev jq docker-registry ceph-mon ceph-osd radosgw
      chromium debootstrap nodejs npm python3 uuid-runtime iproute2 procps clang-format cppcheck
      busybox-static xz-utils strace openssl"
# distribution v3.0.0 (the registry the suites run) builds with Go 1.23, which
# Debian 12 has in bookworm-backports only
BACKPORTS="golang-1.23-go"
# The multi-arch extension image (make extension) needs only Docker here: the
# cross compiler (gcc-aarch64-linux-gnu / gcc-x86-64-linux-gnu) and the other
# architecture's libraries (libssl-dev:arm64, ...) are installed inside the
# Dockerfile's build stage. Its test runs the arm64 backend under Debian's
# qemu-aarch64-static (explicitly, no binfmt registration needed).
TEST="$TEST qemu-user-static"
# The team bundle's suite (tests/integration/test_team.sh) brings the exported
# compose.yaml up with Debian's docker-compose and checks the Kubernetes and
# Helm files with PyYAML (python3-yaml, a dependency of docker-compose)
TEST="$TEST docker-compose python3-yaml"

want="$BUILD $RUN"
[ "${1:-}" = --test ] && want="$want $TEST $BACKPORTS"
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
from_backports=()
for p in $BACKPORTS; do
  [[ " ${missing[*]} " == *" $p "* ]] || continue
  from_backports+=("$p")
  missing=("${missing[@]/$p/}")
done
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
# bookworm-backports from the mirror the main suite uses, when no source
# names it yet (Debian 12 only: elsewhere install Go 1.23 by other means)
if [ ${#from_backports[@]} -gt 0 ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
      sed -n -e 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) bookworm .*/\2/p' -e 's/^URIs: *\([^ ]*\).*/\1/p' |
      grep -v security | grep -m1 debian || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    echo "install-deps: enabling bookworm-backports from $mirror"
    echo "deb $mirror bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  else
    echo "install-deps: ${from_backports[*]} comes from Debian 12's bookworm-backports; install Go 1.23 yourself (SRT_GO=/path/to/go)" >&2
    from_backports=()
  fi
fi
echo "install-deps: installing ${missing[*]} ${from_backports[*]}"
$SUDO apt-get update -q
[ ${#missing[@]} -eq 0 ] ||
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
[ ${#from_backports[@]} -eq 0 ] ||
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports "${from_backports[@]}"
