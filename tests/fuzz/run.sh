#!/bin/sh
# Runs each fuzz target for a set time, one after the other, starting from
# its seed corpus; prints its figures; exits 1 if any target found anything.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
set -u
build=$1 secs=$2
shift 2
here=$(dirname "$0")
status=0
printf '%-14s %8s %12s %8s %8s %8s  %s\n' target seconds runs cov feat corpus result
for t in "$@"; do
	work="$build/corpus/$t" findings="$build/findings/$t" log="$build/logs/$t.log"
	mkdir -p "$work" "$findings" "$build/logs"
	dict=""
	[ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	"$build/$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix="$findings/" $dict \
	    "$work" "$here/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '#[0-9]+.*(cov|ft):' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	result=ok
	if [ "$rc" -ne 0 ] || ls "$findings" | grep -q .; then
		result="FINDING (exit $rc): see $log and $findings/"
		status=1
	fi
	printf '%-14s %8s %12s %8s %8s %8s  %s\n' "$t" "$secs" "${runs:-?}" "${cov:-?}" "${ft:-?}" \
	    "${corp:-?}" "$result"
done
exit $status
