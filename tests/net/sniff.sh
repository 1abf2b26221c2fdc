#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sniff.sh - a sniff handle gets a copy and never holds the packet: after it
# took one copy and stopped reading, pings keep their round trip short (5 ms
# on average) and a TCP transfer runs to the end.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_sniff"
topo_pair

# ping_fast CASE COUNT: all answered, on average under 5 ms (times the
# slow-machine factor), none after 200 ms.  A packet the sniff handle held
# would wait for the dead-man switch and the keeper to let it go, about
# the hang time (1000 ms) after the handle stopped reading, or be lost to
# ping's 1-s wait; a single late timer of an emulated guest (20.3 ms once
# in a 6.1 guest, CI's VM run) is not a hold.
ping_fast() {
	local c=$1 n=$2 avg max
	if ! ping_ok "$NS_A" "$B4" "$n"; then
		fail "$c" "$(tr '\n' ' ' <<<"$PING_OUT")"
		return
	fi
	avg=$(ping_rtt | cut -d/ -f2) max=$(ping_rtt | cut -d/ -f3)
	if awk -v a="$avg" -v m="$max" -v s="$TIME_SCALE" 'BEGIN { exit !(a < 5 * s && m < 200) }'; then
		pass "$c" "$n answered, rtt min/avg/max/mdev $(ping_rtt) ms"
	else
		fail "$c" "want rtt avg < $((5 * TIME_SCALE)) ms, max < 200 ms: $(ping_rtt)"
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
