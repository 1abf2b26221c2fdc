#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_monitor.sh - `ipredir monitor`: with -c 20 and -w, 10 IPv4 and 10
# IPv6 datagrams sent from A give exactly 20 lines and a pcap of raw IP
# (link type 101) with exactly those 20 packets, byte for byte, that
# tcpdump -r reads; it exits by itself after the count; --hex dumps;
# SIGTERM ends it with status 0 and a summary; a monitor stuck on a full
# output pipe does not hold or slow the traffic; a bad filter is one error
# line (then the caret) and status 2; --snaplen cuts the copies but keeps
# the real lengths.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair

IDX=$(ip netns exec "$NS_A" cat /sys/class/net/v0/ifindex 2>/dev/null ||
	ip -n "$NS_A" -o link show v0 | cut -d: -f1)
CAP=$TMPD/cap.pcap
if ! start_tool mon "$NS_A" '^monitor: listening' monitor -w "$CAP" -c 20 \
	'udp.DstPort == 5901 or udp.DstPort == 5902'; then
	fail start "monitor did not start"
	finish
fi
# Receivers, so that no ICMP error comes back; the monitor sees only UDP.
udp_xfer m4 "$NS_A" "$NS_B" "$B4" 5901 10 300 -- --pps 200 >/dev/null
udp_xfer m6 "$NS_A" "$NS_B" "$B6" 5902 10 300 -- --pps 200 >/dev/null
bg_wait mon 10
rc=$?
check count-exit "monitor -c 20 did not exit 0 by itself (status $rc)" [ $rc -eq 0 ]

n4=$(grep -Ec "^[0-9:.]+ out if=$IDX UDP $A4:[0-9]+ -> $B4:5901 len=328( |$)" "$TMPD/mon.out")
n6=$(grep -Ec "^[0-9:.]+ out if=$IDX UDP \[$A6\]:[0-9]+ -> \[$B6\]:5902 len=348( |$)" "$TMPD/mon.out")
total=$(wc -l <"$TMPD/mon.out")
if [ "$n4" -eq 10 ] && [ "$n6" -eq 10 ] && [ "$total" -eq 20 ]; then
	pass lines "10 IPv4 + 10 IPv6 lines: $(head -n 1 "$TMPD/mon.out")"
else
	fail lines "want 10 + 10 lines of 20; got $n4 + $n6 of $total"
	dump mon
fi

# The capture: 20 records, raw IP, each datagram byte for byte as sent
# (udp_xfer seeds its datagrams with port * 11 + count).
res=$("$PY" "$HELPER" pcap-check "$CAP" --count 20 --size 300 \
	--seed $((5901 * 11 + 10)) --seed $((5902 * 11 + 10)) 2>&1)
if grep -q 'linktype=101 records=20 good=20 ok' <<<"$res"; then
	pass pcap-content "$res"
else
	fail pcap-content "$res"
fi
if command -v tcpdump >/dev/null; then
	lines=$(tcpdump -n -r "$CAP" 2>"$TMPD/td.err" | wc -l)
	if [ "$lines" -eq 20 ] && grep -q 'link-type RAW' "$TMPD/td.err"; then
		pass tcpdump-reads "20 packets, link-type RAW"
	else
		fail tcpdump-reads "tcpdump -r: $lines packets; $(cat "$TMPD/td.err")"
	fi
else
	skip tcpdump-reads "no tcpdump (scripts/deps installs it)"
fi

# --snaplen 128: lines and pcap records keep the real length (328), the
# records hold the first 128 bytes, and the file says snaplen 128.
CAPS=$TMPD/snap.pcap
if start_tool ms "$NS_A" '^monitor: listening' monitor -s 128 -w "$CAPS" -c 4 'udp.DstPort == 5903'; then
	udp_xfer ms4 "$NS_A" "$NS_B" "$B4" 5903 4 300 -- --pps 200 >/dev/null
	bg_wait ms 10
	rc=$?
	lines=$(grep -Ec "UDP $A4:[0-9]+ -> $B4:5903 len=328 .*truncated" "$TMPD/ms.out")
	res=$("$PY" - "$CAPS" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
snap, link = struct.unpack_from('<II', d, 16)
recs, off = [], 24
while off + 16 <= len(d):
    _, _, incl, orig = struct.unpack_from('<IIII', d, off)
    recs.append((incl, orig))
    off += 16 + incl
print('snaplen=%d link=%d records=%s' % (snap, link, ' '.join('%d/%d' % r for r in recs)))
PYEOF
)
	if [ $rc -eq 0 ] && [ "$lines" -eq 4 ] &&
		[ "$res" = "snaplen=128 link=101 records=128/328 128/328 128/328 128/328" ]; then
		pass snaplen "4 lines len=328 truncated; $res"
	else
		fail snaplen "want status 0, 4 truncated lines of len=328 and 4 records 128/328; got status $rc, $lines lines, $res"
		dump ms
	fi
else
	fail snaplen "monitor -s 128 did not start"
fi

# --hex, and SIGTERM with a summary.
if start_tool hx "$NS_A" '^monitor: listening' monitor --hex icmp; then
	ip netns exec "$NS_A" ping -n -q -c 2 -i 0.2 -W 1 "$B4" >/dev/null 2>&1
	sleep 0.3
	stop_tool hx
	rc=$?
	if [ $rc -eq 0 ] && grep -Eq '^monitor: 4 packets' <<<"$SUMMARY" &&
		grep -Eq $'^\t0x0000: 4500 ' "$TMPD/hx.out"; then
		pass hex-sigterm "status 0, '$SUMMARY', hex lines present"
	else
		fail hex-sigterm "status $rc, summary '$SUMMARY'"
		dump hx
	fi
else
	fail hex-sigterm "monitor --hex did not start"
fi

# A monitor whose output nobody reads (its pipe full) must not hold the
# traffic: all pings answered, fast.
bg_start stuck "$NS_A" bash -c "'$IPREDIR' monitor --hex icmp | sleep 60"
sleep 0.5
PING_OUT=$(ip netns exec "$NS_A" timeout 20 ping -n -q -c 300 -i 0.01 -W 1 "$B4" 2>&1)
if grep -q '^300 packets transmitted, 300 received' <<<"$PING_OUT" &&
	IFS=/ read -r _ av _ _ <<<"$(ping_rtt)" && in_range "$av" 0 5; then
	pass not-delayed "monitor blocked on a full pipe; $(grep received <<<"$PING_OUT"), rtt $(ping_rtt) ms"
else
	fail not-delayed "$(tr '\n' ' ' <<<"$PING_OUT")"
fi
bg_stop stuck TERM 5

bad_input bad-filter "$NS_A" "^ipredir monitor: bad filter: .* at position" monitor 'tcp.DstPort =='
bad_input bad-count "$NS_A" "^ipredir monitor: --count wants .* not 'many'$" monitor -c many
bad_input bad-snaplen "$NS_A" "^ipredir monitor: --snaplen wants .* not '64'$" monitor -s 64
bad_input bad-interface "$NS_A" "^ipredir monitor: no interface 'nosuch0'" monitor -i nosuch0 tcp
finish
