#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/vm/probes/sockcharge.sh - what one queued packet costs in the
# receive buffer of a nfnetlink_queue socket, on the running kernel: a
# handle that sleeps before its first read (ipr_hold --sleep) gets N UDP
# datagrams of SIZE bytes, and while it sleeps /proc/net/netlink gives the
# socket's Rmem and nfnetlink_queue the packets waiting.  Evidence for
# failopen.sock.bypassed, which needs the 64 KiB buffer to overflow.
#   tests/vm/run 6.1 --cmd 'bash tests/vm/probes/sockcharge.sh'
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../../net/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_hold"
topo_pair
echo "# kernel $(uname -r)"
port=5400
for size in 100 1200 8000; do
	port=$((port + 1))
	if ! start_prog "h$size" "$NS_A" ipr_hold --hold 0 --queue-size 65536 --sleep 6000 \
		--seconds 20 "udp.DstPort == $port"; then
		fail "size$size.start" "ipr_hold did not start"
		continue
	fi
	ip netns exec "$NS_A" "$PY" "$XFER" udp-send --connect "$B4" --port "$port" \
		--count 40 --size "$size" --seed 1 --timeout 5 --pps 400 >/dev/null 2>&1
	sleep 0.5
	# netlink sockets of protocol 12 (netfilter) with data waiting
	rmem=$(ip netns exec "$NS_A" awk 'NR > 1 && $2 == 12 && $5 > 0 { s += $5 } END { print s + 0 }' /proc/net/netlink)
	rcvbuf=65536
	read -r _ _ waiting _ _ _ udrop idseq _ < <(ip netns exec "$NS_A" sort -n /proc/net/netfilter/nfnetlink_queue | head -n 1)
	per=$((waiting > 0 ? rmem / waiting : 0))
	pass "size$size" "datagram $size B: $waiting waiting, socket Rmem $rmem B, $per B charged per packet (user_dropped $udrop, id_sequence $idseq)"
	bg_stop "h$size" TERM 10
done
finish
