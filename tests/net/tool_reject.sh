#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_reject.sh - `ipredir reject`: with servers listening in B, a TCP
# connect from A fails with ECONNREFUSED (a reset) within 100 ms, over IPv4
# and IPv6, whether the reject runs in A (outbound) or in B (inbound); a
# datagram on a connected UDP socket gets ECONNREFUSED (ICMP / ICMPv6 port
# unreachable) at once; the summary counts them; after it stops the
# servers are reached; bad input is one line, status 2.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair

# refused CASE NS ADDR PORT tcp|udp: connect (or send) from NS; want
# ECONNREFUSED within 100 ms.
refused() {
	local c=$1 ns=$2 addr=$3 port=$4 proto=$5 res ms
	if [ "$proto" = tcp ]; then
		res=$(ip netns exec "$ns" "$PY" "$HELPER" connect-time --connect "$addr" --port "$port" --timeout 3)
	else
		res=$(ip netns exec "$ns" "$PY" "$HELPER" udp-refused --connect "$addr" --port "$port" --timeout 3)
	fi
	ms=$(sed -nE 's/.* ms=([0-9.]+)/\1/p' <<<"$res")
	if grep -q 'result=ECONNREFUSED' <<<"$res" && in_range "$ms" 0 100; then
		pass "$c" "$res"
	else
		fail "$c" "want ECONNREFUSED within 100 ms: $res"
	fi
}

# Servers in B that would accept if nothing stood in the way.
for p in 5810 5812; do
	bg_start "srv4-$p" "$NS_B" "$PY" "$HELPER" text-server --bind "$B4" --port $p --count 1 --timeout 60
	bg_start "srv6-$p" "$NS_B" "$PY" "$HELPER" text-server --bind "$B6" --port $p --count 1 --timeout 60
done
bg_start u4 "$NS_B" "$PY" "$XFER" udp-recv --bind "$B4" --port 5811 --count 1 --timeout 60 --print
bg_start u6 "$NS_B" "$PY" "$XFER" udp-recv --bind "$B6" --port 5811 --count 1 --timeout 60 --print
if ! { wait_port "$NS_B" tcp 5810 && wait_port "$NS_B" tcp 5812 && wait_port "$NS_B" udp 5811; }; then
	fail servers "servers in B did not start"
	finish
fi

if start_tool rj "$NS_A" '^reject: rejecting' reject \
	'outbound and (tcp.DstPort == 5810 or udp.DstPort == 5811)'; then
	refused tcp4-outbound "$NS_A" "$B4" 5810 tcp
	refused tcp6-outbound "$NS_A" "$B6" 5810 tcp
	refused udp4-outbound "$NS_A" "$B4" 5811 udp
	refused udp6-outbound "$NS_A" "$B6" 5811 udp
	stop_tool rj
	rc=$?
	if [ $rc -eq 0 ] && [ "$(field resets)" -ge 2 ] && [ "$(field icmp)" -ge 2 ]; then
		pass summary "$SUMMARY"
	else
		fail summary "want status 0, resets >= 2, icmp >= 2; got status $rc, '$SUMMARY'"
	fi
else
	fail tcp4-outbound "ipredir reject did not start in A"
fi

if start_tool rb "$NS_B" '^reject: rejecting' reject 'inbound and tcp.DstPort == 5812'; then
	refused tcp4-inbound "$NS_A" "$B4" 5812 tcp
	refused tcp6-inbound "$NS_A" "$B6" 5812 tcp
	stop_tool rb
else
	fail tcp4-inbound "ipredir reject did not start in B"
fi

# Nothing in the way any more: the servers answer.
res=$(ip netns exec "$NS_A" "$PY" "$HELPER" connect-time --connect "$B4" --port 5810 --timeout 3)
check after "after the reject stopped: $res" grep -q 'result=connected' <<<"$res"

bad_input no-filter "$NS_A" "^ipredir reject: a FILTER is needed" reject
bad_input bad-priority "$NS_A" "^ipredir reject: --priority wants .* not 'high'$" reject -p high tcp
bad_input bad-option "$NS_A" "^ipredir reject: unknown option '--with'" reject --with tcp-reset tcp
finish
