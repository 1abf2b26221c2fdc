#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_malformed.sh - malformed packets from the wire (fault_malformed.py:
# truncated and lying transport headers, IP options, fragments, odd IPv6
# extension header chains, bad lengths and checksums in whole frames), sent
# into and out of a namespace where ipredir passthru runs beside two
# programs that parse and evaluate every packet (ipr_faultparse, one
# holding packets, one sniffing).  Nothing may crash; every parse must stay
# inside the packet; good traffic flows afterwards.  A second round writes
# every packet back in full (--rewrite).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR" "$PROGS/ipr_faultparse"
topo_pair
MAL="$NET_DIR/fault_malformed.py"
MAC_A=$(ip -n "$NS_A" link show v0 | awk '/link\/ether/ { print $2 }')

for round in plain rewrite; do
	args=()
	[ $round = rewrite ] && args=(--rewrite)
	pt="pt-$round" fp="fp-$round" fs="fs-$round"
	if ! start_passthru "$pt" "$NS_A" "${args[@]}"; then
		fail "$round.start" "ipredir passthru ${args[*]} did not start"
		continue
	fi
	# Sees every packet first (priority 100), then passes it on to passthru.
	start_prog "$fp" "$NS_A" ipr_faultparse --priority 100 "${args[@]}" true ||
		fail "$round.start-parse" "ipr_faultparse did not start"
	start_prog "$fs" "$NS_A" ipr_faultparse --sniff --priority 50 true ||
		fail "$round.start-sniff" "ipr_faultparse --sniff did not start"
	ping_case "$round.before" "$NS_A" "$B4" 3

	# Into A from B (input hook), out of A (output hook), raw frames into A.
	ip netns exec "$NS_B" "$PY" "$MAL" raw4 "$B4" "$A4" >"$TMPD/$round-in4.out" 2>&1
	ip netns exec "$NS_B" "$PY" "$MAL" raw6 "$B6" "$A6" >"$TMPD/$round-in6.out" 2>&1
	ip netns exec "$NS_B" "$PY" "$MAL" frame v0 "$MAC_A" "$B4" "$A4" "$B6" "$A6" \
		>"$TMPD/$round-fr.out" 2>&1
	ip netns exec "$NS_A" "$PY" "$MAL" raw4 "$A4" "$B4" >"$TMPD/$round-out4.out" 2>&1
	ip netns exec "$NS_A" "$PY" "$MAL" raw6 "$A6" "$B6" >"$TMPD/$round-out6.out" 2>&1
	sent=$(cat "$TMPD/$round-"{in4,in6,fr,out4,out6}.out | sed -nE 's/.* sent=([0-9]+).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	refused=$(cat "$TMPD/$round-"{in4,in6,fr,out4,out6}.out | grep -c '^refused')
	if [ "$sent" -gt 300 ]; then
		pass "$round.sent" "$sent malformed packets sent ($refused refused by the sending kernel)"
	else
		fail "$round.sent" "only $sent malformed packets could be sent: $(grep -h 'sent=' "$TMPD/$round-"*.out | tr '\n' ' ')"
	fi
	sleep 0.5

	for p in "$pt" "$fp" "$fs"; do
		if bg_running "$p"; then pass "$round.alive.${p%%-*}"; else
			bg_wait "$p" 1
			fail "$round.alive.${p%%-*}" "ended with status ${BG_DONE[$p]} (>128: killed by signal $((BG_DONE[$p] - 128)))"
			dump "$p"
		fi
	done
	# Good traffic afterwards, through all three.
	ping_case "$round.after.ping4" "$NS_A" "$B4" 5
	ping_case "$round.after.ping6" "$NS_A" "$B6" 5
	tcp_case "$round.after.tcp4" "t4-$round" "$NS_A" "$NS_B" "$B4" 6101 $((2 << 20)) $((2 << 20))
	tcp_case "$round.after.tcp6" "t6-$round" "$NS_B" "$NS_A" "$A6" 6102 $((2 << 20)) $((2 << 20))
	udp_case "$round.after.udp4" "u4-$round" "$NS_B" "$NS_A" "$A4" 6103 300 1000

	for p in "$fp" "$fs"; do
		bg_stop "$p" TERM 10
		rc=$?
		line=$(grep '^stats' "$TMPD/$p.out")
		n=$(out_num "$p" packets) odd=$(out_num "$p" odd) pb=$(out_num "$p" parse_bad) ee=$(out_num "$p" eval_err)
		ce=$(out_num "$p" csum_err) se=$(out_num "$p" send_err)
		if [ "$rc" -eq 0 ] && [ "${pb:-1}" -eq 0 ] && [ "${ee:-1}" -eq 0 ] &&
			[ "${ce:-1}" -eq 0 ] && [ "${se:-1}" -eq 0 ]; then
			pass "$round.helpers.${p%%-*}" "exit 0, $line"
		else
			fail "$round.helpers.${p%%-*}" "want exit 0 and parse_bad, eval_err, csum_err, send_err 0: status $rc, $line"
			dump "$p"
		fi
		# The malformed packets really reached the handle: 50 at least
		# of what it counts as odd (fragments, options, bad headers).
		check "$round.reached.${p%%-*}" "only ${odd:-0} odd packets of ${n:-0} seen" [ "${odd:-0}" -ge 50 ]
	done
	pt_done "$round.passthru-exit" "$pt" 100
	# In a sanitizer build (O=build-san) a report is a failure even when
	# the program went on (UBSan only prints by default).
	san=$(grep -hE 'runtime error|Sanitizer' "$TMPD/$pt.err" "$TMPD/$fp.err" "$TMPD/$fs.err" 2>/dev/null |
		sed -E 's/0x[0-9a-f]+/ADDR/g' | sort | uniq -c | sort -rn)
	if [ -z "$san" ]; then
		pass "$round.sanitizers" "no sanitizer report"
	else
		fail "$round.sanitizers" "$(wc -l <<<"$san") kind(s) of report, first: $(head -n 1 <<<"$san" | tr -s ' ')"
	fi
done
finish
