#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_hang.sh - the dead-man switch: a program that stops reading (SIGSTOP,
# a deadlocked packet thread, seconds spent between two reads, a debugger)
# never cuts the host off.  With passthru's defaults (one thread per CPU,
# here 2, default queue length, hang time 1 s), new connections and pings
# pass within hang time + 1 s (fail-open) or stay blocked (fail-closed); once
# it reads again, the kernel queues to it again within 1 s, no restart.  An
# idle program must not flap: 20 s with a 200 ms hang time (100 hang times,
# more than a minute at the default) with a probe every 0.5 s, all queued.
# Measured times are printed in the PASS lines (README, Safety).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR" "$PROGS/ipr_hang"
topo_pair

HANG=1000               # the default hang time, ms
# What the issue allows for traffic to flow again: the hang time, which
# the kernel keeps (a set element's timeout, in real time), and 1 s for
# processes to run (ping, the program), which stretches under emulation.
LIMIT=$((HANG + 1000 * TIME_SCALE))
RESUME=$((1000 * TIME_SCALE)) # queued to again after it reads again

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Packets the queues of NS were given (id_sequence, summed): grows only
# while the kernel queues to a live program.
qids() {
	ip netns exec "$1" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk '{ s += $8 } END { print s + 0 }'
}
# The switch's counter in NS (packets passed or dropped for want of a
# heartbeat).
hung_ctr() {
	ip netns exec "$1" nft list counters 2>/dev/null |
		awk '/counter hung/ { f = 1 } f && /packets/ { print $2; exit }'
}
# until_ping NS ADDR MAX_MS: ms from now to the first echo answered (one
# ping at a time, 200 ms each at most); fails after MAX_MS.
until_ping() {
	local t0
	t0=$(now_ms)
	while :; do
		if ip netns exec "$1" ping -n -q -c 1 -W 0.2 "$2" >/dev/null 2>&1; then
			WAITED=$(($(now_ms) - t0))
			return 0
		fi
		WAITED=$(($(now_ms) - t0))
		[ "$WAITED" -gt "$3" ] && return 1
		sleep 0.05
	done
}
# until_queued NS ADDR MAX_MS: ms from now until a ping is queued again
# (the queues' ids grow): the program takes packets again.
until_queued() {
	local t0 q0
	t0=$(now_ms)
	q0=$(qids "$1")
	while :; do
		ip netns exec "$1" ping -n -q -c 1 -W 0.2 "$2" >/dev/null 2>&1
		WAITED=$(($(now_ms) - t0))
		[ "$(qids "$1")" -gt "$q0" ] && return 0
		[ "$WAITED" -gt "$3" ] && return 1
		sleep 0.02
	done
}
# new_tcp_start NAME PORT: a new connection from A, 64 KiB each way (the
# server NAME-srv listens already).
new_tcp_start() {
	bg_start "$1-cli" "$NS_A" "$PY" "$XFER" tcp-client --connect "$B4" --port "$2" \
		--send 65536 --recv 65536 --seed "$2" --timeout 8
}
# new_tcp_check CASE NAME T0: the client was done (connected, 64 KiB sent
# and 64 KiB received) within LIMIT ms of T0, and both ends got what the
# other sent; the server's exit afterwards is not part of the promise.
# The connection starts once every queue's switch has tripped (HANG ms
# after the program's last read): a segment this host sends is not
# retransmitted while an earlier copy of it still waits in a local queue,
# so a SYN queued to the hung program just before would hold the
# connection until the program answers it.
# The client's own time counts from its connect: the interpreter's start
# (seconds in an emulated guest) is not the network's.  Started HANG ms
# after T0, it must be done by LIMIT.
new_tcp_check() {
	local c=$1 n=$2 t0=$3 cli own
	bg_wait "$n-cli" $((10 * TIME_SCALE))
	cli=$(($(now_ms) - t0))
	own=$(sed -nE 's/^tcp-client done in ([0-9]+).*/\1/p' "$TMPD/$n-cli.out")
	if ! tcp_finish "$n" 10; then
		fail "$c" "$XFER_MSG"
	elif [ "${own:-99999}" -le $((LIMIT - HANG)) ]; then
		pass "$c" "new connection and 64 KiB each way done in $own ms from its connect, started $HANG ms after the hang began ($(grep -o 'connected in [0-9.]* ms' "$TMPD/$n-cli.out"); process done $cli ms after the hang began)"
	else
		fail "$c" "done only ${own:-?} ms after its connect, want <= $((LIMIT - HANG)) (process done $cli ms after the hang began; $(grep -o 'connected in [0-9.]* ms' "$TMPD/$n-cli.out"); hung counter $(hung_ctr "$NS_A"); queues: $(ip netns exec "$NS_A" cat /proc/net/netfilter/nfnetlink_queue | awk '{ printf "%s waiting %s, ", $1, $3 }'))"
	fi
}
# at T0 MS: sleep until MS ms after T0.
at() {
	local d=$(($1 + $2 - $(now_ms)))
	[ "$d" -gt 0 ] && sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
	return 0
}
tcp_server() {
	bg_start "$1-srv" "$NS_B" "$PY" "$XFER" tcp-server --bind "$B4" --port "$2" \
		--send 65536 --recv 65536 --seed "$2" --timeout $((20 * TIME_SCALE))
	wait_port "$NS_B" tcp "$2" 10
}
state() { ps -o stat= -p "$1" 2>/dev/null | cut -c1; }

# ------------------------------------------------ SIGSTOP, passthru defaults

stop_case() {
	local m=$1 pt="pt-$1" pid port t0 h0 h1
	shift
	port=$([ "$m" = open ] && echo 5600 || echo 5700)
	if ! start_passthru "$pt" "$NS_A" "$@"; then
		fail "$m.start" "ipredir passthru $* did not start"
		return
	fi
	pid=${BG[$pt]}
	ping_case "$m.before" "$NS_A" "$B4" 5
	tcp_server "$m-t" "$port"
	h0=$(hung_ctr "$NS_A")
	kill -STOP "$pid"
	t0=$(now_ms)
	if [ "$m" = open ]; then
		if until_ping "$NS_A" "$B4" $((5000 * TIME_SCALE)) && [ "$WAITED" -le "$LIMIT" ]; then
			pass open.stop-ping "first echo answered $WAITED ms after SIGSTOP (limit $LIMIT)"
		else
			fail open.stop-ping "no echo within $LIMIT ms of SIGSTOP (waited $WAITED ms)"
		fi
		at "$t0" "$HANG"
		new_tcp_start "$m-t" "$port"
		new_tcp_check open.stop-tcp "$m-t" "$t0"
		ping_case open.stop-ping10 "$NS_A" "$B4" 10
	else
		sleep $((HANG / 1000)).5
		if ping_none "$NS_A" "$B4" 3; then
			pass closed.stop-ping "no echo answered while it hangs"
		else
			fail closed.stop-ping "echo answered with --fail-closed: $(tr '\n' ' ' <<<"$PING_OUT")"
		fi
		ip netns exec "$NS_A" "$PY" "$XFER" tcp-client --connect "$B4" \
			--port "$port" --timeout 2 >"$TMPD/$m-conn.out" 2>&1
		if grep -q 'connected' "$TMPD/$m-conn.out"; then
			fail closed.stop-tcp "a TCP connection was made while it hangs"
		else
			pass closed.stop-tcp "no TCP connection in 2 s while it hangs"
		fi
		bg_stop "$m-t-srv" TERM 2
	fi
	h1=$(hung_ctr "$NS_A")
	check "$m.still-stopped" "pid $pid in state '$(state "$pid")'" [ "$(state "$pid")" = T ]
	check "$m.hung-counted" "hung counter $h0 -> $h1, want it to grow" \
		[ "${h1:-0}" -gt "${h0:-0}" ]
	kill -CONT "$pid"
	if until_queued "$NS_A" "$B4" $((3000 * TIME_SCALE)) && [ "$WAITED" -le "$RESUME" ]; then
		pass "$m.resumed" "packets queued to it again $WAITED ms after SIGCONT"
	else
		fail "$m.resumed" "not queued again within $RESUME ms of SIGCONT (waited $WAITED ms)"
		dump "$pt"
	fi
	ping_case "$m.after-ping" "$NS_A" "$B4" 10
	sleep 1.2 # one status line after the hang
	local line
	line=$(grep '^passthru: .*hung=' "$TMPD/$pt.err" | tail -n 1)
	check "$m.status-line" "no hung=N > 0 in: $line" grep -Eq 'hung=[1-9]' <<<"$line"
	pt_done "$m.exit" "$pt" 10
}

stop_case open
stop_case closed --fail-closed

# ------------------------------------ a TCP transfer in flight at SIGSTOP

# keeper_pids NS: the keeper processes (one per handle) inside NS;
# keepers NS: how many.
keeper_pids() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = ipredir-keeper ] && echo "$p"
	done
}
keepers() {
	keeper_pids "$1" | wc -l
}

# The program stops while the client's data flows (1 MiB at 512 KiB/s, one
# way), so segments are queued to it at that instant.  The kernel does not
# retransmit a segment while a copy waits in a local queue: without the
# keeper the connection stalls until the program reads again.  Fail-open,
# the keeper passes what waited once the switch has tripped, and the
# transfer completes while the program is still stopped: within its own
# 2 s, the hang time and 1 s more.  Fail-closed, the keeper drops them and
# TCP's retransmissions meet the switch, which drops too, until SIGCONT;
# then the transfer completes without anything of it left in the queue.
midstream_case() {
	local m=$1 pt="ms-$1" pid port t0 own lim k kp sig i
	shift
	port=$([ "$m" = open ] && echo 6300 || echo 6400)
	if ! start_passthru "$pt" "$NS_A" "$@"; then
		fail "midstream.$m.start" "ipredir passthru $* did not start"
		return
	fi
	pid=${BG[$pt]}
	k=$(keepers "$NS_A")
	check "midstream.$m.keeper" "$k keeper processes in the namespace, want 1" [ "$k" -eq 1 ]
	# It ends when its program is gone, and only then: not on the
	# SIGTERM a service's stop sends to every process of the group, nor
	# on what a terminal sends.
	kp=$(keeper_pids "$NS_A")
	for sig in TERM INT HUP; do
		# shellcheck disable=SC2086 # one pid, or none
		kill -s $sig $kp 2>/dev/null
	done
	sleep 0.2
	k=$(keepers "$NS_A")
	check "midstream.$m.keeper-stays" "$k keeper processes after SIGTERM, SIGINT and SIGHUP, want 1" [ "$k" -eq 1 ]
	bg_start "ms$m-srv" "$NS_B" "$PY" "$XFER" tcp-server --bind "$B4" --port "$port" \
		--recv 1048576 --seed "$port" --timeout 30
	wait_port "$NS_B" tcp "$port" 10
	bg_start "ms$m-cli" "$NS_A" "$PY" "$XFER" tcp-client --connect "$B4" --port "$port" \
		--send 1048576 --rate 524288 --seed "$port" --timeout 30
	# stop it half a second into the data
	for ((i = 0; i < 200; i++)); do
		grep -q 'connected' "$TMPD/ms$m-cli.out" 2>/dev/null && break
		sleep 0.025
	done
	sleep 0.5
	kill -STOP "$pid"
	t0=$(now_ms)
	if [ "$m" = open ]; then
		lim=$((2000 + HANG + 1000 * TIME_SCALE))
		bg_wait "ms$m-cli" $(((lim + 999) / 1000 + 1))
		own=$(($(now_ms) - t0))
		if tcp_finish "ms$m" 10 && [ "$own" -le "$lim" ]; then
			pass open.midstream "1 MiB done $own ms after SIGSTOP (limit $lim), the program still stopped: $XFER_MSG"
		else
			fail open.midstream "transfer not done within $lim ms of SIGSTOP (waited $own ms; $XFER_MSG); queues: $(ip netns exec "$NS_A" cat /proc/net/netfilter/nfnetlink_queue | awk '{ printf "%s waiting %s, ", $1, $3 }')"
		fi
		check open.midstream-still-stopped "pid $pid in state '$(state "$pid")'" [ "$(state "$pid")" = T ]
		kill -CONT "$pid"
	else
		sleep $((HANG / 1000)).5
		check closed.midstream-still-stopped "pid $pid in state '$(state "$pid")'" [ "$(state "$pid")" = T ]
		kill -CONT "$pid"
		t0=$(now_ms)
		# TCP's next retransmission may be seconds away (backoff).
		lim=$((8000 * TIME_SCALE))
		if tcp_finish "ms$m" $(((lim + 999) / 1000 + 1)); then
			pass closed.midstream "1 MiB done $(($(now_ms) - t0)) ms after SIGCONT: $XFER_MSG"
		else
			fail closed.midstream "transfer not done $lim ms after SIGCONT ($XFER_MSG)"
		fi
	fi
	ping_case "$m.midstream-after" "$NS_A" "$B4" 3
	pt_done "$m.midstream-exit" "$pt" 3
	# The messages of what the keeper answered were still in the socket:
	# skipped, not answered again (the kernel would refuse: errors).
	check "$m.midstream-no-errors" "want errors=0 in: $PT_SUMMARY" \
		grep -q ' errors=0$' <<<"$PT_SUMMARY"
	k=$(keepers "$NS_A")
	for ((i = 0; i < 40 && k > 0; i++)); do
		sleep 0.05
		k=$(keepers "$NS_A")
	done
	check "midstream.$m.keeper-gone" "$k keeper processes left after the program" [ "$k" -eq 0 ]
}
midstream_case open
midstream_case closed --fail-closed

# ------------------------------------------- one thread deadlocked, one live

# Flows spread over the 2 queues by a hash of their addresses and ports: of
# 8 connections some land on the stuck thread's queue and must get through
# by the switch, the others still go through the live thread.
deadlock_case() {
	local pt=dl i ok=0 port q0a q0b h
	if ! start_prog "$pt" "$NS_A" ipr_hang --queues 2 --deadlock 1; then
		fail deadlock.start "ipr_hang --deadlock 1 did not start"
		return
	fi
	# Make thread 1 take a packet (and deadlock): ping until it has.
	for ((i = 0; i < 40; i++)); do
		ip netns exec "$NS_A" ping -n -q -c 1 -W 0.2 "$B4" >/dev/null 2>&1
		grep -Eq '^stat .* q1=[1-9]' "$TMPD/$pt.out" && break
		# a new source port per try: another hash, perhaps the other queue
		ip netns exec "$NS_A" "$PY" "$XFER" udp-send --connect "$B4" --port $((5800 + i)) \
			--count 1 --size 64 >/dev/null 2>&1
	done
	sleep $((HANG / 1000)).3
	q0a=$(sed -nE 's/^stat .* q0=([0-9]+).*/\1/p' "$TMPD/$pt.out" | tail -n 1)
	for ((i = 0; i < 8; i++)); do
		port=$((5900 + i))
		tcp_server "dl$i" "$port"
		bg_start "dl$i-cli" "$NS_A" "$PY" "$XFER" tcp-client --connect "$B4" --port "$port" \
			--send 65536 --recv 65536 --seed "$port" --timeout 8
		tcp_finish "dl$i" 10 && ok=$((ok + 1))
	done
	sleep 0.3
	q0b=$(sed -nE 's/^stat .* q0=([0-9]+).*/\1/p' "$TMPD/$pt.out" | tail -n 1)
	h=$(sed -nE 's/^stat .* hung=([0-9]+).*/\1/p' "$TMPD/$pt.out" | tail -n 1)
	check deadlock.thread-stuck "thread 1 never took a packet: $(tail -n 1 "$TMPD/$pt.out")" \
		grep -Eq '^stat .* q1=[1-9]' "$TMPD/$pt.out"
	check deadlock.all-connect "only $ok of 8 connections completed" [ "$ok" -eq 8 ]
	check deadlock.live-thread-works "queue 0's thread counted $q0a -> $q0b during 8 connections" \
		[ "${q0b:-0}" -gt "${q0a:-0}" ]
	check deadlock.stuck-queue-bypassed "hung=$h, want > 0 (packets of the stuck queue passed by the kernel)" \
		[ "${h:-0}" -gt 0 ]
	bg_kill9 "$pt"
}
deadlock_case

# --------------------------------------------- 5 s between two reads

sleep_case() {
	local pt=sl t0 i n0 n1
	if ! start_prog "$pt" "$NS_A" ipr_hang --queues 2 --sleep 5000; then
		fail sleep.start "ipr_hang --sleep 5000 did not start"
		return
	fi
	tcp_server sl 6000
	# Datagrams to new ports (another flow hash each) until both threads
	# have read one: each then answers and sleeps for 5 s.
	for ((i = 0; i < 40; i++)); do
		ip netns exec "$NS_A" "$PY" "$XFER" udp-send --connect "$B4" --port $((6100 + i)) \
			--count 1 --size 64 >/dev/null 2>&1
		sleep 0.05
		grep -Eq '^stat .* q0=[1-9][0-9]* q1=[1-9]' "$TMPD/$pt.out" && break
	done
	t0=$(now_ms)
	n0=$(sed -nE 's/^stat .* q0=([0-9]+) q1=([0-9]+).*/\1 \2/p' "$TMPD/$pt.out" | tail -n 1)
	check sleep.both-asleep "not both threads took a packet: $n0" \
		grep -Eq '^[1-9][0-9]* [1-9]' <<<"$n0"
	if until_ping "$NS_A" "$B4" 4000 && [ "$WAITED" -le "$LIMIT" ]; then
		pass sleep.ping "echo answered $WAITED ms into the 5 s sleep (limit $LIMIT)"
	else
		fail sleep.ping "no echo within $LIMIT ms (waited $WAITED ms)"
	fi
	at "$t0" "$HANG"
	new_tcp_start sl 6000
	new_tcp_check sleep.tcp sl "$t0"
	# After its sleep a thread reads again (what waited in its queue, or
	# the echoes sent now) before it falls asleep once more.
	local s0 s1 end
	s0=$((${n0% *} + ${n0#* }))
	s1=$s0 n1=$n0
	# 3 s past its wake-up at 5 s; later if the checks above took long
	# (an emulated guest): they may have let it read already.
	end=$((t0 + 8000))
	[ "$(now_ms)" -gt $((end - 2000)) ] && end=$(($(now_ms) + 2000 * TIME_SCALE))
	while [ "$(now_ms)" -lt "$end" ]; do
		ip netns exec "$NS_A" ping -n -q -c 1 -W 0.1 "$B4" >/dev/null 2>&1
		sleep 0.1
		n1=$(sed -nE 's/^stat .* q0=([0-9]+) q1=([0-9]+).*/\1 \2/p' "$TMPD/$pt.out" | tail -n 1)
		s1=$((${n1% *} + ${n1#* }))
		[ "$s1" -gt "$s0" ] && break
	done
	if [ "$s1" -gt "$s0" ]; then
		pass sleep.resumed "it reads again $(($(now_ms) - t0)) ms after it fell asleep (counts $n0 -> $n1)"
	else
		fail sleep.resumed "counts $n0 -> $n1: it did not read again after its 5 s sleep"
	fi
	bg_stop "$pt" TERM 10
}
sleep_case

# --------------------------------------------- a debugger stops it

gdb_case() {
	local pt=gdb pid
	if ! command -v gdb >/dev/null 2>&1; then
		skip gdb.all "gdb is not installed (scripts/deps installs it)"
		return
	fi
	if ! start_passthru "$pt" "$NS_A"; then
		fail gdb.start "ipredir passthru did not start"
		return
	fi
	pid=${BG[$pt]}
	ping_case gdb.before "$NS_A" "$B4" 3
	# gdb attaches (every thread stops) and holds it stopped for 4 s.
	bg_start gdbg "$NS_A" gdb -q -nx -batch -p "$pid" -ex 'shell sleep 4' -ex detach
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(state "$pid")" = t ] && break
		sleep 0.05
	done
	if [ "$(state "$pid")" != t ]; then
		skip gdb.all "gdb could not attach to pid $pid (ptrace not allowed here?): $(head -c 300 "$TMPD/gdbg.err" | tr '\n' ' ')"
		bg_stop gdbg TERM 5
		pt_done gdb.exit "$pt" 0
		return
	fi
	if until_ping "$NS_A" "$B4" $((3000 * TIME_SCALE)) && [ "$WAITED" -le "$LIMIT" ]; then
		pass gdb.ping "echo answered $WAITED ms after gdb attached (limit $LIMIT)"
	else
		fail gdb.ping "no echo within $LIMIT ms of gdb attaching (waited $WAITED ms)"
	fi
	bg_wait gdbg 10
	if until_queued "$NS_A" "$B4" $((3000 * TIME_SCALE)) && [ "$WAITED" -le "$RESUME" ]; then
		pass gdb.resumed "queued again $WAITED ms after gdb detached"
	else
		fail gdb.resumed "not queued again within $RESUME ms of gdb detaching (waited $WAITED ms)"
	fi
	pt_done gdb.exit "$pt" 5
}
gdb_case

# --------------------------------------------- idle: no flapping

idle_case() {
	local pt=idle q0 q1 h end lost=0 sent=0
	if ! start_passthru "$pt" "$NS_A" --hang-time 200; then
		fail idle.start "ipredir passthru --hang-time 200 did not start"
		return
	fi
	q0=$(qids "$NS_A")
	end=$(($(now_ms) + 20000))
	while [ "$(now_ms)" -lt "$end" ]; do
		sleep 0.5
		ip netns exec "$NS_A" ping -n -q -c 1 -W 1 "$B4" >/dev/null 2>&1 || lost=$((lost + 1))
		sent=$((sent + 1))
	done
	q1=$(qids "$NS_A")
	h=$(hung_ctr "$NS_A")
	check idle.no-flap "hung counter ${h:-?} after 20 s idle with a 200 ms hang time, want 0" \
		[ "${h:-1}" -eq 0 ]
	local ok=0
	[ $((q1 - q0)) -ge $((2 * sent)) ] && [ "$lost" -eq 0 ] && ok=1
	check idle.all-queued "$sent probes, $((q1 - q0)) packets queued (want 2 per probe), $lost lost" \
		[ $ok = 1 ]
	pt_done idle.exit "$pt" $((2 * sent))
}
idle_case

finish
