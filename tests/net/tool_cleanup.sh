#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_cleanup.sh - `ipredir cleanup` in A: nothing to do at first; a
# leftover table without the owner flag (as on old kernels) whose pid is
# gone is removed and named (-n only names it); one whose pid still runs
# is kept unless --force; the owner table of a running passthru is kept
# as "in use by pid N" and the passthru keeps passing traffic; exit 0
# throughout; bad input is one line, status 2.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair

cleanup_in() { CL_OUT=$(ip netns exec "$NS_A" "$IPREDIR" cleanup "$@" 2>&1); CL_RC=$?; }
has_table() { ip netns exec "$NS_A" nft list tables 2>/dev/null | grep -qx "table inet $1"; }
# A table as an old ipredir would have left it: a base chain, no owner.
leftover() {
	ip netns exec "$NS_A" nft add table inet "$1" &&
		ip netns exec "$NS_A" nft add chain inet "$1" out '{ type filter hook output priority 0; }'
}

cleanup_in
check empty "status $CL_RC: $CL_OUT" \
	[ "$CL_RC: $CL_OUT" = "0: nothing to clean up: no ipredir tables in this namespace" ]

# A pid that no process has (pid_max is at most 4194304).
DEAD=ipredir_4194305_0
leftover $DEAD || { fail setup "cannot make a leftover table"; finish; }
cleanup_in -n
if [ $CL_RC -eq 0 ] && grep -qx "would remove table inet $DEAD (1 chains, no owner)" <<<"$CL_OUT" && has_table $DEAD; then
	pass dry-run "$(head -n 1 <<<"$CL_OUT")"
else
	fail dry-run "status $CL_RC: $CL_OUT"
fi
cleanup_in
if [ $CL_RC -eq 0 ] && grep -qx "removed table inet $DEAD (1 chains, no owner)" <<<"$CL_OUT" &&
	grep -qx 'cleanup: 1 removed, 0 kept' <<<"$CL_OUT" && ! has_table $DEAD; then
	pass removed "$(tr '\n' '|' <<<"$CL_OUT")"
else
	fail removed "status $CL_RC: $CL_OUT"
fi

bg_start sl "$NS_A" sleep 60
LIVE=ipredir_${BG[sl]}_0
leftover "$LIVE"
cleanup_in
if [ $CL_RC -eq 0 ] && grep -qx "kept table inet $LIVE: its pid ${BG[sl]} (sleep) still runs (--force removes it)" <<<"$CL_OUT" &&
	has_table "$LIVE"; then
	pass live-pid-kept "$(head -n 1 <<<"$CL_OUT")"
else
	fail live-pid-kept "status $CL_RC: $CL_OUT"
fi
cleanup_in --force
if [ $CL_RC -eq 0 ] && grep -qx "removed table inet $LIVE (1 chains, no owner)" <<<"$CL_OUT" && ! has_table "$LIVE"; then
	pass force "$(head -n 1 <<<"$CL_OUT")"
else
	fail force "status $CL_RC: $CL_OUT"
fi

if start_passthru pt "$NS_A" icmp; then
	cleanup_in
	# Kernels before 5.12 have no owner tables: the table is then kept
	# because the pid in its name runs.
	want="in use by pid ${BG[pt]} \(ipredir\)"
	t=$(ip netns exec "$NS_A" nft list tables | sed -nE "s/^table inet (ipredir_${BG[pt]}_[0-9]+)$/\1/p")
	ip netns exec "$NS_A" nft list table inet "$t" 2>/dev/null | grep -q 'flags owner' ||
		want="its pid ${BG[pt]} \(ipredir\) still runs \(--force removes it\)"
	if [ $CL_RC -eq 0 ] && grep -Eqx "kept table inet ipredir_${BG[pt]}_[0-9]+: $want" <<<"$CL_OUT" &&
		[ "$(ipr_tables "$NS_A")" -eq 1 ]; then
		pass owner-kept "$(head -n 1 <<<"$CL_OUT")"
	else
		fail owner-kept "status $CL_RC: $CL_OUT"
	fi
	ping_case still-passing "$NS_A" "$B4" 3
	pt_done passthru-counted pt 6
else
	fail owner-kept "passthru did not start"
fi

bad_input bad-option "$NS_A" "^ipredir cleanup: unknown option '--all'" cleanup --all
bad_input extra-arg "$NS_A" "^ipredir cleanup: unexpected argument 'ipredir_1_0'$" cleanup ipredir_1_0
finish
