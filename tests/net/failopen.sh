#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# failopen.sh - a handle that does not read: with fail-open (the default)
# datagrams pass once its queue of 32 is full, with IPR_FLAG_FAIL_CLOSED
# none do; a packet left unanswered past the queue time is dropped and
# counted while later, answered ones flow.  The handles here do not read
# for long: a hang time of 60 s keeps the dead-man switch (fault_hang.sh)
# out of the way of the queue-full behaviour tested here.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_hold"
topo_pair

# hold_stat NAME FIELD: a field of the "stats ..." line ipr_hold prints at exit.
hold_stat() { sed -nE "s/^stats .*[ ]$2=([0-9]+).*/\1/p" "$TMPD/$1.out" | tail -n 1; }

# --- fail-open: 32 wait in the queue, the other 168 go through.
if start_prog open "$NS_A" ipr_hold --no-read --hang-time 60000 --queue-len 32 --seconds 60 'udp.DstPort == 5301'; then
	udp_xfer fo "$NS_A" "$NS_B" "$B4" 5301 200 1200 --min 0 --idle 2 --timeout 10 -- --pps 500
	if [ "$UDP_OK" -ge 160 ] && [ "$UDP_OK" -le 168 ]; then
		pass fail-open "$UDP_OK of 200 arrived (32 held in the full queue)"
	else
		fail fail-open "want 160..168 of 200 to arrive past a full queue of 32: $XFER_MSG"
	fi
	bg_stop open TERM 10
	check open.exit "ipr_hold exited with status ${BG_DONE[open]}" [ "${BG_DONE[open]}" -eq 0 ]
	# The 168 the kernel let by are counted as such.
	bp=$(hold_stat open kernel_bypassed)
	check open.bypassed "want kernel_bypassed=168: $(grep '^stats' "$TMPD/open.out")" \
		[ "${bp:-0}" -eq 168 ]
	udp_case open.after fo2 "$NS_A" "$NS_B" "$B4" 5301 100 1200
else
	fail fail-open "ipr_hold --no-read did not start"
fi

# --- fail-closed: nothing goes through while the handle is open.
if start_prog closed "$NS_A" ipr_hold --no-read --hang-time 60000 --fail-closed --queue-len 32 --seconds 60 \
	'udp.DstPort == 5302'; then
	udp_xfer fc "$NS_A" "$NS_B" "$B4" 5302 200 1200 --min 0 --idle 2 --timeout $((5 * TIME_SCALE)) -- --pps 500
	if [ "$UDP_OK" -eq 0 ]; then
		pass fail-closed "0 of 200 arrived"
	else
		fail fail-closed "want 0 of 200 to arrive with IPR_FLAG_FAIL_CLOSED: $XFER_MSG"
	fi
	bg_stop closed TERM 10
	check closed.exit "ipr_hold exited with status ${BG_DONE[closed]}" [ "${BG_DONE[closed]}" -eq 0 ]
	# The kernel counted the 168 it dropped, and ipr_stats_get says so.
	kd=$(hold_stat closed kernel_queue_dropped)
	check closed.stats "want kernel_queue_dropped=168: $(grep '^stats' "$TMPD/closed.out")" \
		[ "${kd:-0}" -eq 168 ]
	bp=$(hold_stat closed kernel_bypassed)
	check closed.bypassed "want kernel_bypassed=0: $(grep '^stats' "$TMPD/closed.out")" \
		[ "${bp:-1}" -eq 0 ]
	# The handle is gone: traffic flows again.
	udp_case closed.after fc2 "$NS_A" "$NS_B" "$B4" 5302 100 1200
else
	fail fail-closed "ipr_hold --no-read --fail-closed did not start"
fi

# --- fail-open at the socket: the program sleeps 1.5 s before its first
# read (counted from the first queued packet: on an emulated machine the
# receiver's start-up alone took longer than the sleep, and every datagram
# reached the program), with a socket buffer of 64 KiB.  The datagrams that do not fit are
# passed by the kernel (they got an id the program never sees); the rest wait
# and are passed when it wakes.  All arrive, and each one either reached the
# program or is counted in kernel_bypassed (the gap in the ids shows once
# the later 20 come).
if start_prog sock "$NS_A" ipr_hold --hold 0 --hang-time 60000 --queue-size 65536 --sleep 1500 --seconds 60 \
	'udp.DstPort == 5305'; then
	udp_xfer sk1 "$NS_A" "$NS_B" "$B4" 5305 200 1200 --min 0 --idle 2 --timeout 10 -- --pps 1000
	check sock.all-arrived "want 200 of 200: $XFER_MSG" [ "$UDP_OK" -eq 200 ]
	udp_xfer sk2 "$NS_A" "$NS_B" "$B4" 5305 20 1200 --min 0 --idle 1 --timeout $((5 * TIME_SCALE)) -- --pps 200
	bg_stop sock TERM 10
	r=$(hold_stat sock recv_packets) bp=$(hold_stat sock kernel_bypassed)
	if [ $((${r:-0} + ${bp:-0})) -eq 220 ] && [ "${bp:-0}" -gt 0 ]; then
		pass sock.bypassed "recv_packets=$r kernel_bypassed=$bp"
	else
		fail sock.bypassed "want recv_packets + kernel_bypassed = 220, kernel_bypassed > 0: $(grep '^stats' "$TMPD/sock.out")"
	fi
else
	fail sock.start "ipr_hold --sleep did not start"
fi

# --- queue time: the first 20 datagrams are read and never answered; they
# must be dropped after 200 ms, and the later ones (answered) flow.
if start_prog qt "$NS_A" ipr_hold --hold 20 --queue-time 200 --seconds 60 'udp.DstPort == 5303'; then
	udp_xfer qt1 "$NS_A" "$NS_B" "$B4" 5303 20 1200 --min 0 --idle 2 --timeout $((4 * TIME_SCALE)) -- --pps 200
	if [ "$UDP_OK" -eq 0 ]; then
		pass held-dropped "none of the 20 unanswered datagrams arrived"
	else
		fail held-dropped "want 0 of the 20 unanswered datagrams: $XFER_MSG"
	fi
	sleep 0.3
	udp_case later-flow qt2 "$NS_A" "$NS_B" "$B4" 5303 100 1200 -- --first 1000 --pps 500
	bg_stop qt TERM 10
	held=$(grep -c '^held ' "$TMPD/qt.out")
	dt=$(hold_stat qt dropped_timeout) sp=$(hold_stat qt sent_packets)
	if [ "${BG_DONE[qt]}" -eq 0 ] && [ "$held" -eq 20 ] && [ "${dt:--1}" -eq 20 ] &&
		[ "${sp:--1}" -eq 100 ]; then
		pass dropped-timeout "held=20 dropped_timeout=20 sent_packets=100"
	else
		fail dropped-timeout "want status 0, 20 held, dropped_timeout=20, sent_packets=100; got status ${BG_DONE[qt]}, held=$held, $(grep '^stats' "$TMPD/qt.out")"
		dump qt
	fi
else
	fail held-dropped "ipr_hold --hold 20 did not start"
fi

# --- batched answers next to held packets: the first 5 datagrams are held
# (queue time 3 s), the later ones are answered in batches as they come.
# One batch verdict for a run must never take the older, held packets with
# it: exactly 45 of 50 arrive, and the 5 are dropped at their queue time.
if start_prog qb "$NS_A" ipr_hold --batch --hold 5 --queue-time 3000 --seconds 60 'udp.DstPort == 5304'; then
	udp_xfer qb1 "$NS_A" "$NS_B" "$B4" 5304 50 200 --min 0 --idle 1 --timeout $((4 * TIME_SCALE)) -- --pps 0
	if [ "$UDP_OK" -eq 45 ]; then
		pass batch-keeps-held "45 of 50 arrived, the 5 held did not: $XFER_MSG"
	else
		fail batch-keeps-held "want exactly 45 of 50 (5 held): $XFER_MSG"
	fi
	sleep 3
	bg_stop qb TERM 10
	dt=$(hold_stat qb dropped_timeout) sp=$(hold_stat qb sent_packets)
	if [ "${BG_DONE[qb]}" -eq 0 ] && [ "${dt:--1}" -eq 5 ] && [ "${sp:--1}" -eq 45 ]; then
		pass batch-held-expired "dropped_timeout=5 sent_packets=45"
	else
		fail batch-held-expired "want status 0, dropped_timeout=5, sent_packets=45; got status ${BG_DONE[qb]}, $(grep '^stats' "$TMPD/qb.out")"
		dump qb
	fi
else
	fail batch-keeps-held "ipr_hold --batch did not start"
fi
finish
