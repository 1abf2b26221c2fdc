#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_churn.sh - two handles on overlapping filters opened and closed
# 1000 times in a tight loop (tests/progs/ipr_faultchurn.c) while a TCP
# transfer and pings cross them: no file descriptor leaked (or closed that
# was not the library's), anonymous RSS bounded, never more than the two tables at
# once and none at the end, no queue left bound, the transfer intact.
# (fault_concurrent.sh does the same with loops in several threads.)
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_faultchurn"
topo_pair

ITER=${FAULT_CHURN_ITERATIONS:-1000}
THREADS=${FAULT_CHURN_THREADS:-1}
RSS_MARGIN_KB=1024 # growth allowed over the loop (after a warm-up)

# A long paced transfer both ways that spans the churn.
XFER_TIMEOUT=$((50 * TIME_SCALE))
tcp_start long "$NS_A" "$NS_B" "$B4" 6001 $((24 << 20)) $((8 << 20)) --rate $((1 << 20)) ||
	fail transfer.start "$XFER_MSG"
bg_start flood "$NS_A" ping -n -q -i 0.02 -w 45 "$B4"

# Under AddressSanitizer freed memory waits in a quarantine, which looks
# like growth: none here (ignored by a build without it); its leak check
# at exit then reports what a leak would be.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
bg_start churn "$NS_A" "$PROGS/ipr_faultchurn" --iterations "$ITER" --threads "$THREADS" --warmup 20 \
	'tcp' 'tcp.DstPort == 6001 or tcp.SrcPort == 6001 or icmp'
maxt=0
for ((i = 0; i < 1100; i++)); do
	bg_running churn || break
	t=$(ipr_tables "$NS_A")
	[ "$t" -gt "$maxt" ] && maxt=$t
	sleep 0.05
done
bg_wait churn 30
rc=$?
if [ $rc -eq 0 ]; then
	pass loop "$(grep '^churn' "$TMPD/churn.out" | cut -d' ' -f2-8)"
else
	fail loop "ipr_faultchurn status $rc: $(grep -E '^(churn|first|last)' "$TMPD/churn.out" | tr '\n' ' ')"
	dump churn
fi
if [ "$maxt" -le $((2 * THREADS)) ]; then
	pass max-tables "at most $maxt at once ($THREADS loops of two handles)"
else
	fail max-tables "up to $maxt ipredir tables at once (want at most $((2 * THREADS)))"
fi
fs=$(out_num churn fd_start) fb=$(out_num churn fd_before) fa=$(out_num churn fd_after)
ok=0
[ -n "$fb" ] && [ "$fs" = "$fb" ] && [ "$fb" = "$fa" ] && ok=1
check no-fd-leak "fds at start $fs, before the loop $fb, after $fa" [ $ok = 1 ]
rb=$(out_num churn rss_before_kb) ra=$(out_num churn rss_after_kb) rm=$(out_num churn rss_max_kb)
if [ -n "$rb" ] && [ -n "$ra" ] && [ "$ra" -le $((rb + RSS_MARGIN_KB)) ] &&
	[ "$rm" -le $((rb + RSS_MARGIN_KB)) ]; then
	pass rss-bounded "anonymous RSS ${rb} kB before, ${ra} kB after, ${rm} kB at most (margin ${RSS_MARGIN_KB} kB; VmRSS $(out_num churn vmrss_before_kb) -> $(out_num churn vmrss_after_kb) kB)"
else
	fail rss-bounded "anonymous RSS grew: before ${rb} kB, after ${ra} kB, max ${rm} kB (margin ${RSS_MARGIN_KB} kB; VmRSS $(out_num churn vmrss_before_kb) -> $(out_num churn vmrss_after_kb) kB)"
fi
n=$(ipr_tables "$NS_A")
check no-table-left "$n ipredir table(s) left: $(ip netns exec "$NS_A" nft list tables | tr '\n' ' ')" [ "$n" -eq 0 ]
nq=$(nfq_count "$NS_A")
check no-queue-left "$nq queue(s) still bound in $NS_A" [ "$nq" -eq 0 ]

if tcp_finish long; then
	pass transfer "across the churn: $XFER_MSG"
else
	fail transfer "$XFER_MSG"
fi
bg_stop flood TERM 5
XFER_TIMEOUT=20
tcp_case after "after" "$NS_A" "$NS_B" "$B4" 6002 $((4 << 20)) $((4 << 20))
finish
