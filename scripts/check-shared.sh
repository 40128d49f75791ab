#!/bin/sh
# make check-shared: stops make check (and its phases) at once when the
# specification folder the tests check gluemetad against is missing.  It
# stays outside the repository; SHARED names it (default ../shared).
# Usage: scripts/check-shared.sh SHARED
set -u
dir=${1:-../shared}
missing=""
for p in aws-models/glue aws-models/sts aws-models/secretsmanager aws-models/ssm \
	aws-models/partitions.json aws-protocol-tests/output/json.json \
	aws-sigv4-testsuite aws-sigv4-derived \
	openmetadata-spec/validate.py openmetadata-spec/json/schema \
	openmetadata-spec/examples/gluepipeline.yaml; do
	[ -e "$dir/$p" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -d "$dir" ]; then
	echo "make: the specification folder $dir lacks:$missing" >&2
else
	echo "make: no specification folder at $dir" >&2
fi
cat >&2 <<END
The tests check gluemetad against the real specifications, kept outside the
repository in the folder SHARED names (default ../shared, beside the checkout):
  aws-models/          AWS's service models (botocore service-2.json for glue,
                       sts, secretsmanager and ssm; partitions.json)
  aws-protocol-tests/  AWS's JSON protocol test cases (output/json.json)
  aws-sigv4-testsuite/ AWS's SigV4 test suite
  aws-sigv4-derived/   SigV4 cases derived from it for Glue and STS
  openmetadata-spec/   OpenMetadata's JSON schemas, validate.py and examples/
Put it there, or name it:  make check SHARED=/path/to/shared
(make demo runs without it.)
END
exit 1
