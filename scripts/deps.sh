#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages a make target
# needs:
#   build      gluemetad and gluemetactl
#   demo       build, and the stand-ins make demo runs (python3; with the
#              specification folder SHARED, python3-jsonschema to check
#              requests against OpenMetadata's schemas)
#   test       build, and make check's tools (cmocka, valgrind, clang,
#              promtool from prometheus...)
#   bench      test, and curl (make bench measures the stand-ins with it)
#   packaging  build, and what make deb / make rpm run
#   image      what make image runs (mmdebstrap, podman with runc)
#   deploy     what make check-deploy runs (node and npm, python3-yaml)
# Usage: scripts/deps.sh [build|demo|test|bench|packaging|image|deploy] [SHARED]
set -eu
BUILD_PKGS="gcc libc6-dev make pkg-config libuv1-dev libcurl4-openssl-dev libyaml-dev libcjson-dev libssl-dev libsystemd-dev"
DEMO_PKGS="python3"
TEST_PKGS="tzdata libcmocka-dev python3 python3-yaml python3-jsonschema python3-croniter faketime valgrind openssl clang libclang-rt-14-dev procps prometheus"
PACKAGING_PKGS="build-essential debhelper dpkg-dev lintian fakeroot rpm mandoc systemd"
IMAGE_PKGS="mmdebstrap podman runc python3"
DEPLOY_PKGS="nodejs npm python3 python3-yaml"
case "${1:-build}" in
build) want="$BUILD_PKGS" ;;
demo)
	want="$BUILD_PKGS $DEMO_PKGS"
	[ -d "${2:-../shared}/openmetadata-spec" ] && want="$want python3-jsonschema"
	;;
test) want="$BUILD_PKGS $TEST_PKGS" ;;
bench) want="$BUILD_PKGS $TEST_PKGS curl" ;;
packaging) want="$BUILD_PKGS $PACKAGING_PKGS" ;;
image) want="$IMAGE_PKGS" ;;
deploy) want="$DEPLOY_PKGS" ;;
*)
	echo "usage: scripts/deps.sh [build|demo|test|bench|packaging|image|deploy] [SHARED]" >&2
	exit 2
	;;
esac
missing=""
for p in $want; do
	# a node that brings its own npm (another vendor's nodejs package)
	# counts: Debian's npm cannot be installed beside it
	case $p in npm) command -v npm >/dev/null 2>&1 && continue ;; esac
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
	echo "deps: install them as root with: apt-get install$missing" >&2
	exit 1
fi
