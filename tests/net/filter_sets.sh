#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# filter_sets.sh - long filters in the kernel: `ipredir drop @FILE` with
# block lists of 1,000 and 10,000 addresses (one set lookup each) drops
# exactly the listed destinations; a 1,000-term "!=" list (a negated
# lookup) drops everything else; the 900-term port filter that once wrote
# past the netlink buffer opens; 900 orderings, too deep for the kernel,
# are refused with status 1 and the place, not a crash; nothing is left.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair

# list FILE FIELD OP JOIN N [EXTRA...]: N addresses 198.19.x.y (or
# fd00:99::x for ipv6 fields), then the EXTRA values.
list() {
	local file=$1
	shift
	/usr/bin/python3 - "$@" >"$file" <<'EOF'
import sys
field, op, join, n, extra = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
v6 = field.startswith("ipv6")
vals = [("fd00:99::%x" % (i + 1)) if v6 else "198.19.%d.%d" % (i >> 8, i & 255)
        for i in range(n)]
vals += extra
print(join.join("%s %s %s" % (field, op, v) for v in vals))
EOF
}

# blocked CASE FILE NS ADDR: drop @FILE in A, pings from A to ADDR fail,
# and work again after it stops with status 0.
blocked() {
	local c=$1 file=$2 addr=$3
	if ! start_tool "$c" "$NS_A" '^drop: dropping' drop "@$file"; then
		fail "$c" "ipredir drop @$(basename "$file") did not start"
		return
	fi
	if ping_none "$NS_A" "$addr" 3; then
		pass "$c" "$(wc -c <"$file") bytes of filter: $(grep -E 'transmitted' <<<"$PING_OUT")"
	else
		fail "$c" "pings answered: $(tr '\n' ' ' <<<"$PING_OUT")"
	fi
	stop_tool "$c"
	local rc=$?
	check "$c.exit" "status $rc ('$SUMMARY')" [ $rc -eq 0 ]
}

# untouched CASE FILE ADDR: drop @FILE in A, pings to ADDR all answered.
untouched() {
	local c=$1 file=$2 addr=$3
	if ! start_tool "$c" "$NS_A" '^drop: dropping' drop "@$file"; then
		fail "$c" "ipredir drop @$(basename "$file") did not start"
		return
	fi
	ping_case "$c" "$NS_A" "$addr" 3
	stop_tool "$c"
}

ping_case baseline "$NS_A" "$B4" 3

list "$TMPD/in1k" ip.DstAddr == " or " 1000 "$B4"
blocked list-1000-listed "$TMPD/in1k" "$B4"
list "$TMPD/out1k" ip.DstAddr == " or " 1000
untouched list-1000-not-listed "$TMPD/out1k" "$B4"
list "$TMPD/in10k" ip.DstAddr == " or " 10000 "$B4"
blocked list-10000-listed "$TMPD/in10k" "$B4"
list "$TMPD/v6" ipv6.DstAddr == " or " 1000 "$B6"
blocked list-ipv6-listed "$TMPD/v6" "$B6"
ping_case list-ipv6-v4-untouched-after "$NS_A" "$B4" 3

# "!=" lists: everything but the listed is dropped (the echo request to
# B4 on the way out, or its reply to A4 on the way in)
list "$TMPD/ne" ip.DstAddr != " and " 1000 "$A4"
blocked not-list-drops-others "$TMPD/ne" "$B4"
list "$TMPD/ne-b" ip.DstAddr != " and " 1000 "$B4"
blocked not-list-drops-replies "$TMPD/ne-b" "$B4"
list "$TMPD/ne-ab" ip.DstAddr != " and " 1000 "$B4" "$A4"
untouched not-list-spares-listed "$TMPD/ne-ab" "$B4"

# The 900-term filter of the heap overflow: it opens now (one negated
# lookup), and leaves ICMP alone.
/usr/bin/python3 -c "print('&&'.join('tcp.SrcPort!=%d' % i for i in range(1, 901)))" \
	>"$TMPD/ports"
untouched ports-900 "$TMPD/ports" "$B4"

# Too deep for the kernel: status 1, the limit and the place, no table.
/usr/bin/python3 -c "print('&&'.join('tcp.SrcPort>%d' % i for i in range(1, 901)))" \
	>"$TMPD/deep"
t0=$(ipr_tables "$NS_A")
out=$(ip netns exec "$NS_A" timeout 20 "$IPREDIR" drop "@$TMPD/deep" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q 'nested more than' <<<"$out" &&
	grep -q 'at position' <<<"$out" && [ "$(ipr_tables "$NS_A")" -eq "$t0" ]; then
	pass too-deep "status 1: $(sed -n 2p <<<"$out" | cut -c1-120)"
else
	fail too-deep "status $rc: $(head -c 400 <<<"$out")"
fi
check no-tables-left "$(ipr_tables "$NS_A") tables left in A" [ "$(ipr_tables "$NS_A")" -eq 0 ]
finish
