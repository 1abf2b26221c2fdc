#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# recv_signal.sh - a program blocked in ipr_recv without a timeout sees its
# SIGTERM wherever the signal finds it.  Idle, the receive still refreshes
# the dead-man switch every quarter of the hang time (250 ms); a shim
# (tests/shim/slowsend.c) makes each refresh last 200 ms, as a busy or
# emulated kernel does (under QEMU modify.sh's ipr_modify ignored SIGTERM
# when it came during one).  Five runs of ipr_modify, each signalled at
# another moment of that cycle, must each end within 2 s with their
# summary line, after passing UDP intact.  Then five runs where the shim
# also holds every receive that could sleep for 150 ms before it is made,
# as a thread preempted just before it goes to sleep (5.10 under QEMU lost
# a SIGTERM so): a signal in that gap must still end the receive.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
SHIM=$BUILD/tests/shim/slowsend.so
need_file "$PROGS/ipr_modify"
[ -f "$SHIM" ] || { fail build "$SHIM is missing: run make tests-build"; finish; }
topo_pair

slowed=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	n=sig$i
	rd=0
	[ "$i" -gt 5 ] && rd=150
	bg_start "$n" "$NS_A" env LD_PRELOAD="$SHIM" IPR_SHIM_SEND_DELAY_MS=200 \
		IPR_SHIM_RECV_DELAY_MS=$rd \
		"$PROGS/ipr_modify" "udp.DstPort == $((5400 + i)) and outbound"
	if ! wait_line "$n" '^ready' 30; then
		fail "run$i" "ipr_modify did not get ready"
		dump "$n"
		bg_stop "$n" KILL 5
		continue
	fi
	udp_case "run$i.xor" "x$i" "$NS_A" "$NS_B" "$B4" "$((5400 + i))" 50 200 --xor 0x5a -- --pps 500
	# idle, at 0.1 .. 0.9 s into the refresh cycle
	sleep "$(((i % 5) * 2 + 1))e-1"
	t0=$(date +%s%N)
	bg_stop "$n" TERM 2
	ms=$((($(date +%s%N) - t0) / 1000000))
	line=$(grep -E '^modified=' "$TMPD/$n.out")
	if [ "${BG_DONE[$n]}" -eq 0 ] && [ -n "$line" ]; then
		pass "run$i.term" "ended ${ms} ms after SIGTERM: $line"
	else
		fail "run$i.term" "want exit 0 within 2 s of SIGTERM; got status ${BG_DONE[$n]} after ${ms} ms"
		dump "$n"
	fi
	s=$(sed -nE 's/^slowsend: slowed ([0-9]+) of.*/\1/p' "$TMPD/$n.err")
	slowed=$((slowed + ${s:-0}))
done
# The shim really slowed the refreshes (else this test proves nothing).
check shim-active "the shim slowed $slowed netlink requests in the ten runs" [ "$slowed" -ge 20 ]
finish
