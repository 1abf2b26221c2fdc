#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_neighbours.sh - another program already holds NFQUEUE numbers we
# would pick (0..3, 0x8000.. and the very numbers ipredir would try first
# for this pid), bound with raw netlink, and keeps rules of its own in
# another table: ipredir passthru works beside it, picks other numbers, and
# leaves the neighbour exactly as it was (its table, chains and rules, its
# queues still bound to its portid).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair
NL="$NET_DIR/fault_nl.py"

# The neighbour's rules: counters in an inet table and an ip table, a set.
nx() { ip netns exec "$NS_A" nft "$@"; }
if ! { nx add table inet other &&
	nx add chain inet other in '{ type filter hook input priority 0; policy accept; }' &&
	nx add chain inet other out '{ type filter hook output priority -5; policy accept; }' &&
	nx add set inet other ports '{ type inet_service; elements = { 5801, 5802 }; }' &&
	nx add rule inet other in tcp sport @ports counter &&
	nx add rule inet other out tcp dport @ports counter &&
	nx add rule inet other in meta l4proto icmp counter &&
	nx add table ip other4 &&
	nx add chain ip other4 post '{ type filter hook postrouting priority 10; }' &&
	nx add rule ip other4 post udp dport 5803 counter; }; then
	fail setup "cannot create the neighbour's nft tables"
	finish
fi
# Counters vary with traffic; everything else must stay as it was.
shape() { nx list table "$1" "$2" | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }
counters() { nx list table "$1" "$2" | grep -oE 'packets [0-9]+' | awk '{ s += $2 } END { print s + 0 }'; }
shape0=$(shape inet other; shape ip other4)
c0=$(counters inet other)

# passthru will be this process: its pid is known before it opens anything
# (bg_start execs through setsid and ip netns exec, then the shell execs
# ipredir once the fifo says go).
mkfifo "$TMPD/go"
# shellcheck disable=SC2016 # expanded by the inner shell
bg_start pt "$NS_A" bash -c 'read -r _ <"$1"; exec "$2" passthru --quiet' _ "$TMPD/go" "$IPREDIR"
pid=${BG[pt]}
# Where handle.c starts looking for free queue numbers for this pid: an
# internal detail, used only to make the collision certain; the test holds
# whatever the formula becomes (numbers then just collide less).
first=$((0x8000 + (pid * 37) % 0x4000))
bg_start nb "$NS_A" "$PY" "$NL" bind 0-3 0x8000-0x8003 "$first-$((first + 5))"
if ! wait_line nb '^ready' 10; then
	fail neighbour "the neighbour could not bind its queues"
	dump nb
	finish
fi
nb_port=$(sed -nE 's/^ready portid=([0-9]+).*/\1/p' "$TMPD/nb.out")
nb_queues=$(awk '$1 == "bound" { print $2 }' "$TMPD/nb.out" | sort -n | tr '\n' ' ')
nb_busy=$(grep -c '^busy' "$TMPD/nb.out")
check neighbour "only $(wc -w <<<"$nb_queues") bound, $nb_busy busy: $(tr '\n' ' ' <<<"$(cat "$TMPD/nb.out")")" \
	[ "$nb_busy" -eq 0 ]
nbq0=$(ip netns exec "$NS_A" "$PY" "$NL" queues | awk -v p="$nb_port" '$2 == p { print $1 }' | sort -n | tr '\n' ' ')

echo go >"$TMPD/go"
ok=0
for ((i = 0; i < 200; i++)); do
	bg_running pt || break
	[ "$(ipr_tables "$NS_A")" -gt 0 ] && [ -n "$(ip netns exec "$NS_A" "$PY" "$NL" owned "$pid")" ] &&
		{ ok=1; break; }
	sleep 0.05
done
if [ $ok = 1 ]; then
	mine=$(ip netns exec "$NS_A" "$PY" "$NL" owned "$pid" | awk '{ print $1 }' | sort -n | tr '\n' ' ')
	clash=""
	for q in $mine; do
		[[ " $nb_queues " == *" $q "* ]] && clash+=" $q"
	done
	check start "passthru took the neighbour's queue(s)$clash" [ -z "$clash" ]
	pass picked "neighbour holds $nb_queues(portid $nb_port); passthru (pid $pid) took $mine"
else
	bg_wait pt 1
	fail start "ipredir passthru did not start beside the neighbour (status ${BG_DONE[pt]:-running})"
	dump pt
	finish
fi

tcp_case tcp4 t4 "$NS_A" "$NS_B" "$B4" 5801 $((4 << 20)) $((4 << 20))
tcp_case tcp6 t6 "$NS_A" "$NS_B" "$B6" 5802 $((4 << 20)) $((4 << 20))
udp_case udp4 u4 "$NS_A" "$NS_B" "$B4" 5803 500 1000
ping_case ping4 "$NS_A" "$B4" 5
c1=$(counters inet other)
# The neighbour's rules kept seeing the traffic that passthru passed on.
check neighbour-counts "its counters went from $c0 to $c1" [ "$c1" -gt "$c0" ]
# 500 datagrams and 10 ICMP packets at least, besides the TCP.
pt_done summary pt 510

shape1=$(shape inet other; shape ip other4)
if [ "$shape1" = "$shape0" ]; then
	pass tables-unchanged "inet other and ip other4 as they were (counters aside)"
else
	fail tables-unchanged "the neighbour's tables changed: $(diff <(echo "$shape0") <(echo "$shape1") | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
fi
nbq1=$(ip netns exec "$NS_A" "$PY" "$NL" queues | awk -v p="$nb_port" '$2 == p { print $1 }' | sort -n | tr '\n' ' ')
ok=0
[ "$nbq1" = "$nbq0" ] && [ -n "$nbq0" ] && ok=1
check queues-unchanged "neighbour's queues before: [$nbq0] after: [$nbq1]" [ $ok = 1 ]
check neighbour-alive "the neighbour process died" bg_running nb
n=$(ipr_tables "$NS_A")
check no-table-left "$n ipredir table(s) left" [ "$n" -eq 0 ]
tables=$(nx list tables | sort | tr '\n' ' ')
check only-neighbour-tables "tables now: $tables" [ "$tables" = "table inet other table ip other4 " ]
bg_stop nb TERM 5
finish
