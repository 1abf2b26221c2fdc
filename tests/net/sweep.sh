#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sweep.sh - tables that an ipredir without owner tables (Linux before 5.12)
# could leave behind: opening a handle removes those whose pid is gone,
# keeps those whose pid runs and every table not named like ours, and the
# handle works.  (killnine.sh shows, on such a kernel, that the keeper
# leaves nothing behind in the first place: make vmtest KERNEL=5.10.)
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair

has_table() { ip netns exec "$NS_A" nft list tables 2>/dev/null | grep -qx "table inet $1"; }
leftover() {
	ip netns exec "$NS_A" nft add table inet "$1" &&
		ip netns exec "$NS_A" nft add chain inet "$1" out '{ type filter hook output priority 0; }'
}
# pids above pid_max (at most 4194304) belong to no process
DEAD1=ipredir_4194305_0 DEAD2=ipredir_4194306_3
bg_start sl "$NS_A" sleep 60
LIVE=ipredir_${BG[sl]}_0
OTHER=ipredir_custom
for t in $DEAD1 $DEAD2 "$LIVE" $OTHER; do
	leftover "$t" || { fail setup "cannot make table $t"; finish; }
done

# start_passthru waits for one table more than before, which the sweep
# undoes: wait for the passthru's own table instead.
started() {
	local i
	for ((i = 0; i < 200; i++)); do
		bg_running pt || return 1
		ip netns exec "$NS_A" nft list tables 2>/dev/null | grep -q "^table inet ipredir_${BG[pt]}_" &&
			[ "$(nfq_count "$NS_A")" -gt 0 ] && return 0
		sleep 0.05
	done
	return 1
}
bg_start pt "$NS_A" "$IPREDIR" passthru --quiet
if started; then
	pass start
	check dead-removed "tables of dead pids left: $(ip netns exec "$NS_A" nft list tables | tr '\n' ' ')" \
		eval "! has_table $DEAD1 && ! has_table $DEAD2"
	check live-kept "table $LIVE of a running pid was removed" has_table "$LIVE"
	check other-kept "table $OTHER (not ipredir_PID_N) was removed" has_table $OTHER
	udp_case works u1 "$NS_A" "$NS_B" "$B4" 5501 50 200
	stop_passthru pt
else
	fail start "ipredir passthru did not start"
fi
for t in "$LIVE" $OTHER; do
	ip netns exec "$NS_A" nft delete table inet "$t" 2>/dev/null
done
finish
