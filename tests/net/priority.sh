#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# priority.sh - handles on the same filter stack by priority: every datagram
# reaches the priority-100 handle before the priority-50 one, each exactly
# once, whether both handles are in one process or in two.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$PROGS/ipr_prio"
topo_pair

N=200
if start_prog pr "$NS_A" ipr_prio --count $N --seconds 20 'udp.DstPort == 5801'; then
	udp_case one-process.intact p1 "$NS_A" "$NS_B" "$B4" 5801 $N 1200 -- --pps 1000
	bg_wait pr 25
	rc=$?
	line=$(grep -E '^seen100=' "$TMPD/pr.out")
	if [ $rc -eq 0 ]; then
		pass one-process.order "$line"
	else
		fail one-process.order "want all $N seen by 100 then 50, once each; status $rc: $line $(grep 'first out' "$TMPD/pr.out")"
		dump pr
	fi
else
	fail one-process "ipr_prio did not start"
fi

# Two processes: the 50 one is started first.
if start_prog p50 "$NS_A" ipr_prio --one 50 --seconds 30 'udp.DstPort == 5802' &&
	start_prog p100 "$NS_A" ipr_prio --one 100 --seconds 30 'udp.DstPort == 5802'; then
	udp_case two-process.intact p2 "$NS_A" "$NS_B" "$B4" 5802 $N 1200 -- --pps 1000
	bg_stop p100 TERM 10
	bg_stop p50 TERM 10
	if [ "${BG_DONE[p100]}" -eq 0 ] && [ "${BG_DONE[p50]}" -eq 0 ]; then
		pass two-process.exit
	else
		fail two-process.exit "exit status: prio 100 ${BG_DONE[p100]}, prio 50 ${BG_DONE[p50]}"
	fi
	# "seen SEQ NS" from each: every seq once in each, and 100 first.
	res=$(awk -v n=$N '
		FNR == 1 { f++ }
		$1 == "seen" && f == 1 { c1[$2]++; t1[$2] = $3 }
		$1 == "seen" && f == 2 { c2[$2]++; t2[$2] = $3 }
		END {
			for (s = 0; s < n; s++) {
				if (c1[s] != 1 || c2[s] != 1) bad++
				else if (t1[s] < t2[s]) ok++
				else late++
			}
			printf "inorder=%d outoforder=%d missing_or_dup=%d\n", ok, late, bad
		}' "$TMPD/p100.out" "$TMPD/p50.out")
	if [ "$res" = "inorder=$N outoforder=0 missing_or_dup=0" ]; then
		pass two-process.order "$res"
	else
		fail two-process.order "want every datagram once in each, 100 first: $res"
		dump p100 p50
	fi
else
	fail two-process "ipr_prio --one did not start"
fi
finish
