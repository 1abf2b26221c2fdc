#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_redirect.sh - `ipredir redirect` in A:
#   remote    a connection from A to 198.18.1.99 port 80 (no such host) is
#             served by B's server on 198.18.1.2 port 8080; the client's
#             socket has 198.18.1.99 port 80 as its peer before and after,
#             and the server sees the client's own address
#   ipv6      the same to [fd00:1::99]:80, served by [fd00:1::2]:8080
#   bulk      4 MB each way through it (to 198.18.1.99 port 81, served on
#             port 8082) arrive intact
#   local     a connection to B port 80 goes to a local "proxy" on A's own
#             address port 8081, over the loopback; the peer stays B:80
#   summary   status 0 and the flows counted on SIGTERM; after it stops, a
#             connection to 198.18.1.99 port 80 no longer gets through
#   bad input one line quoting it, status 2
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair
V4=198.18.1.99 V6=fd00:1::99

# client CASE ADDR PORT WANT_TEXT WANT_PEER_ADDR: connect from A; the
# server's line must start with WANT_TEXT and the peer must stay
# WANT_PEER_ADDR port PORT.
client() {
	local c=$1 addr=$2 port=$3 text=$4 peer=$5 out
	out=$(ip netns exec "$NS_A" "$PY" "$HELPER" text-client --connect "$addr" --port "$port" --timeout 5 2>&1)
	if grep -qx "peer-before $peer $port" <<<"$out" &&
		grep -qx "peer-after $peer $port" <<<"$out" &&
		grep -Eq "^got $text " <<<"$out"; then
		pass "$c" "$(tr '\n' ';' <<<"$out")"
	else
		fail "$c" "want peer $peer $port throughout and '$text ...'; got: $(tr '\n' ';' <<<"$out")"
	fi
}

bg_start s4 "$NS_B" "$PY" "$HELPER" text-server --bind "$B4" --port 8080 --text served-8080 --count 3 --timeout 60
bg_start s6 "$NS_B" "$PY" "$HELPER" text-server --bind "$B6" --port 8080 --text served-8080-v6 --count 2 --timeout 60
bg_start sl "$NS_A" "$PY" "$HELPER" text-server --bind "$A4" --port 8081 --text local-8081 --count 2 --timeout 60
{ wait_port "$NS_B" tcp 8080 && wait_port "$NS_A" tcp 8081; } ||
	{ fail servers "servers did not start"; finish; }
# A's route to the nowhere addresses: the on-link /24 and /64 cover them.

if start_tool r4 "$NS_A" '^redirect: running' redirect -v --to "$B4:8080" \
	"outbound and tcp.DstPort == 80 and ip.DstAddr == $V4"; then
	client remote "$V4" 80 "served-8080 8080 $A4" "$V4"
	client remote-again "$V4" 80 "served-8080 8080 $A4" "$V4"
	stop_tool r4
	rc=$?
	if [ $rc -eq 0 ] && [ "$(field flows)" = 2 ] && [ "$(field failed)" = 0 ] &&
		[ "$(grep -c '^flow TCP' "$TMPD/r4.out")" = 2 ]; then
		pass summary "$SUMMARY"
	else
		fail summary "want status 0, flows=2, failed=0 and 2 flow lines; got $rc, '$SUMMARY'"
		dump r4
	fi
else
	fail remote "ipredir redirect did not start"
fi
out=$(ip netns exec "$NS_A" "$PY" "$HELPER" connect-time --connect "$V4" --port 80 --timeout 1)
check gone-after "after it stopped: $out" grep -Eq 'result=(TIMEOUT|EHOSTUNREACH)' <<<"$out"

# Bulk both ways through the rewriting: every checksum must be right.
if start_tool rb "$NS_A" '^redirect: running' redirect --to "$B4:8082" \
	"outbound and tcp.DstPort == 81 and ip.DstAddr == $V4"; then
	bg_start bulk-srv "$NS_B" "$PY" "$XFER" tcp-server --bind "$B4" --port 8082 \
		--send $((4 << 20)) --recv $((4 << 20)) --seed 81 --timeout "$XFER_TIMEOUT"
	if wait_port "$NS_B" tcp 8082 10; then
		bg_start bulk-cli "$NS_A" "$PY" "$XFER" tcp-client --connect "$V4" --port 81 \
			--send $((4 << 20)) --recv $((4 << 20)) --seed 81 --timeout "$XFER_TIMEOUT"
		if tcp_finish bulk; then pass bulk "$XFER_MSG"; else fail bulk "$XFER_MSG"; fi
	else
		fail bulk "server did not listen"
	fi
	stop_tool rb
	echo "# $SUMMARY"
else
	fail bulk "ipredir redirect (bulk) did not start"
fi

if start_tool r6 "$NS_A" '^redirect: running' redirect --to "[$B6]:8080" \
	"outbound and tcp.DstPort == 80 and ipv6.DstAddr == $V6"; then
	client ipv6 "$V6" 80 "served-8080-v6 8080 $A6" "$V6"
	stop_tool r6
else
	fail ipv6 "ipredir redirect (IPv6) did not start"
fi

if start_tool rl "$NS_A" '^redirect: running' redirect --to "$A4:8081" \
	"outbound and tcp.DstPort == 80 and ip.DstAddr == $B4"; then
	client local "$B4" 80 "local-8081 8081 $A4" "$B4"
	stop_tool rl
	echo "# $SUMMARY"
else
	fail local "ipredir redirect (local) did not start"
fi

bad_input bad-to "$NS_A" "^ipredir redirect: --to wants ADDR:PORT .*, not '198.18.1.2'$" redirect --to 198.18.1.2 tcp
bad_input bad-port "$NS_A" "^ipredir redirect: --to wants ADDR:PORT .*, not '198.18.1.2:0'$" redirect --to 198.18.1.2:0 tcp
bad_input no-to "$NS_A" "^ipredir redirect: --to ADDR:PORT is needed for 'tcp'" redirect tcp
finish
