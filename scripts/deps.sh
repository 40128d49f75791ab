#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages gluemetad needs
# to build, to run its tests and to package it.
# Usage: scripts/deps.sh [build|test|packaging]
set -eu
BUILD_PKGS="gcc make pkg-config libuv1-dev libcurl4-openssl-dev libyaml-dev libcjson-dev libssl-dev libsystemd-dev"
TEST_PKGS="tzdata libcmocka-dev python3 python3-yaml python3-jsonschema valgrind openssl clang libclang-rt-14-dev"
PACKAGING_PKGS="debhelper dpkg-dev lintian fakeroot rpm mandoc systemd"
want="$BUILD_PKGS"
[ "${1:-build}" = test ] && want="$BUILD_PKGS $TEST_PKGS"
[ "${1:-build}" = packaging ] && want="$BUILD_PKGS $PACKAGING_PKGS"
missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
