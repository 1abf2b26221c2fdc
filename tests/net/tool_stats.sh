#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_stats.sh - `ipredir stats` in A: nothing to show at first; with an
# impair (holding pings 3 s) and a monitor running, --json lists both
# tables with their pids, the impair's queues (a handle has two: the
# second is where the kernel cuts super-packets) with its pid and the 5 held
# pings as waiting in the kernel's count, and the monitor's log group with
# its pid; the text form shows the same; bad input is one line, status 2.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair

out=$(ip netns exec "$NS_A" "$IPREDIR" stats 2>&1)
check empty "got: $out" grep -qx 'no ipredir tables, queues or log groups in this namespace' <<<"$out"

if ! { start_tool im "$NS_A" '^impair: running' impair --delay 3000 'outbound and icmp' &&
	start_tool mo "$NS_A" '^monitor: listening' monitor -q udp; }; then
	fail start "impair or monitor did not start"
	finish
fi
ip netns exec "$NS_A" ping -n -q -c 5 -i 0.05 -W 5 "$B4" >/dev/null 2>&1 &
sleep 1
json=$(ip netns exec "$NS_A" "$IPREDIR" stats --json 2>&1)
text=$(ip netns exec "$NS_A" "$IPREDIR" stats 2>&1)
res=$("$PY" -c '
import json, sys
s = json.loads(sys.stdin.read())
imp, mon = int(sys.argv[1]), int(sys.argv[2])
tp = sorted(t["pid"] for t in s["tables"])
q = [x for x in s["queues"] if x["pid"] == imp]
g = [x for x in s["log_groups"] if x["pid"] == mon]
own = s["kernel"]["owner_tables"]  # 5.10: tables without the owner flag
ok = (tp == sorted([imp, mon]) and all(t["owner"] == own for t in s["tables"]) and
      sum(x["waiting"] for x in q) == 5 and
      all(x["process"] == "ipredir" for x in q) and
      len(g) == 1 and not s["kernel"]["guessed"] and
      (s["kernel"]["native_queue"] or s["kernel"]["xt_queue"]))
print(("ok " if ok else "MISMATCH ") + json.dumps(s))
' "${BG[im]}" "${BG[mo]}" <<<"$json" 2>&1)
check json "$res" grep -q '^ok ' <<<"$res"
[[ $res == ok* ]] && echo "# $res"
own=owner
grep -q '^  rules removed: by the keeper process' <<<"$text" && own=no-owner
if grep -Eq "^  inet ipredir_${BG[im]}_[0-9]+ +chains=[0-9]+ +$own +pid=${BG[im]} \(ipredir\)" <<<"$text" &&
	grep -Eq "^  [0-9]+ +${BG[im]} +ipredir +5 " <<<"$text" &&
	grep -Eq "^  [0-9]+ +${BG[mo]} +ipredir " <<<"$text" &&
	grep -Fxq "kernel: Linux $(uname -r)" <<<"$text" && # (6.12.118+deb12: no regex)
	grep -Eq "^  queue verdict: (nft_queue|xt NFQUEUE)" <<<"$text"; then
	pass text "$(tr '\n' '|' <<<"$text")"
else
	fail text "want the kernel's features, the impair's table and queue (5 waiting) and the monitor's log group: $text"
fi
stop_tool im
stop_tool mo
wait

bad_input bad-option "$NS_A" "^ipredir stats: unknown option '--watch'" stats --watch
bad_input extra-arg "$NS_A" "^ipredir stats: unexpected argument 'queues'$" stats queues
finish
