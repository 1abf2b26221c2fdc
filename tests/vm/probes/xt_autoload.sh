#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/vm/probes/xt_autoload.sh [IPREDIR...] - does an ipredir handle open
# on the xt NFQUEUE path of a modular kernel, and which modules did the
# kernel ask modprobe for?  Run it with nft_queue refused, so the library
# falls back to xt NFQUEUE through nft_compat:
#   VM_BLOCK=nft_queue tests/vm/run 6.1 --cmd 'bash tests/vm/probes/xt_autoload.sh OLD/ipredir build/bin/ipredir'
# Each binary is tried in turn on the same boot (a binary built before the
# fix first: once one loads xt_NFQUEUE, the next finds it loaded).
# Needs the guest of tests/vm (its modprobe log in /vmresults).
[ $# -gt 0 ] || set -- "${O:-build}/bin/ipredir"
ip netns add ipredir-xt && ip -n ipredir-xt link set lo up
for bin in "$@"; do
	echo "### $bin" | tee -a /vmresults/modprobe.log
	ip netns exec ipredir-xt "$bin" passthru --quiet true >/tmp/xt.out 2>&1 &
	p=$!
	for _ in $(seq 1 900); do
		ip netns exec ipredir-xt nft list tables 2>/dev/null | grep -q ipredir && break
		kill -0 $p 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $p 2>/dev/null; then
		echo "$bin: open worked: $(ip netns exec ipredir-xt nft list tables | tr '\n' ' ')"
		kill $p
		wait $p
	else
		wait $p
		echo "$bin: exited with status $?: $(cat /tmp/xt.out)"
	fi
	echo "modules now: $(lsmod | awk 'NR > 1 { print $1 }' | grep -E 'nft|xt_|x_tables|nfnetlink' | sort | tr '\n' ' ')"
done
echo "### modprobe requests"
cat /vmresults/modprobe.log
ip netns del ipredir-xt
