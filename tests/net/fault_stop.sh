#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_stop.sh - ipredir passthru hangs (SIGSTOP) under load.  Fail-open
# (the default): once its queue of 32 is full, traffic flows past it.
# --fail-closed: nothing gets through while it hangs.  Either way, after
# SIGCONT the same process carries traffic again and its counters grow,
# without a restart, and it exits 0 on SIGTERM.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair

# pkts NAME: packets counted by the last per-second line of passthru NAME.
pkts() {
	sed -nE 's/^passthru: ([0-9]+) pkts.*/\1/p' "$TMPD/$1.err" | tail -n 1
}
# kdrops NAME: kernel drops in its last per-second line.
kdrops() {
	sed -nE 's/^passthru: .*drops kernel=([0-9]+).*/\1/p' "$TMPD/$1.err" | tail -n 1
}
# wait_more NAME N SECONDS: until its counter is above N.
wait_more() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(pkts "$1")" -gt "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# state PID: one letter, T when stopped.
state() { ps -o stat= -p "$1" 2>/dev/null | cut -c1; }

# one_mode MODE [ARGS]: the whole story for fail-open or fail-closed.
one_mode() {
	local m=$1 pt="pt-$1" pid n0 n1 port
	shift
	port=$([ "$m" = open ] && echo 5400 || echo 5500)
	# One queue: fail-open lets packets by when *their* queue is full, and
	# the load keeps this one full.  (With several, a new flow hashed to
	# another queue would wait there for the hung program.)  The hang time
	# of 60 s keeps the dead-man switch (fault_hang.sh) out of the way of
	# this full-queue behaviour.
	if ! start_passthru "$pt" "$NS_A" --threads 1 --queue-len 32 --hang-time 60000 "$@"; then
		fail "$m.start" "ipredir passthru --threads 1 --queue-len 32 --hang-time 60000 $* did not start"
		return
	fi
	pid=${BG[$pt]}
	ping_case "$m.before" "$NS_A" "$B4" 5
	# A paced transfer that runs across the whole hang: the load.
	tcp_start "$m-load" "$NS_A" "$NS_B" "$B4" $((port + 1)) $((6 << 20)) $((1 << 20)) \
		--rate $((1 << 20)) || fail "$m.load" "$XFER_MSG"
	wait_more "$pt" 0 5
	sleep 1
	n0=$(pkts "$pt")

	kill -STOP "$pid"
	sleep 0.2
	check "$m.stopped" "state of pid $pid is '$(state "$pid")', want T" [ "$(state "$pid")" = T ]

	if [ "$m" = open ]; then
		# 300 datagrams: at most 32 more can wait in the full queue, the
		# rest must pass it.
		udp_xfer "$m-udp" "$NS_A" "$NS_B" "$B4" $((port + 2)) 300 1000 \
			--min 0 --idle 2 --timeout 10 -- --pps 1000
		if [ "$UDP_OK" -ge 268 ]; then
			pass open.udp-flows "$UDP_OK of 300 datagrams passed the hung program"
		else
			fail open.udp-flows "want >= 268 of 300 past a full queue of 32: $XFER_MSG"
		fi
		ping_case open.ping-flows "$NS_A" "$B4" 10
		tcp_case open.tcp-flows "$m-new" "$NS_A" "$NS_B" "$B4" $((port + 3)) $((1 << 20)) $((1 << 20))
	else
		if ping_none "$NS_A" "$B4" 3; then
			pass closed.ping-stops "no echo answered while it hangs"
		else
			fail closed.ping-stops "pings answered with --fail-closed: $(tr '\n' ' ' <<<"$PING_OUT")"
		fi
		udp_xfer "$m-udp" "$NS_A" "$NS_B" "$B4" $((port + 2)) 200 1000 \
			--min 0 --idle 2 --timeout 5 -- --pps 1000
		if [ "$UDP_OK" -eq 0 ]; then
			pass closed.udp-stops "0 of 200 datagrams passed"
		else
			fail closed.udp-stops "want 0 of 200 with --fail-closed: $XFER_MSG"
		fi
		# A listener is there: only the hung program can keep us out.
		bg_start "$m-lsn" "$NS_B" "$PY" "$XFER" tcp-server --bind "$B4" \
			--port $((port + 5)) --timeout 8
		wait_port "$NS_B" tcp $((port + 5)) 5
		ip netns exec "$NS_A" "$PY" "$XFER" tcp-client --connect "$B4" \
			--port $((port + 5)) --timeout 2 >"$TMPD/$m-conn.out" 2>&1
		if grep -q 'connected' "$TMPD/$m-conn.out"; then
			fail closed.tcp-stops "a TCP connection was made while it hangs"
		else
			pass closed.tcp-stops "no TCP connection in 2 s while it hangs: $(tail -n 1 "$TMPD/$m-conn.out")"
		fi
		bg_stop "$m-lsn" TERM 2
	fi
	check "$m.still-stopped" "pid $pid is in state '$(state "$pid")' during the checks" \
		[ "$(state "$pid")" = T ]

	kill -CONT "$pid"
	if wait_more "$pt" "$n0" 5; then
		pass "$m.resumed" "counter $n0 -> $(pkts "$pt") after SIGCONT"
	else
		fail "$m.resumed" "counter stuck at $(pkts "$pt") (was $n0 before SIGSTOP)"
		dump "$pt"
	fi
	ping_case "$m.after-ping" "$NS_A" "$B4" 10
	tcp_case "$m.after-tcp" "$m-after" "$NS_A" "$NS_B" "$B4" $((port + 4)) $((2 << 20)) $((2 << 20))
	if tcp_finish "$m-load"; then
		pass "$m.load-intact" "transfer across the hang intact: $XFER_MSG"
	else
		fail "$m.load-intact" "$XFER_MSG"
	fi
	n1=$(pkts "$pt")
	check "$m.same-process" "pid $pid is gone" bg_running "$pt"
	if [ "$m" = closed ]; then
		kd=$(kdrops "$pt")
		check closed.kernel-drops "want kernel drops > 0 in its counters: $(grep '^passthru:' "$TMPD/$pt.err" | tail -n 1)" \
			[ "${kd:-0}" -gt 0 ]
	fi
	if stop_passthru "$pt" && [ "$PT_PACKETS" -ge "$n1" ] && [ "$n1" -gt "$n0" ]; then
		pass "$m.exit" "exit 0, packets=$PT_PACKETS (before the hang $n0)"
	else
		fail "$m.exit" "want exit 0 and packets > $n0: status ${BG_DONE[$pt]}, summary '$PT_SUMMARY'"
	fi
}

one_mode open
one_mode closed --fail-closed
finish
