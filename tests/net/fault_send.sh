#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_send.sh - verdicts that cannot be sent: a program whose sendmsg
# fails on purpose (tests/progs/ipr_faultsend defines its own) answers 12
# held datagrams four at a time.  A failed send leaves its packets held
# (a second call answers them, not "not held"), a short failure is retried
# by the library, and every datagram reaches the other side.  Then ipredir
# passthru with an LD_PRELOAD shim (tests/shim/failsend.c) whose sendmsg
# fails 6 times in a row every 40 calls, more than the library tries: it
# must answer the rest of each batch, carry TCP and UDP intact and exit 0
# (before, the first failure ended its thread and the program).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
SHIM=$BUILD/tests/shim/failsend.so
need_file "$PROGS/ipr_faultsend" "$IPREDIR"
[ -f "$SHIM" ] || { fail build "$SHIM is missing: run make tests-build"; finish; }
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

# ---- passthru, sendmsg failing in bursts
t0=$(ipr_tables "$NS_A")
bg_start ptf "$NS_A" env LD_PRELOAD="$SHIM" IPR_SHIM_FAIL_EVERY=40 IPR_SHIM_FAIL_BURST=6 \
	ASAN_OPTIONS=verify_asan_link_order=0 "$IPREDIR" passthru
for ((i = 0; i < 200; i++)); do
	[ "$(ipr_tables "$NS_A")" -gt "$t0" ] && break
	bg_running ptf || break
	sleep 0.05
done
if ! bg_running ptf || [ "$(ipr_tables "$NS_A")" -le "$t0" ]; then
	fail passthru.start "passthru with the failing sendmsg did not start"
	dump ptf
	finish
fi
tcp_case passthru.tcp ptt "$NS_A" "$NS_B" "$B4" 6310 $((4 << 20)) $((4 << 20))
udp_case passthru.udp ptu "$NS_A" "$NS_B" "$B4" 6311 400 1000 --timeout 15 -- --pps 2000
ping_case passthru.ping "$NS_A" "$B4" 20
if stop_passthru ptf; then
	pass passthru.exit "exit 0, $PT_SUMMARY"
else
	fail passthru.exit "status ${BG_DONE[ptf]}: $(grep -v '^passthru: [0-9]' "$TMPD/ptf.err" | tail -n 3 | tr '\n' ' ')"
fi
f=$(sed -nE 's/^failsend: failed ([0-9]+) of ([0-9]+).*/\1/p' "$TMPD/ptf.err")
check passthru.faults-injected "the shim failed ${f:-no} sendmsg calls: $(grep '^failsend' "$TMPD/ptf.err")" \
	[ "${f:-0}" -gt 0 ]
finish
