#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_iface.sh - the network changes under a running ipredir passthru:
# its interface goes down and up (and the peer's), its addresses and MTU
# change, all under traffic: traffic resumes, passthru keeps running and
# exits 0 on SIGTERM.  The same when the interface vanishes (its peer's
# namespace is deleted) and a new one appears.  Then the namespace of a
# running handle is deleted (ip netns del): the program must go on or end
# cleanly within seconds, never hang or die by a signal.  (A namespace
# lives on while a process is inside it: the deletion only removes its
# name, so "go on" is what the kernel makes possible, and SIGTERM must
# still end it cleanly.)
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair

# until_ok SECONDS CMD...: retry CMD until it succeeds or time is up.
until_ok() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
alive_case() {
	if bg_running "$2"; then pass "$1"; else
		bg_wait "$2" 1
		fail "$1" "passthru ended (status ${BG_DONE[$2]})"
		dump "$2"
	fi
}

# IPv6 addresses stay through a link flap, as IPv4 ones do (else the flap
# itself, not ipredir, would take them away).
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1 \
		net.ipv6.conf.v0.keep_addr_on_down=1 >/dev/null
done

if ! start_passthru pt "$NS_A"; then
	fail start "ipredir passthru did not start"
	finish
fi

# --- link down and up under a paced transfer, both ends in turn.
tcp_start flap "$NS_A" "$NS_B" "$B4" 5901 $((6 << 20)) $((2 << 20)) --rate $((1 << 20)) ||
	fail flap.start "$XFER_MSG"
# The flaps come once the transfer runs (a client that started late, as
# Python does under emulation, would find the link down and no route).
wait_line flap-cli '^tcp-client connected' $((10 * TIME_SCALE)) ||
	echo "# flap-cli not connected after $((10 * TIME_SCALE)) s"
bg_start flood "$NS_B" ping -n -q -i 0.01 -w 12 "$A4"
sleep 1
for side in A B; do
	ns=$NS_A
	[ $side = B ] && ns=$NS_B
	ip -n "$ns" link set v0 down
	sleep 1
	ip -n "$ns" link set v0 up
	if until_ok 10 ping_ok "$NS_A" "$B4" 1; then
		pass "down-up-$side.ping" "echo answered again after $side's v0 went down and up"
	else
		fail "down-up-$side.ping" "no echo within 10 s after $side's v0 came back up"
	fi
	alive_case "down-up-$side.passthru-alive" pt
done
if tcp_finish flap; then
	pass flap.transfer "transfer across both link flaps intact: $XFER_MSG"
else
	fail flap.transfer "$XFER_MSG"
fi
ping_case after-flap.ping6 "$NS_A" "$B6" 5

# --- addresses change: A's go, new ones come (deleting a primary IPv4
# address would take secondaries of its subnet with it: old ones first).
XFER_TIMEOUT=$((10 * TIME_SCALE))
NA4=198.18.1.11 NA6=fd00:1::11
ip -n "$NS_A" addr del $A4/24 dev v0
ip -n "$NS_A" -6 addr del $A6/64 dev v0
ip -n "$NS_A" addr add $NA4/24 dev v0
ip -n "$NS_A" -6 addr add $NA6/64 dev v0 nodad
until_ok 5 ping_ok "$NS_B" "$NA4" 1
ping_case addr-change.ping4 "$NS_B" "$NA4" 5
ping_case addr-change.ping6 "$NS_B" "$NA6" 5
tcp_case addr-change.tcp4 ac4 "$NS_B" "$NS_A" "$NA4" 5902 $((2 << 20)) $((2 << 20))
tcp_case addr-change.tcp6 ac6 "$NS_B" "$NS_A" "$NA6" 5903 $((2 << 20)) $((2 << 20))
udp_case addr-change.udp4 acu "$NS_A" "$NS_B" "$B4" 5904 300 1000
alive_case addr-change.passthru-alive pt
bg_wait flood 15
# The MTU too: a smaller one, then back.
ip -n "$NS_A" link set v0 mtu 1280
tcp_case mtu.tcp4 mt "$NS_A" "$NS_B" "$B4" 5905 $((2 << 20)) $((2 << 20))
ip -n "$NS_A" link set v0 mtu 1500
# About 1000 datagrams and echo packets crossed it, besides the TCP.
pt_done iface.exit pt 1000

# --- the interface goes away for good (its peer's namespace is deleted,
# which destroys the veth pair), and a new one comes.
if start_passthru pt2 "$NS_A"; then
	ping_ok "$NS_A" "$B4" 3
	for pid in $(ip netns pids "$NS_B"); do kill -KILL "$pid" 2>/dev/null; done
	ip netns del "$NS_B"
	if until_ok 5 bash -c "! ip -n '$NS_A' link show v0 >/dev/null 2>&1"; then
		pass gone.iface "A's v0 vanished with B's namespace"
	else
		fail gone.iface "A's v0 is still there 5 s after B's namespace was deleted"
	fi
	sleep 1
	alive_case gone.passthru-alive pt2
	ns_create C
	NS_C=$NS_TAG-C
	if veth "$NS_A" v1 "$NS_C" v0 && addrs "$NS_A" v1 198.18.3.1/24 fd00:3::1/64 &&
		addrs "$NS_C" v0 198.18.3.2/24 fd00:3::2/64; then
		ping_case gone.new-iface.ping4 "$NS_A" 198.18.3.2 5
		tcp_case gone.new-iface.tcp4 ni "$NS_A" "$NS_C" 198.18.3.2 5906 $((2 << 20)) $((2 << 20))
	else
		fail gone.new-iface "cannot make a new veth pair A-C"
	fi
	pt_done gone.exit pt2 10
else
	fail gone.start "ipredir passthru did not start"
fi

# --- the namespace of a running handle is deleted.
ns_create X
NS_X=$NS_TAG-X
if start_passthru ptx "$NS_X"; then
	# Loopback traffic inside X keeps the handle busy the whole time.
	bg_start xping "$NS_X" ping -n -q -i 0.01 -w 20 127.0.0.1
	sleep 1
	c0=$(sed -nE 's/^passthru: ([0-9]+) pkts.*/\1/p' "$TMPD/ptx.err" | tail -n 1)
	if ip netns del "$NS_X"; then
		pass netns-del.deleted "$NS_X deleted while passthru runs in it"
	else
		fail netns-del.deleted "cannot delete $NS_X"
	fi
	sleep 3
	# Still running (the namespace lives on inside it) or ended cleanly.
	if bg_running ptx; then
		c1=$(sed -nE 's/^passthru: ([0-9]+) pkts.*/\1/p' "$TMPD/ptx.err" | tail -n 1)
		if [ "${c1:-0}" -gt "${c0:-0}" ]; then
			pass netns-del.no-hang "still running 3 s later, counter $c0 -> $c1"
		else
			fail netns-del.no-hang "running but its counter is stuck at $c1 (was $c0)"
		fi
		bg_stop ptx TERM 5
		rc=$?
		if [ "$rc" -eq 0 ]; then
			pass netns-del.exit "exit 0 on SIGTERM"
		else
			fail netns-del.exit "want exit 0 on SIGTERM, got status $rc (124: hung, >128: killed by a signal)"
			dump ptx
		fi
	else
		bg_wait ptx 1
		rc=${BG_DONE[ptx]}
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
			pass netns-del.no-hang "ended by itself with status $rc"
			pass netns-del.exit "status $rc"
		else
			fail netns-del.no-hang "ended with status $rc (>128: killed by a signal)"
			dump ptx
		fi
	fi
	bg_stop xping TERM 5
else
	fail netns-del.start "ipredir passthru did not start in $NS_X"
fi
finish
