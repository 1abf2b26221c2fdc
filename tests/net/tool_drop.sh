#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_drop.sh - `ipredir drop`: IPv4 pings from A fail while it runs and
# work again once it has stopped; ICMPv6 is untouched; the summary counts
# exactly the 3 echo requests dropped; its tables go with it; with
# -i lo the pings over v0 are not touched and those to 127.0.0.1 are
# dropped; SIGINT ends it with status 0 and its count; a filter with a test
# left to user space is diverted and dropped by the program, exactly; bad
# input is one line, status 2.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair

ping_case baseline "$NS_A" "$B4" 3
if ! start_tool dr "$NS_A" '^drop: dropping' drop "icmp and ip.DstAddr == $B4"; then
	fail start "ipredir drop did not start"
	finish
fi
if ping_none "$NS_A" "$B4" 3; then
	pass blocked "$(grep -E 'transmitted' <<<"$PING_OUT")"
else
	fail blocked "pings answered while dropping: $(tr '\n' ' ' <<<"$PING_OUT")"
fi
ping_case icmpv6-untouched "$NS_A" "$B6" 3
stop_tool dr
rc=$?
if [ $rc -eq 0 ] && [ "$(field packets)" = 3 ]; then
	pass count "status 0, '$SUMMARY'"
else
	fail count "want status 0 and packets=3; got status $rc, '$SUMMARY'"
	dump dr
fi
check tables-gone "ipredir tables left in A" [ "$(ipr_tables "$NS_A")" -eq 0 ]
ping_case back-after "$NS_A" "$B4" 5

# -i: only the loopback's packets, so v0's pings pass.
if start_tool dl "$NS_A" '^drop: dropping' drop -i lo icmp; then
	ping_case interface-lo-not-v0 "$NS_A" "$B4" 3
	if ping_none "$NS_A" 127.0.0.1 2; then
		pass interface-lo-dropped "pings to 127.0.0.1 dropped"
	else
		fail interface-lo-dropped "$(tr '\n' ' ' <<<"$PING_OUT")"
	fi
	stop_tool dl INT
	rc=$?
	if [ $rc -eq 0 ] && [ "$(field packets)" = 2 ]; then
		pass sigint "status 0, '$SUMMARY'"
	else
		fail sigint "want status 0 and packets=2 after SIGINT; got $rc, '$SUMMARY'"
	fi
else
	fail interface-lo-not-v0 "ipredir drop -i lo did not start"
fi

# A filter the kernel cannot decide alone (udp.PayloadLength is checked in
# user space): diverted and dropped by the program, not by a kernel drop
# rule that would take every datagram to the port.  Three 5-byte and three
# 6-byte datagrams: only the 6-byte ones arrive, and the count is 3.
bg_start ur "$NS_B" "$PY" "$XFER" udp-recv --bind "$B4" --port 5301 \
	--count 6 --print --idle $((2 * TIME_SCALE)) --timeout $((10 * TIME_SCALE))
wait_port "$NS_B" udp 5301 10
if start_tool du "$NS_A" '^drop: dropping' drop "udp.DstPort == 5301 and udp.PayloadLength == 5"; then
	for t in ABCDE ABCDEF ABCDE ABCDEF ABCDE ABCDEF; do
		ip netns exec "$NS_A" "$PY" "$XFER" udp-send --connect "$B4" --port 5301 \
			--text "$t" --timeout 5 >/dev/null 2>&1
	done
	bg_wait ur $((12 * TIME_SCALE))
	got=$(grep -c "len=6 data=b'ABCDEF'" "$TMPD/ur.out")
	short=$(grep -c 'len=5 ' "$TMPD/ur.out")
	stop_tool du
	rc=$?
	if grep -q 'checked in user space.*dropping in this program instead' "$TMPD/du.err" &&
		[ "$got" = 3 ] && [ "$short" = 0 ] && [ $rc -eq 0 ] &&
		[ "$(field packets)" = 3 ]; then
		pass user-space-filter "6-byte datagrams arrived: $got, 5-byte: $short; '$SUMMARY'"
	else
		fail user-space-filter "want 3 of 6 bytes, none of 5, packets=3 and the note; got $got and $short, status $rc, '$SUMMARY': $(head -n 2 "$TMPD/du.err" | tr '\n' '|')"
	fi
else
	fail user-space-filter "ipredir drop with a user-space test did not start"
fi
check user-space-tables-gone "ipredir tables left in A" [ "$(ipr_tables "$NS_A")" -eq 0 ]

bad_input no-filter "$NS_A" "^ipredir drop: a FILTER is needed" drop
bad_input bad-priority "$NS_A" "^ipredir drop: --priority wants .* not '30000'$" drop -p 30000 icmp
bad_input extra-arg "$NS_A" "^ipredir drop: one FILTER expected, got 'udp'" drop icmp udp
finish
