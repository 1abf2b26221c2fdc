#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# modify.sh - packets passed on with new contents: UDP payloads XOR-ed with
# 0x5a by ipr_modify arrive exactly so (IPv4 and IPv6, checksums right or
# the receiver would drop them), inbound ones are left alone (the filter says
# outbound); TCP packets written back whole keep the transfer intact.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_modify"
topo_pair


# counts CASE NAME KEY=N...: NAME exited 0 and its last line says exactly so.
counts() {
	local c=$1 n=$2 kv ok=1
	shift 2
	[ "${BG_DONE[$n]}" -eq 0 ] || ok=0
	for kv in "$@"; do
		[ "$(out_num "$n" "${kv%%=*}")" = "${kv#*=}" ] || ok=0
	done
	if [ "$ok" -eq 1 ]; then
		pass "$c" "$*"
	else
		fail "$c" "want status 0, $*; got status ${BG_DONE[$n]}: $(tail -n 1 "$TMPD/$n.out")"
		dump "$n"
	fi
}

if start_prog mod "$NS_A" ipr_modify 'udp.DstPort == 5401 and outbound'; then
	# The receiver XORs back and checks every byte against what was sent.
	udp_case xor4 x4 "$NS_A" "$NS_B" "$B4" 5401 500 1200 --xor 0x5a -- --pps 1000
	udp_case xor6 x6 "$NS_A" "$NS_B" "$B6" 5401 500 1200 --xor 0x5a -- --pps 1000
	udp_case inbound-untouched in4 "$NS_B" "$NS_A" "$A4" 5401 200 1200 -- --pps 1000
	bg_stop mod TERM 10
	counts modified-count mod modified=1000 errors=0
else
	fail start "ipr_modify did not start"
fi

# --- snaplen 128: datagrams that fit arrive XOR-ed; longer ones are handed
# over cut at 128 bytes with their real length, cannot be written back
# (EMSGSIZE), and are passed on whole and unchanged.
if start_prog snap "$NS_A" ipr_modify --snaplen 128 'udp.DstPort == 5403 and outbound'; then
	udp_case snap-small-xor sx4 "$NS_A" "$NS_B" "$B4" 5403 200 60 --xor 0x5a -- --pps 1000
	udp_case snap-long-intact sl4 "$NS_A" "$NS_B" "$B4" 5403 200 1200 -- --pps 1000
	udp_case snap-long-intact6 sl6 "$NS_A" "$NS_B" "$B6" 5403 200 1200 -- --pps 1000
	bg_stop snap TERM 10
	counts snap-count snap modified=200 snapped=400 errors=0
else
	fail start-snap "ipr_modify --snaplen 128 did not start"
fi

# --- replacements the kernel would refuse (its 2026 write checks drop them
# silently): a length field that does not match, a changed MF bit or IPv6
# next header.  The library says EINVAL and keeps the packet held; the one
# then written, with DF or the traffic class changed (allowed), arrives.
if start_prog bad "$NS_A" ipr_modify --bad 'udp.DstPort == 5404 and outbound'; then
	udp_case refuse-xor4 rb4 "$NS_A" "$NS_B" "$B4" 5404 200 700 --xor 0x5a -- --pps 1000
	udp_case refuse-xor6 rb6 "$NS_A" "$NS_B" "$B6" 5404 200 700 --xor 0x5a -- --pps 1000
	bg_stop bad TERM 10
	counts refuse-count bad modified=400 refused=800 errors=0
else
	fail start-bad "ipr_modify --bad did not start"
fi

if start_prog tcp "$NS_A" ipr_modify --tcp 'tcp.DstPort == 5402 or tcp.SrcPort == 5402'; then
	tcp_case rewrite-tcp4 t4 "$NS_A" "$NS_B" "$B4" 5402 $((8 << 20)) $((8 << 20))
	tcp_case rewrite-tcp6 t6 "$NS_A" "$NS_B" "$B6" 5402 $((8 << 20)) $((8 << 20))
	bg_stop tcp TERM 10
	m=$(out_num tcp rewritten) e=$(out_num tcp errors)
	if [ "${BG_DONE[tcp]}" -eq 0 ] && [ "${m:-0}" -gt 0 ] && [ "${e:-1}" -eq 0 ]; then
		pass rewrite-count "rewritten=$m errors=0"
	else
		fail rewrite-count "want status 0, rewritten > 0, errors=0; got status ${BG_DONE[tcp]}: $(tail -n 1 "$TMPD/tcp.out")"
		dump tcp
	fi
else
	fail start-tcp "ipr_modify --tcp did not start"
fi
finish
