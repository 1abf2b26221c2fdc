#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# drop.sh - a drop handle on `icmp`: IPv4 pings fail while it is open and
# work once it exits; TCP and ICMPv6 are not touched.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_drop"
topo_pair

ping_case baseline "$NS_A" "$B4" 3
if ! start_prog dr "$NS_A" ipr_drop --seconds 120 icmp; then
	fail start "ipr_drop did not start"
	finish
fi
if ping_none "$NS_A" "$B4" 3; then
	pass dropped "$(grep -E 'transmitted' <<<"$PING_OUT")"
else
	fail dropped "pings answered through a drop handle: $(tr '\n' ' ' <<<"$PING_OUT")"
fi
ping_case icmpv6-untouched "$NS_A" "$B6" 5
tcp_case tcp-untouched t4 "$NS_A" "$NS_B" "$B4" 5701 $((1 << 20)) $((1 << 20))
check alive "ipr_drop died" bg_running dr
bg_stop dr TERM 10
check exit "ipr_drop exited with status ${BG_DONE[dr]}" [ "${BG_DONE[dr]}" -eq 0 ]
ping_case after "$NS_A" "$B4" 5
finish
