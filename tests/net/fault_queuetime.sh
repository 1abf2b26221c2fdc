#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_queuetime.sh - a program that never answers some packets (every
# fifth UDP datagram, IPv4 and IPv6) while it passes the rest and a TCP
# transfer: exactly those are dropped, after the queue time and not before,
# and counted exactly; everything else arrives.  Then packets still held
# when the program closes: passed on (fail-open) or dropped (fail-closed).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_faulthold"
topo_pair

QT=300
# st NAME KEY: a key=value from the last line of NAME's output holding KEY.
st() { grep -E "(^| )$2=" "$TMPD/$1.out" | tail -n 1 | sed -nE "s/.*(^| )$2=([0-9.]+).*/\2/p"; }

FILTER='udp.DstPort == 5601 or udp.DstPort == 5602 or tcp.DstPort == 5603 or tcp.SrcPort == 5603'
if ! start_prog qt "$NS_A" ipr_faulthold --skip-every 5 --queue-time $QT --seconds 40 "$FILTER"; then
	fail start "ipr_faulthold did not start"
	finish
fi
tcp_start tq "$NS_A" "$NS_B" "$B4" 5603 $((4 << 20)) $((4 << 20)) --rate $((2 << 20)) ||
	fail tcp "$XFER_MSG"
# 100 datagrams each way of IP: seqs 0..99, every fifth (20) unanswered.
udp_xfer u4 "$NS_A" "$NS_B" "$B4" 5601 100 1000 --min 0 --idle 2 --timeout 10 -- --pps 200
ok4=$UDP_OK msg4=$XFER_MSG
udp_xfer u6 "$NS_A" "$NS_B" "$B6" 5602 100 1000 --min 0 --idle 2 --timeout 10 -- --pps 200
ok6=$UDP_OK msg6=$XFER_MSG
check udp4-rest-flows "want exactly 80 of 100: $msg4" [ "$ok4" -eq 80 ]
check udp6-rest-flows "want exactly 80 of 100: $msg6" [ "$ok6" -eq 80 ]
if tcp_finish tq; then
	pass tcp-flows "transfer beside the unanswered packets intact: $XFER_MSG"
else
	fail tcp-flows "$XFER_MSG"
fi
sleep 0.5 # past the queue time of the last unanswered one
bg_stop qt TERM 10
check exit "ipr_faulthold exit status ${BG_DONE[qt]}" [ "${BG_DONE[qt]}" -eq 0 ]

# Exactly the multiples of 5, 20 per IP version, were held.
want=$(for v in 4 6; do for s in $(seq 0 5 95); do echo "held seq=$s v=$v"; done; done | sort)
got=$(grep '^held ' "$TMPD/qt.out" | sort)
if [ "$got" = "$want" ]; then
	pass held-exactly "seqs 0,5,..,95 over IPv4 and IPv6: 40 held"
else
	fail held-exactly "held lines differ from seqs 0,5,..,95 x {4,6}: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
fi
rp=$(st qt recv_packets) sp=$(st qt sent_packets) dt=$(st qt dropped_timeout)
dv=$(st qt dropped_verdict) kq=$(st qt kernel_queue_dropped) ku=$(st qt kernel_user_dropped)
er=$(st qt errors) udp=$(st qt udp) held=$(st qt held)
line="$(grep '^stats' "$TMPD/qt.out") | $(grep '^prog' "$TMPD/qt.out")"
ok=0
[ "${udp:-0}" -eq 200 ] && [ "${held:-0}" -eq 40 ] && ok=1
check stats-udp "want udp=200 held=40: $line" [ $ok = 1 ]
check stats-dropped-timeout "want dropped_timeout=40: $line" [ "${dt:--1}" -eq 40 ]
check stats-sent "want sent_packets = recv_packets - 40: $line" [ "${sp:--1}" -eq $((${rp:-0} - 40)) ]
ok=0
[ "${dv:--1}" -eq 0 ] && [ "${kq:--1}" -eq 0 ] && [ "${ku:--1}" -eq 0 ] && [ "${er:--1}" -eq 0 ] && ok=1
check stats-no-other-drops "want dropped_verdict, kernel drops and errors 0: $line" [ $ok = 1 ]
n=$(st qt n) mn=$(st qt min_ms) mx=$(st qt max_ms)
# Dropped no sooner than the queue time (less 2 ms for the gap between
# the library's clock reading and ours, which a thread preempted in an
# emulated guest can stretch: 7 ms seen under QEMU), and not much later.
slack=2
[ "$TIME_SCALE" -gt 1 ] && slack=25
if [ "${n:-0}" -eq 40 ] && awk -v a="$mn" -v b="$mx" -v q=$QT -v s=$slack 'BEGIN { exit !(a >= q - s && b <= q + 250) }'; then
	pass expiry-time "40 dropped ${mn}..${mx} ms after arrival (queue time $QT ms)"
else
	fail expiry-time "want 40 dropped between $((QT - slack)) and $((QT + 250)) ms after arrival: $(grep '^expiry' "$TMPD/qt.out")"
fi

# The same after the program sat blocked in a receive for a while (as
# ipr_recv does, with no timeout): the queue time still counts from the
# packet's arrival, not from when the receive began.
if start_prog idle "$NS_A" ipr_faulthold --skip-every 1 --queue-time $QT --recv-timeout 5000 \
	--seconds 30 'udp.DstPort == 5620'; then
	for i in 1 2; do
		sleep 1.5
		ip netns exec "$NS_A" "$PY" "$XFER" udp-send --connect "$B4" --port 5620 \
			--count 1 --first $i --size 100 >/dev/null 2>&1
	done
	sleep 1
	bg_stop idle TERM 10
	n=$(st idle n) mn=$(st idle min_ms) mx=$(st idle max_ms)
	if [ "${n:-0}" -eq 2 ] && awk -v a="$mn" -v b="$mx" -v q=$QT 'BEGIN { exit !(a >= q - 2 && b <= q + 250) }'; then
		pass expiry-after-idle "2 dropped ${mn}..${mx} ms after arrival (queue time $QT ms)"
	else
		fail expiry-after-idle "want 2 dropped between $((QT - 2)) and $((QT + 250)) ms after arrival, after 1.5 s blocked in receive: $(grep '^expiry' "$TMPD/idle.out")"
	fi
else
	fail expiry-after-idle "ipr_faulthold did not start"
fi

# Held at close: ipr_close passes them on, or drops them with fail-closed.
for m in open closed; do
	args=()
	want=10
	if [ $m = closed ]; then args=(--fail-closed); want=0; fi
	port=$((5610 + ${#args[@]}))
	if ! start_prog "close-$m" "$NS_A" ipr_faulthold --skip-every 1 --queue-time 10000 \
		--seconds 30 "${args[@]}" "udp.DstPort == $port"; then
		fail "close-$m" "ipr_faulthold did not start"
		continue
	fi
	bg_start "rc-$m" "$NS_B" "$PY" "$XFER" udp-recv --bind "$B4" --port $port --count 10 \
		--size 1000 --min 0 --idle 3 --timeout 10
	wait_port "$NS_B" udp $port 5
	ip netns exec "$NS_A" "$PY" "$XFER" udp-send --connect "$B4" --port $port --count 10 \
		--size 1000 --pps 100 >/dev/null 2>&1
	sleep 0.5
	h=$(grep -c '^held ' "$TMPD/close-$m.out")
	bg_stop "close-$m" TERM 10
	bg_wait "rc-$m" 10
	got=$(sed -nE 's/^udp-recv ok=([0-9]+).*/\1/p' "$TMPD/rc-$m.out")
	if [ "$h" -eq 10 ] && [ "${got:-0}" -eq $want ] && [ "${BG_DONE[close-$m]}" -eq 0 ]; then
		pass "close-$m" "10 held at close, $got arrived (want $want)"
	else
		fail "close-$m" "want 10 held and $want arriving after ipr_close: held $h, arrived '${got}', exit ${BG_DONE[close-$m]}"
		dump "close-$m" "rc-$m"
	fi
done
finish
