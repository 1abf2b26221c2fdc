#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# killnine.sh - `kill -9` of ipredir passthru in the middle of a transfer:
# within a second new connections and pings work, no ipredir table is left,
# and the interrupted transfer completes intact.  Three rounds.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair
# Under emulation (tests/vm) starting the listener below alone takes
# seconds: a slower transfer there, so that it still runs at the kill.
RATE=$(((2 << 20) / TIME_SCALE))

for r in 1 2 3; do
	if ! start_passthru "pt$r" "$NS_A"; then
		fail "r$r.start" "ipredir passthru did not start"
		continue
	fi
	# 4 MB up at 2 MB/s: still going when the passthru is killed.
	if ! tcp_start "slow$r" "$NS_A" "$NS_B" "$B4" $((5000 + r)) $((4 << 20)) $((1 << 20)) \
		--rate "$RATE"; then
		fail "r$r.transfer" "$XFER_MSG"
		continue
	fi
	# A listener ready for the connect after the kill.
	bg_start "quick$r-srv" "$NS_B" "$PY" "$XFER" tcp-server --bind "$B4" \
		--port $((5100 + r)) --send 1000 --recv 1000 --timeout 20
	wait_port "$NS_B" tcp $((5100 + r)) 10
	sleep 0.5
	if ! bg_running "slow$r-cli"; then
		fail "r$r.in-progress" "transfer was over before the kill"
	fi

	if ! bg_kill9 "pt$r"; then
		fail "r$r.kill" "ipredir passthru still alive 5 s after kill -9"
		continue
	fi
	t0=$(date +%s%N)
	# Both bounded by one second.
	ip netns exec "$NS_A" "$PY" "$XFER" tcp-client --connect "$B4" --port $((5100 + r)) \
		--send 1000 --recv 1000 --timeout 1 >"$TMPD/quick$r-cli.out" 2>&1
	crc=$?
	ip netns exec "$NS_A" ping -n -q -c 1 -W 1 "$B4" >"$TMPD/ping$r.out" 2>&1
	prc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ $crc -eq 0 ] && [ $prc -eq 0 ]; then
		pass "r$r.recover" "TCP connect and ping fine ${ms} ms after kill -9"
	else
		fail "r$r.recover" "after kill -9: tcp client status $crc, ping status $prc"
		dump "quick$r-cli" "ping$r"
	fi
	bg_wait "quick$r-srv" 5

	n=$(ipr_tables "$NS_A")
	if [ "$n" -eq 0 ]; then
		pass "r$r.no-table"
	else
		fail "r$r.no-table" "$n ipredir table(s) left in A: $(ip netns exec "$NS_A" nft list tables | tr '\n' ' ')"
	fi
	if tcp_finish "slow$r"; then
		pass "r$r.transfer" "interrupted transfer intact: $XFER_MSG"
	else
		fail "r$r.transfer" "$XFER_MSG"
	fi
done
finish
