#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# filter_diff.sh - kernel and user space agree: for each of many filters
# (handwritten and generated), a handle delivers exactly the packets of a
# fixed mixed stream that ipr_filter_eval matches: inbound in B (sent from
# A), then forwarded in R (sent from C to S).  The work is done by
# tests/progs/ipr_diff, which prints one PASS/FAIL line per filter.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_diff"
topo_pair

# Nothing in B may drop the crafted packets before the input hook.
ip netns exec "$NS_B" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.v0.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null

GEN=${IPR_DIFF_GENERATED:-60}
SEED=${IPR_DIFF_SEED:-0x2545f4914f6cdd1d}

# diff_run CASE NS ARGS...: ipr_diff in NS; its PASS/FAIL lines are the
# test's own, CASE says how it ended.
diff_run() {
	local c=$1 ns=$2 rc t0 t1
	shift 2
	t0=$(date +%s)
	timeout 120 ip netns exec "$ns" "$PROGS/ipr_diff" --generated "$GEN" \
		--seed "$SEED" "$@" 2>"$TMPD/$c.err"
	rc=$?
	t1=$(date +%s)
	if [ $rc -eq 0 ]; then
		pass "$c" "ipr_diff exited 0 after $((t1 - t0)) s ($GEN generated filters, seed $SEED)"
	else
		fail "$c" "ipr_diff exited $rc after $((t1 - t0)) s (seed $SEED)"
		sed 's/^/  | /' "$TMPD/$c.err" | tail -n 20
	fi
}

# Inbound: A sends to B, the handles are in B.
diff_run run "$NS_B" --peer-ns "$NS_A" --peer-if v0 --if v0 \
	--a4 "$A4" --b4 "$B4" --a6 "$A6" --b6 "$B6"

# Without the inner payload expression (Linux < 5.16), as ipr_open runs
# such filters there: tcp/udp.Payload[i] checked in user space, the kernel
# keeping only their protocol.  More generated filters, to meet more
# Payload tests.
IPREDIR_DISABLE=inner-payload diff_run run-no-inner-payload "$NS_B" \
	--peer-ns "$NS_A" --peer-if v0 --if v0 --a4 "$A4" --b4 "$B4" \
	--a6 "$A6" --b6 "$B6" --only Payload --prefix filter_diff_noih \
	--generated $((GEN * 3))

# Forwarded: C sends to S through R, the handles are in R at the forward
# layer.  Nothing reassembles there, so later IPv4 fragments come by too.
topo_router
ip netns exec "$NS_R" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.vc.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
diff_run run-forward "$NS_R" --forward --peer-ns "$NS_C" --peer-if v0 \
	--if vc --out-if vs --a4 "$C4" --b4 "$S4" --a6 "$C6" --b6 "$S6"
finish
