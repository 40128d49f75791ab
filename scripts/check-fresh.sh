#!/bin/sh
# make check-fresh: the README's first steps on a minimal Debian 12, so that
# a missing dependency shows up here instead of on a user's machine.  Needs
# root; not part of make check.
#   1. a root filesystem: mmdebstrap --variant=minbase bookworm, from the
#      mirrors this machine's apt uses (MIRROR= overrides them)
#   2. the working tree copied into it (the files git lists, tracked and
#      untracked, not ignored: uncommitted changes included), no ../shared
#   3. inside (chroot, /proc, /sys and /dev mounted): apt-get install make;
#      make demo (must work); make check (must stop at once, naming SHARED=,
#      before installing anything)
#   4. the specification folder SHARED copied beside the tree: make deb
#   5. a second minimal root filesystem, without the build's packages: the
#      .deb installed with apt-get (it brings only what the package
#      declares), the unit's ExecStartPre, its ExecStart in the background
#      and its ExecReload: a good configuration reloads (exit 0), a broken
#      one is refused (non-zero exit)
#   6. FULL=1: the whole make check in the first one as well (long)
# Prints the time of each step and in all.  The mounts and the root
# filesystem are removed at the end (KEEP=1 keeps the filesystem; the logs
# of a failed run are kept).
# Usage: scripts/check-fresh.sh SHARED
set -u
shared=$(cd "${1:-../shared}" 2>/dev/null && pwd) || shared=""
repo=$(cd "$(dirname "$0")/.." && pwd)
keep=${KEEP:-}
full=${FULL:-}
t_start=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
	echo "check-fresh: needs root (it builds a root filesystem and runs in it with chroot)" >&2
	exit 2
fi
if [ -z "$shared" ]; then
	echo "check-fresh: no specification folder at ${1:-../shared}; its second half needs it" \
	     "(make check-fresh SHARED=/path/to/shared)" >&2
	exit 2
fi
if ! command -v mmdebstrap >/dev/null; then
	echo "check-fresh: installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap \
		</dev/null || exit 1
fi

work=$(mktemp -d /var/tmp/gluemetad-fresh.XXXXXX) || exit 1
build=$work/build               # the machine the README's commands run on
runtime=$work/runtime           # one that only installs the package
root=$build
logs=$work/logs
mkdir -p "$logs"
status=0

# The root filesystem bound onto itself first: / inside is then a mount
# point, as on a real machine (unshare -m --propagation needs that).
mount_in() {
	mount --bind "$1" "$1" && mount -t proc proc "$1/proc" &&
		mount -t sysfs sysfs "$1/sys" && mount --bind /dev "$1/dev" || { status=1; exit 1; }
}
unmount() {
	for r in "$build" "$runtime"; do
		for m in /dev /sys /proc ""; do
			if mountpoint -q "$r$m" 2>/dev/null; then
				umount "$r$m" || umount -l "$r$m"
			fi
		done
	done
}
cleanup() {
	unmount
	if [ -n "$keep" ]; then
		echo "check-fresh: kept $work (root filesystems build/ and runtime/, logs/)"
	elif [ $status -ne 0 ]; then
		# --one-file-system: never into a mount that failed to go
		rm -rf --one-file-system "$build" "$runtime"
		echo "check-fresh: logs kept in $logs"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap 'cleanup' EXIT
trap 'status=1; exit 1' INT TERM HUP

# Runs a step, timed, its output in logs/NAME.log: "step NAME EXPECT CMD...";
# EXPECT ok (exit 0) or fail (non-zero).  On a surprise the log's end is shown.
n=0
step() {
	name=$1 expect=$2
	shift 2
	n=$((n + 1))
	t0=$(date +%s)
	printf '==== %d. %s\n' "$n" "$name"
	"$@" >"$logs/$name.log" 2>&1 </dev/null
	rc=$?
	secs=$(($(date +%s) - t0))
	if { [ "$expect" = ok ] && [ $rc -eq 0 ]; } || { [ "$expect" = fail ] && [ $rc -ne 0 ]; }; then
		printf '     %s (exit %d, %ds)\n' "$([ "$expect" = ok ] && echo done || echo failed as it must)" $rc $secs
		return 0
	fi
	printf '     UNEXPECTED: exit %d after %ds; the end of %s:\n' $rc $secs "$logs/$name.log"
	tail -n 40 "$logs/$name.log" | sed 's/^/     | /'
	status=1
	exit 1
}
# A command inside $root, in the copy of the repository (else /root), with
# a clean environment (a root shell on the new machine).
inside() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/sh -c "cd /root/src/gluemetad 2>/dev/null || cd /root; $1"
}
show() {       # lines of a step's log worth seeing here
	grep -E "$2" "$logs/$1.log" | sed 's/^/     > /'
}

# 1. the root filesystem, from this machine's mirrors
if [ -n "${MIRROR:-}" ]; then
	set -- "$MIRROR"
else
	set --
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -q '^[[:space:]]*\(deb[[:space:]]\|URIs:\)' "$f" && set -- "$@" "$f"
	done
fi
echo "check-fresh: Debian 12 (minbase) in $work, from ${*:-deb.debian.org}"
step rootfs ok mmdebstrap --variant=minbase bookworm "$build" "$@"
mount_in "$build"

# 2. the working tree as a clone has it, without ../shared
mkdir -p "$root/root/src/gluemetad"
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$repo" ls-files -co --exclude-standard |
		while IFS= read -r f; do [ -e "$repo/$f" ] && printf '%s\n' "$f"; done >"$logs/files"
else
	(cd "$repo" && find . -path ./build -prune -o -type f -print) >"$logs/files"
fi
tar -C "$repo" -cf - -T "$logs/files" | tar -C "$root/root/src/gluemetad" -xf - ||
	{ status=1; exit 1; }
echo "     $(wc -l <"$logs/files") files of $repo copied to /root/src/gluemetad"

# 3. the repository alone
step apt-get-install-make ok inside "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y make"
step make-demo ok inside "make demo"
show make-demo '^== no specification folder|^== the demo estate|^  (Source|Sink) |^Total (processed records|warnings)'
step make-check-without-shared fail inside "make check"
show make-check-without-shared 'specification folder|SHARED='
if ! grep -q 'SHARED=' "$logs/make-check-without-shared.log" ||
	inside "dpkg-query -W -f='\${Status}' valgrind 2>/dev/null | grep -q 'ok installed'"; then
	echo "     UNEXPECTED: make check did not stop at once with the message naming SHARED="
	status=1
	exit 1
fi

# 4. with the specification folder: the package, installed, reloaded
cp -a "$shared" "$root/root/src/shared" || { status=1; exit 1; }
echo "     $shared copied to /root/src/shared"
step make-deb ok inside "make deb"
deb=$(ls "$build"/root/src/gluemetad/build/deb/gluemetad_*.deb | grep -v dbgsym | head -n 1)
echo "     $(basename "$deb"), Depends: $(dpkg-deb -f "$deb" Depends)"

# 5. the package alone on a minimal system
step rootfs-runtime ok mmdebstrap --variant=minbase bookworm "$runtime" "$@"
mount_in "$runtime"
root=$runtime
cp "$deb" "$runtime/root/" || { status=1; exit 1; }
step apt-get-install-deb ok inside \
	"apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ./$(basename "$deb")"
echo "     new packages: $(sed -n '/^The following NEW packages/,/^[^ ]/{/^  /p}' "$logs/apt-get-install-deb.log" |
	tr -s ' \n' ' ')"
step unit-reload ok inside '
set -e
unit=/lib/systemd/system/gluemetad.service
pre=$(sed -n "s/^ExecStartPre=//p" $unit)
start=$(sed -n "s/^ExecStart=//p" $unit)
reload=$(sed -n "s/^ExecReload=//p" $unit)
mkdir -p /etc/gluemetad/workflows /run/gluemetad /var/lib/gluemetad
cp /usr/share/doc/gluemetad/examples/demo.yaml /etc/gluemetad/workflows/demo.yaml
cat >/etc/gluemetad/gluemetad.yaml <<END
socket: /run/gluemetad/gluemetad.sock
state_dir: /var/lib/gluemetad
workflows:
  - name: demo
    file: workflows/demo.yaml
    schedule: "0 0 1 1 *"
    timezone: Europe/Berlin
END
echo "+ $pre"
$pre
echo "+ $start &"
$start >/var/log/gluemetad-daemon.log 2>&1 &
pid=$!
i=0
while [ ! -S /run/gluemetad/gluemetad.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "+ $reload"
$reload
sed -i "s/\"0 0 1 1 \*\"/\"not a schedule\"/" /etc/gluemetad/gluemetad.yaml
echo "+ $reload   (the configuration broken: must be refused)"
if $reload; then echo "a broken configuration was taken"; kill $pid; exit 1; fi
kill -TERM $pid
wait $pid
echo "daemon stopped: exit $?"
'
show unit-reload '^\+ |^reloaded|^gluemetactl:|^daemon stopped'

# 6. optional: the whole suite on the minimal system
if [ -n "$full" ]; then
	root=$build
	step make-check ok inside "make check"
	show make-check '^  [a-z-]+ +[0-9]+s|^  total|left no process'
fi

echo "check-fresh: passed in $(($(date +%s) - t_start))s"
