#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_killnine.sh - `kill -9` of ipredir passthru under an iperf3 load,
# three times in a row: each time the network is back within one second,
# no table of ours is left, and no queue is still bound to a portid of the
# dead process (/proc/net/netfilter/nfnetlink_queue of its namespace); the
# load itself survives the kill.  (killnine.sh covers a paced transfer.)
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
command -v iperf3 >/dev/null || skip_all "missing tool iperf3 (run scripts/deps)"
topo_pair
NL="$NET_DIR/fault_nl.py"

# ms_since T0_NS
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

for r in 1 2 3; do
	port=$((5200 + r))
	if ! start_passthru "pt$r" "$NS_A" --quiet; then
		fail "r$r.start" "ipredir passthru did not start"
		continue
	fi
	pid=${BG[pt$r]}
	# The queues this very process holds, by the inodes of its sockets.
	owned=$(ip netns exec "$NS_A" "$PY" "$NL" owned "$pid")
	ports=$(ip netns exec "$NS_A" "$PY" "$NL" portids "$pid" | tr '\n' ' ')
	if [ -z "$owned" ]; then
		fail "r$r.owned" "no queue in $NS_A is bound by a socket of pid $pid: $(ip netns exec "$NS_A" "$PY" "$NL" queues | tr '\n' ' ')"
		continue
	fi
	pass "r$r.owned" "pid $pid holds queues $(cut -d' ' -f1 <<<"$owned" | tr '\n' ' ')(portids $ports)"

	# A listener ready for the exchange after the kill (started first:
	# under emulation Python takes seconds to start, which the load's
	# time must not include).
	bg_start "quick$r-srv" "$NS_B" "$PY" "$XFER" tcp-server --bind "$B4" \
		--port $((5300 + r)) --send 1000 --recv 1000 --timeout $((15 * TIME_SCALE))
	wait_port "$NS_B" tcp $((5300 + r)) $((5 * TIME_SCALE))
	# Load: 4 TCP streams for 4 s (scaled under emulation), through the
	# passthru.
	bg_start "srv$r" "$NS_B" iperf3 -s -1 -B "$B4" -p "$port"
	wait_port "$NS_B" tcp "$port" 10
	bg_start "load$r" "$NS_A" iperf3 -c "$B4" -p "$port" -P 4 -t $((4 * TIME_SCALE)) --connect-timeout 3000
	sleep 1
	if ! bg_running "load$r"; then
		fail "r$r.load" "iperf3 was over before the kill"
		dump "load$r"
	fi
	if ! bg_kill9 "pt$r"; then
		fail "r$r.kill" "ipredir passthru still alive 5 s after kill -9"
		continue
	fi
	t0=$(date +%s%N)

	# Network back: a ping and a new TCP connection, both within 1 s.
	ok=0
	while [ "$(ms_since "$t0")" -lt 3000 ]; do
		if ip netns exec "$NS_A" ping -n -q -c 1 -W 1 "$B4" >/dev/null 2>&1; then
			ok=1
			break
		fi
	done
	ms_ping=$(ms_since "$t0")
	ip netns exec "$NS_A" "$PY" "$XFER" tcp-client --connect "$B4" --port $((5300 + r)) \
		--send 1000 --recv 1000 --timeout 2 >"$TMPD/quick$r-cli.out" 2>&1
	crc=$?
	ms_tcp=$(ms_since "$t0")
	# The connection's own time, without the interpreter's start (seconds
	# in an emulated guest, which the bound is not about).
	ms_conn=$(sed -nE 's/^tcp-client connected in ([0-9]+).*/\1/p' "$TMPD/quick$r-cli.out")
	if [ $ok = 1 ] && [ $crc -eq 0 ] && [ "$ms_ping" -le $((1000 * TIME_SCALE)) ] &&
		[ "${ms_conn:-99999}" -le $((1000 * TIME_SCALE)) ]; then
		pass "r$r.network-back" "ping after ${ms_ping} ms, TCP connected in ${ms_conn} ms, exchange done ${ms_tcp} ms after kill -9"
	else
		fail "r$r.network-back" "want ping and a TCP connection within $((1000 * TIME_SCALE)) ms: ping ok=$ok at ${ms_ping} ms, tcp status $crc, connected in ${ms_conn:-?} ms, done at ${ms_tcp} ms"
		dump "quick$r-cli"
	fi
	bg_wait "quick$r-srv" 5

	n=$(ipr_tables "$NS_A")
	check "r$r.no-table" "$n ipredir table(s) left: $(ip netns exec "$NS_A" nft list tables | tr '\n' ' ')" \
		[ "$n" -eq 0 ]
	# No queue bound to any portid the dead process had.
	left=""
	while read -r q p; do
		[ -n "$q" ] || continue
		for dp in $ports; do
			[ "$p" = "$dp" ] && left+=" $q($p)"
		done
	done < <(ip netns exec "$NS_A" "$PY" "$NL" queues)
	check "r$r.no-queue" "queues still bound to the dead pid's portids:$left" [ -z "$left" ]
	nq=$(nfq_count "$NS_A")
	check "r$r.no-queue-at-all" "$nq queue(s) bound in $NS_A after the kill" [ "$nq" -eq 0 ]

	# The load lived through it: iperf3 ends by itself, successfully.
	bg_wait "load$r" $((15 * TIME_SCALE))
	lrc=$?
	bg_wait "srv$r" 5
	if [ $lrc -eq 0 ]; then
		pass "r$r.load-survived" "$(grep -E 'sender$' "$TMPD/load$r.out" | tail -n 1 | tr -s ' ')"
	else
		fail "r$r.load-survived" "iperf3 client exit status $lrc"
		dump "load$r" "srv$r"
	fi
done
finish
