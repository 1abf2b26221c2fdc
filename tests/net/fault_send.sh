#!/bin/bash
# fault_send.sh - verdicts that cannot be sent: a program whose sendmsg
# fails on purpose (tests/progs/ipr_faultsend defines its own) answers 12
# held datagrams four at a time.  A failed send leaves its packets held
# (a second call answers them, not "not held"), a short failure is retried
# by the library, and every datagram reaches the other side.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_faultsend"
topo_pair

if ! start_prog fs "$NS_A" ipr_faultsend 'udp.DstPort == 6300'; then
	fail start "ipr_faultsend did not start"
	finish
fi
udp_xfer fsu "$NS_A" "$NS_B" "$B4" 6300 12 200 --min 0 --idle 3 --timeout 10 -- --pps 200
bg_wait fs 10
for c in batch.first batch.again single.first single.again retry.first retry.again stats.sent; do
	line=$(grep -E "^(ok|bad) $c " "$TMPD/fs.out")
	if [ "${line%% *}" = ok ]; then
		pass "$c" "${line#ok $c }"
	else
		fail "$c" "${line:-no line for $c}"
	fi
done
if [ "$UDP_OK" -eq 12 ]; then
	pass all-delivered "$XFER_MSG"
else
	fail all-delivered "want all 12 datagrams past the failed sends: $XFER_MSG"
	dump fs
fi
check exit "ipr_faultsend exited with status ${BG_DONE[fs]}" [ "${BG_DONE[fs]}" -eq 0 ]
finish
