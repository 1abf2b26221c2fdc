#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# python.sh - the Python binding's pytest suite (tests/py) with Debian's
# python3-pytest, one PASS/FAIL/SKIP line per pytest case.  The unit tests
# need no root; the namespace tests make their own pair (ipredir-<owner>-
# <pid>-pyA/pyB), deleted by pytest and again here whatever happens.
# pytest's status 5 (no test collected) and 2-4 (interrupted, internal or
# usage error) are failures, never a silent pass.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"

[ -x "$PY" ] || skip_all "no $PY (run scripts/deps)"
"$PY" -c 'import pytest' 2>/dev/null ||
	skip_all "Debian's python3-pytest is not installed (run scripts/deps)"
need_file "$BUILD/libipredir.so.0"

export IPR_NS_TAG=$NS_TAG
export IPREDIR_LIB=$BUILD/libipredir.so.0
# A sanitizer build (make check-sanitize): the runtimes must come first in
# the interpreter, which is not built with them; Python's own allocations
# at exit are not leaks of ours.
san=$(ldd "$IPREDIR_LIB" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')
if [ -n "$san" ]; then
	export LD_PRELOAD="$san${LD_PRELOAD:-}"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
	echo "# sanitizer build: LD_PRELOAD=$LD_PRELOAD"
fi
XML=$TMPD/junit.xml
# Namespaces pytest made, should it die before its own teardown.
_py_ns_cleanup() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk -v p="$NS_TAG-py" 'index($1, p) == 1 { print $1 }'); do
		_NSS+=("$ns")
	done
}
cd "$ROOT" || exit 1
"$PY" -m pytest -p no:cacheprovider -q -rfEs --junitxml="$XML" \
	-o junit_family=xunit1 ${PYTEST_ARGS:-} tests/py 2>&1 | sed 's/^/  | /'
rc=${PIPESTATUS[0]}
_py_ns_cleanup

case $rc in
0 | 1) ;;
5) fail pytest "pytest collected no test (status 5)" ;;
*) fail pytest "pytest ended with status $rc (interrupted, internal or usage error)" ;;
esac

if [ -s "$XML" ]; then
	# One line per test case, in the runner's protocol.
	"$PY" - "$XML" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
n = 0
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    n += 1
    mod = tc.get("classname", "").split(".")[-1]
    name = f"python.{mod}.{tc.get('name')}"
    bad = tc.find("failure")
    if bad is None:
        bad = tc.find("error")
    skipped = tc.find("skipped")
    def first(e):
        m = (e.get("message") or e.text or "").strip().splitlines()
        return (m[0] if m else "no message")[:300]
    if bad is not None:
        print(f"FAIL {name}: {first(bad)}")
    elif skipped is not None:
        print(f"SKIP {name}: {first(skipped)}")
    else:
        print(f"PASS {name}")
if n == 0:
    print("FAIL python.collect: no test case in pytest's report")
PYEOF
elif [ "$rc" -le 1 ]; then
	fail report "pytest wrote no report ($XML)"
fi
[ "$rc" -eq 0 ] || FAILS=$((FAILS + 1))
finish
