#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# forward.sh - `ipredir passthru --forward` in a router namespace between a
# client and a server: forwarded TCP and ICMP, IPv4 and IPv6, arrive intact
# and are counted.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_router

MB4=$((4 << 20))
# Without redirection first: if this fails, the topology is at fault.
check baseline "no ping from C to S without redirection" ping_ok "$NS_C" "$S4" 3

if ! start_passthru pt "$NS_R" --forward; then
	fail start "ipredir passthru --forward did not put its rules in place in R"
	finish
fi
tcp_case tcp4 t4 "$NS_C" "$NS_S" "$S4" 5001 $MB4 $MB4
tcp_case tcp6 t6 "$NS_C" "$NS_S" "$S6" 5002 $MB4 $MB4
udp_case udp4 u4 "$NS_C" "$NS_S" "$S4" 5003 1000 1200
ping_case ping4 "$NS_C" "$S4" 10
ping_case ping6 "$NS_C" "$S6" 10
# 1000 datagrams and 40 ICMP packets went through R, besides the TCP.
pt_done summary pt 1040
finish
