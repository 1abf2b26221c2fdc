#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthru_filter.sh - two `ipredir passthru` at once in one namespace with
# different filters: each counts only its own traffic, all of it arrives.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair

if ! start_passthru pt-tcp "$NS_A" 'tcp.DstPort == 5001'; then
	fail start-tcp "ipredir passthru 'tcp.DstPort == 5001' did not start"
	finish
fi
if ! start_passthru pt-udp "$NS_A" udp; then
	fail start-udp "ipredir passthru 'udp' did not start"
	finish
fi
n=$(ipr_tables "$NS_A")
check tables "want 2 ipredir tables in A, have $n" [ "$n" -eq 2 ]

# 1 MB up to TCP port 5001, 64 KB back: the packets A sends to port 5001
# are the data (fewer than 800 even without GSO) and a few ACKs.  Then 2000
# UDP datagrams, to port 5001 too: the TCP filter must not count them.
tcp_case tcp4 t4 "$NS_A" "$NS_B" "$B4" 5001 $((1 << 20)) $((64 << 10))
udp_case udp4 u4 "$NS_A" "$NS_B" "$B4" 5001 2000 1200
udp_case udp6 u6 "$NS_A" "$NS_B" "$B6" 5001 1000 1200

if stop_passthru pt-tcp && [ "$PT_PACKETS" -gt 0 ] && [ "$PT_PACKETS" -lt 1500 ]; then
	pass count-tcp "packets=$PT_PACKETS (0 < n < 1500: TCP to 5001 only)"
else
	fail count-tcp "want 0 < packets < 1500; status ${BG_DONE[pt-tcp]}, summary '$PT_SUMMARY'"
fi
# A guest starved of CPU for the hang time has the kernel pass some by
# (hung=N, the dead-man switch): they count as the program's.
if stop_passthru pt-udp && hung=$(sed -nE 's/.* hung=([0-9]+).*/\1/p' <<<"$PT_SUMMARY") &&
	[ $((PT_PACKETS + ${hung:-0})) -ge 3000 ] && [ $((PT_PACKETS + ${hung:-0})) -le 3020 ]; then
	pass count-udp "packets=$PT_PACKETS hung=${hung:-0} (the 3000 datagrams, no TCP)"
else
	fail count-udp "want 3000 <= packets + hung <= 3020; status ${BG_DONE[pt-udp]}, summary '$PT_SUMMARY'"
fi
n=$(ipr_tables "$NS_A")
check tables-gone "$n ipredir tables left in A after both exited" [ "$n" -eq 0 ]
finish
