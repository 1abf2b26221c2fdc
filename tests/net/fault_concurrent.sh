#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_concurrent.sh - handles opened and closed by four threads of one
# process at once (ipr_faultchurn --threads 4: each thread two handles on
# overlapping filters, 50 rounds) while a TCP transfer and pings cross
# them.  Independent handles must not get in each other's way: every open
# succeeds (two threads may look for a free queue number at the same
# moment), no descriptor of the process is closed or leaked, nothing is
# left behind, the transfer is intact.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_faultchurn"
topo_pair

# Each close in the namespace makes the kernel drop every packet queued in
# it, any handle's (README, "Safety").  Eight handles that read only now and
# then hold nearly every segment until some close drops it, so the upload
# may move little during the churn, and its retransmission timer backs off
# for as long as the churn lasts: measured under TSan on a loaded host,
# rto 26.6 s (backoff 7) when a 32-s churn ended, no ack for 33 s.  What is
# promised is that it recovers once the churn is over: the churn's bound
# (40 s), as long again for the last backed-off timer, 20 s to finish.
# It connects first (a SYN lost again and again backs off the same way).
XFER_TIMEOUT=$((100 * TIME_SCALE))
tcp_start long "$NS_A" "$NS_B" "$B4" 6201 $((8 << 20)) $((4 << 20)) --rate $((1 << 20)) ||
	fail transfer.start "$XFER_MSG"
wait_line long-cli '^tcp-client connected' $((10 * TIME_SCALE)) ||
	echo "# long-cli not connected after $((10 * TIME_SCALE)) s"
bg_start flood "$NS_A" ping -n -q -i 0.02 -w 30 "$B4"
bg_start churn "$NS_A" "$PROGS/ipr_faultchurn" --iterations 200 --threads 4 --warmup 2 \
	'tcp' 'tcp.DstPort == 6201 or tcp.SrcPort == 6201 or icmp'
bg_wait churn $((40 * TIME_SCALE))
rc=$?
# The connection as the churn leaves it (its timer says how long it may
# stay silent now), for the record.
ip netns exec "$NS_A" ss -tnio dst "$B4" 2>/dev/null | sed '1d;s/^/# after the churn: /'
line=$(grep '^churn' "$TMPD/churn.out")
oe=$(out_num churn open_errors) er=$(out_num churn errors)
if [ $rc -eq 0 ] && [ "${oe:-1}" -eq 0 ] && [ "${er:-1}" -eq 0 ]; then
	pass opens "every open and call succeeded: $(cut -d' ' -f2-8 <<<"$line")"
else
	fail opens "status $rc: $line $(grep -E '^(first|last)' "$TMPD/churn.out" | tr '\n' ' ')"
fi
fs=$(out_num churn fd_start) fa=$(out_num churn fd_after) si=$(out_num churn stdin_open)
ok=0
[ -n "$fs" ] && [ "$fs" = "$fa" ] && [ "${si:-0}" -eq 1 ] && ok=1
check fds-intact "want the process's descriptors untouched: at start $fs, at the end $fa, stdin open $si" \
	[ $ok = 1 ]
n=$(ipr_tables "$NS_A")
check no-table-left "$n ipredir table(s) left" [ "$n" -eq 0 ]
nq=$(nfq_count "$NS_A")
check no-queue-left "$nq queue(s) still bound" [ "$nq" -eq 0 ]
if tcp_finish long; then
	pass transfer "across the churn: $XFER_MSG"
else
	fail transfer "$XFER_MSG"
fi
bg_stop flood TERM 5
finish
