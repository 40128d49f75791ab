#!/bin/sh
# make check: the phases one after the other, each timed.  At the end: the
# wall time of each phase, the ten slowest classes of each integration
# pass, and a check that the run left no process and no file behind.
# Every temporary file of the run is under one directory of its own
# ($TMPDIR/gluemetad-check.XXXXXX), removed at the end.
# Usage: tests/check.sh PHASE...   (each PHASE a make target)
set -u
MAKE=${MAKE:-make}
repo=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gluemetad-check.XXXXXX") || exit 1
# others may pass through, not list it: the packaging test runs the
# installed daemon as its own user on a configuration below it
chmod 0711 "$tmp"
times="$tmp/.times" summaries="$tmp/.summaries"
export TMPDIR="$tmp" GLUEMETAD_SUMMARY="$summaries"
: >"$times"
: >"$summaries"
status=0
start=$(date +%s)
for phase in "$@"; do
	t0=$(date +%s)
	echo "==== make $phase"
	if $MAKE --no-print-directory "$phase"; then result=ok; else result=FAILED; status=1; fi
	echo "$phase $(( $(date +%s) - t0 )) $result" >>"$times"
	[ $status -eq 0 ] || break
done

# nothing left behind: no process started from this checkout or this run's
# temporary directory, no file in that directory
left=""
for d in /proc/[0-9]*; do
	pid=${d#/proc/}
	[ "$pid" = $$ ] && continue
	cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
	case "$cmd" in
	*tests/check.sh*|"") ;;
	*"$tmp"*|*"$repo/build/"*|*"$repo/tests/"*) left="$left
  process $pid: $cmd" ;;
	esac
done
files=$(find "$tmp" -mindepth 1 ! -name .times ! -name .summaries 2>/dev/null | head -20)
[ -n "$files" ] && left="$left
$(echo "$files" | sed 's/^/  file /')"

echo
echo "==== make check: phases"
while read -r phase secs result; do
	printf '  %-22s %5ss  %s\n' "$phase" "$secs" "$result"
done <"$times"
printf '  %-22s %5ss\n' total "$(( $(date +%s) - start ))"
if [ -s "$summaries" ]; then
	echo
	cat "$summaries"
fi
if [ -n "$left" ]; then
	echo
	echo "make check left these behind:$left"
	status=1
else
	echo "make check left no process and no file behind"
fi
rm -rf "$tmp"
exit $status
