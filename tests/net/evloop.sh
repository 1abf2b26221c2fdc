#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# evloop.sh - a program built around an event loop (tests/progs/ipr_evloop:
# epoll on ipr_queue_fd, ipr_recv_batch with timeout 0 when woken) stays
# in the packet path through long idle times when it takes its epoll
# timeout from ipr_queue_timeout: after 3 s of silence (6 hang times of
# 500 ms) pings pass through it, fail-closed and fail-open, and the kernel
# passed nothing by (hung=0).  The same loop waiting on the descriptor
# alone is taken for hung after the hang time; fail-closed, its queue then
# drops everything and the descriptor never wakes it: the trap that
# ipr_queue_timeout exists for, shown so that this test can tell them
# apart.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_evloop"
topo_pair


# run CASE NAME [ipr_evloop options]: idle 3 s, then 5 pings from B to A.
run() {
	local c=$1 n=$2
	shift 2
	if ! start_prog "$n" "$NS_A" ipr_evloop --hang-time 500 "$@" icmp; then
		fail "$c.start" "ipr_evloop $* did not start"
		return 1
	fi
	sleep 3
	ping_ok "$NS_B" "$A4" 5
	PING_RC=$?
	bg_stop "$n" TERM 10
}

# --- the loop as the API asks: through the program after the silence
for mode in closed open; do
	opt=()
	[ $mode = closed ] && opt=(--fail-closed)
	if run "timeout-$mode" "t$mode" --use-timeout "${opt[@]}"; then
		p=$(out_num "t$mode" passed) hg=$(out_num "t$mode" hung) to=$(out_num "t$mode" timeouts)
		if [ "$PING_RC" -eq 0 ] && [ "${BG_DONE[t$mode]}" -eq 0 ] &&
			[ "${p:-0}" -ge 10 ] && [ "${hg:-1}" -eq 0 ] && [ "${to:-0}" -ge 5 ]; then
			pass "timeout-$mode" "5 of 5 echoes after 3 s idle, all through the program: $(tail -n 1 "$TMPD/t$mode.out")"
		else
			fail "timeout-$mode" "want 5 echoes, passed >= 10, hung=0, timeouts >= 5, exit 0; got ping: $(grep -E received <<<"$PING_OUT"), status ${BG_DONE[t$mode]}: $(tail -n 1 "$TMPD/t$mode.out")"
			dump "t$mode"
		fi
	fi
done

# --- the loop that waits on the descriptor alone, fail-closed: hung
if run no-timeout nt --fail-closed; then
	p=$(out_num nt passed) hg=$(out_num nt hung)
	if [ "$PING_RC" -ne 0 ] && [ "${p:-1}" -eq 0 ] && [ "${hg:-0}" -gt 0 ]; then
		pass no-timeout-is-hung "echoes lost, none through the program, dropped by the kernel's switch: $(tail -n 1 "$TMPD/nt.out")"
	else
		fail no-timeout-is-hung "want echoes lost with passed=0 and hung > 0; got ping: $(grep -E received <<<"$PING_OUT"): $(tail -n 1 "$TMPD/nt.out")"
		dump nt
	fi
fi
finish
