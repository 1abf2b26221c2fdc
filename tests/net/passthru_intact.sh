#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passthru_intact.sh - with `ipredir passthru` (filter true) in the client
# namespace, TCP, UDP and ICMP over IPv4 and IPv6 arrive bit for bit, and
# the summary counts what went through; then TCP with --rewrite, with one
# and two threads, with --snaplen (alone and with --rewrite) and with
# --busy-poll, and with its threads pinned by --cpus.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair

MB8=$((8 << 20))
LAST_CPU=$(($(getconf _NPROCESSORS_ONLN) - 1))

if ! start_passthru pt "$NS_A"; then
	fail start "ipredir passthru did not put its rules in place"
	finish
fi
pass start "table and queue in place in $NS_A"

tcp_case tcp4 t4 "$NS_A" "$NS_B" "$B4" 5001 $MB8 $MB8
tcp_case tcp6 t6 "$NS_A" "$NS_B" "$B6" 5002 $MB8 $MB8
udp_case udp4-out u4o "$NS_A" "$NS_B" "$B4" 5101 2000 1200 -- --pps $((2000 / TIME_SCALE))
udp_case udp4-in u4i "$NS_B" "$NS_A" "$A4" 5102 2000 1200 -- --pps $((2000 / TIME_SCALE))
udp_case udp6-out u6o "$NS_A" "$NS_B" "$B6" 5103 2000 1200 -- --pps $((2000 / TIME_SCALE))
udp_case udp6-in u6i "$NS_B" "$NS_A" "$A6" 5104 2000 1200 -- --pps $((2000 / TIME_SCALE))
ping_case ping4 "$NS_A" "$B4" 10
ping_case ping6 "$NS_A" "$B6" 10
# 8000 datagrams and 40 ICMP packets crossed A's hooks, besides the TCP.
pt_done summary pt 8040

for v in rewrite threads1 threads2 snaplen snaplen-rewrite busypoll pinned; do
	case $v in
	rewrite) args=(--rewrite) ;;
	threads1) args=(--threads 1) ;;
	threads2) args=(--threads 2) ;;
	snaplen) args=(--snaplen 128) ;;
	snaplen-rewrite) args=(--snaplen 200 --rewrite) ;;
	busypoll) args=(--busy-poll 50) ;;
	pinned) args=(--threads 2 --cpus "$LAST_CPU,0") ;;
	esac
	if ! start_passthru "pt-$v" "$NS_A" "${args[@]}"; then
		fail "$v.start" "ipredir passthru ${args[*]} did not put its rules in place"
		continue
	fi
	if [ "$v" = pinned ]; then
		# The two workers (the threads after the main one) run where
		# --cpus put them.
		pid=${BG[pt-$v]}
		got=$(for t in $(ls "/proc/$pid/task" | sort -n | tail -n +2); do
			sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$pid/task/$t/status"
		done | tr '\n' ' ')
		check "$v.affinity" "worker CPUs '$got', want '$LAST_CPU 0 '" [ "$got" = "$LAST_CPU 0 " ]
	fi
	tcp_case "$v.tcp4" "t4-$v" "$NS_A" "$NS_B" "$B4" 5011 $MB8 $MB8
	pt_done "$v.summary" "pt-$v" 1
done
finish
