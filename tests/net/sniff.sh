#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sniff.sh - a sniff handle gets a copy and never holds the packet: after it
# took one copy and stopped reading, pings keep their round trip under 5 ms
# and a TCP transfer runs to the end.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_sniff"
topo_pair

# ping_fast CASE COUNT: all answered, none slower than 5 ms.
ping_fast() {
	local c=$1 n=$2 max
	if ! ping_ok "$NS_A" "$B4" "$n"; then
		fail "$c" "$(tr '\n' ' ' <<<"$PING_OUT")"
		return
	fi
	max=$(ping_rtt | cut -d/ -f3)
	if awk -v m="$max" -v s="$TIME_SCALE" 'BEGIN { exit !(m < 5 * s) }'; then
		pass "$c" "$n answered, rtt min/avg/max/mdev $(ping_rtt) ms"
	else
		fail "$c" "rtt max $max ms >= $((5 * TIME_SCALE)) ms: $(ping_rtt)"
	fi
}

ping_fast baseline 10
if ! start_prog sn "$NS_A" ipr_sniff --seconds 120 'icmp or tcp'; then
	fail start "ipr_sniff did not start"
	finish
fi
ip netns exec "$NS_A" ping -n -q -c 1 -W 1 "$B4" >/dev/null 2>&1
if wait_line sn '^got ' 5; then
	line=$(grep '^got ' "$TMPD/sn.out")
	if grep -Eq 'proto=1 sniffed=1 .*send_rc=-[0-9]+' <<<"$line"; then
		pass copy "$line"
	else
		fail copy "want an ICMP copy flagged sniffed that cannot be passed on: $line"
	fi
else
	fail copy "the sniffer got no packet"
	dump sn
fi
ping_fast not-held 20
tcp_case tcp4 t4 "$NS_A" "$NS_B" "$B4" 5601 $((8 << 20)) $((8 << 20))
ping_fast not-held-after-tcp 20
check sniffer-alive "ipr_sniff died" bg_running sn
bg_stop sn TERM 10
check exit "ipr_sniff exited with status ${BG_DONE[sn]}" [ "${BG_DONE[sn]}" -eq 0 ]
finish
