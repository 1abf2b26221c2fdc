#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/vm/probes/hbexpiry.sh - when the dead-man switch trips on the
# running kernel: passthru with one queue and the default 1 s hang time is
# stopped (SIGSTOP); every 100 ms for 3 s a line gives the time since the
# stop, the heartbeat element's "expires" as nft shows it, the hung counter
# and whether one ping (100 ms wait) was answered.  Evidence for
# fault_hang's TCP cases under emulation.
#   tests/vm/run 5.10 --cmd 'bash tests/vm/probes/hbexpiry.sh'
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../../net/lib.sh"
skip_unless_root
topo_pair
echo "# kernel $(uname -r), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
if ! start_passthru pt "$NS_A" --threads 1; then
	fail start "passthru did not start"
	finish
fi
ping_case before "$NS_A" "$B4" 5
kill -STOP "${BG[pt]}"
t0=$(now_ms)
for ((i = 0; i < 30; i++)); do
	exp=$(ip netns exec "$NS_A" nft list ruleset 2>/dev/null | grep -o 'expires [0-9a-z]*' | head -n 1)
	hung=$(ip netns exec "$NS_A" nft list counters 2>/dev/null |
		awk '/counter hung/ { f = 1 } f && /packets/ { print $2; exit }')
	if ip netns exec "$NS_A" ping -n -q -c 1 -W 0.1 "$B4" >/dev/null 2>&1; then p=answered; else p=lost; fi
	echo "# +$(($(now_ms) - t0)) ms: ${exp:-no element expiry shown} hung=$hung ping $p"
	sleep 0.1
done
kill -CONT "${BG[pt]}"
bg_stop pt INT 5
pass done "see the lines above"
finish
