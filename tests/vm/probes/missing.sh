#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/vm/probes/missing.sh - the error an open gives when the kernel lacks
# what the queue verdict needs; run with both ways refused:
#   VM_BLOCK='nft_queue xt_NFQUEUE' tests/vm/run 6.1 --cmd 'bash tests/vm/probes/missing.sh'
# Prints PASS when ipredir names the missing feature and exits 1 (not 2, a
# usage error, as it did with "invalid argument (bad filter ...)").
O=${O:-build}
ip netns add ipredir-miss && ip -n ipredir-miss link set lo up
out=$(timeout 120 ip netns exec ipredir-miss "$O/bin/ipredir" passthru --quiet true 2>&1)
rc=$?
ip netns del ipredir-miss
echo "# status $rc: $out"
if [ $rc -eq 1 ] && grep -q 'this kernel lacks the NFQUEUE verdict' <<<"$out"; then
	echo "PASS missing.named: $out"
else
	echo "FAIL missing.named: want status 1 and the missing feature named: status $rc: $out"
fi
