#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# inject.sh - packets made by the program: a UDP datagram injected outbound
# in A reaches B's socket, one injected inbound in A (from B's address)
# reaches A's socket; IPv4 and IPv6.  The injecting handle's own filter
# matches them, yet it never gets them back, while it does get ordinary
# datagrams on the same port.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_inject"
topo_pair

# inject_case CASE RECV_NS RECV_ADDR SEND_NS(control) SRC PORT [--inbound]
inject_case() {
	local c=$1 rns=$2 raddr=$3 cns=$4 src=$5 port=$6 dir=${7:-}
	local sport=$((port + 30000))
	bg_start "$c-rcv" "$rns" "$PY" "$XFER" udp-recv --bind "$raddr" --port "$port" \
		--count 2 --print --idle $((3 * TIME_SCALE)) --timeout $((8 * TIME_SCALE))
	if ! wait_port "$rns" udp "$port" 10; then
		fail "$c" "receiver did not bind"
		return
	fi
	# The handle lives in A in both directions: the datagram leaves A
	# (outbound) or arrives at A (inbound).
	if ! start_prog "$c-inj" "$NS_A" ipr_inject --src "$src" --dst "$raddr" \
		--sport $sport --dport "$port" --ifname v0 --count 1 --seconds $((2 * TIME_SCALE)) ${dir:+"$dir"} \
		"udp.DstPort == $port"; then
		fail "$c" "ipr_inject did not start"
		return
	fi
	# An ordinary datagram on the same port, which the handle must see.
	ip netns exec "$cns" "$PY" "$XFER" udp-send --connect "$raddr" --port "$port" \
		--text CONTROL-DATAGRAM --timeout 5 >"$TMPD/$c-ctl.out" 2>&1
	bg_wait "$c-inj" $((8 + 2 * TIME_SCALE))
	local irc=$?
	bg_wait "$c-rcv" $((7 + 8 * TIME_SCALE))
	local line got
	line=$(grep -E '^injected=' "$TMPD/$c-inj.out")
	got=$(grep -F "IPREDIR-INJECT-MAGIC" "$TMPD/$c-rcv.out")
	if grep -Eq "^udp-recv from $src $sport len=" <<<"$got"; then
		pass "$c.delivered" "from $src port $sport: ${got##*data=}"
	else
		fail "$c.delivered" "no injected datagram from $src port $sport at $raddr (ipr_inject: $(grep -E '^inject ' "$TMPD/$c-inj.out"))"
		dump "$c-rcv" "$c-inj"
	fi
	if grep -q 'CONTROL-DATAGRAM' "$TMPD/$c-rcv.out"; then
		pass "$c.control" "the ordinary datagram arrived too"
	else
		fail "$c.control" "the ordinary datagram did not arrive"
	fi
	if [ $irc -eq 0 ] && grep -Eq 'seen_injected=0 seen_other=[1-9]' <<<"$line"; then
		pass "$c.not-looped" "$line"
	else
		fail "$c.not-looped" "want status 0, seen_injected=0 and the ordinary one seen; got status $irc: $line"
		dump "$c-inj"
	fi
}

inject_case out4 "$NS_B" "$B4" "$NS_A" "$A4" 5501
inject_case in4 "$NS_A" "$A4" "$NS_B" "$B4" 5502 --inbound
inject_case out6 "$NS_B" "$B6" "$NS_A" "$A6" 5503
inject_case in6 "$NS_A" "$A6" "$NS_B" "$B6" 5504 --inbound
finish
