#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_adapters.sh - `ipredir adapters` in a namespace with a veth (v0), a
# bridge and a tun device: each is listed with the index the
# kernel gave it, its state, MTU, kind and addresses, in text and --json;
# -i v0 lists v0 alone; bad input is one line quoting it, status 2.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/net/toollib.bash
. "$NET_DIR/toollib.bash"
skip_unless_root
need_file "$IPREDIR"
topo_pair
# (This kernel has no dummy driver: a bridge and a tun device instead.)
if ! { ip -n "$NS_A" link add br0 type bridge && ip -n "$NS_A" link set br0 mtu 1400 &&
	ip -n "$NS_A" tuntap add t0 mode tun 2>/dev/null; }; then
	fail setup "cannot add bridge or tun devices"
	finish
fi

idx() { ip -n "$NS_A" -o link show "$1" | cut -d: -f1; }
IDX=$(idx v0)
ip netns exec "$NS_A" "$IPREDIR" adapters >"$TMPD/text" 2>&1
rc=$?
row=$(awk '$2 == "v0"' "$TMPD/text")
if [ $rc -eq 0 ] && [[ $row =~ ^$IDX\ +v0\ +up\ +1500\ +veth\ +veth\ +[0-9a-f:]{17}\ +$A4/24\ .*$A6/64 ]]; then
	pass veth "$row"
else
	fail veth "want '$IDX v0 up 1500 veth veth MAC $A4/24 ... $A6/64'; got status $rc: $(cat "$TMPD/text")"
fi
# kind_case NAME IFNAME REGEX: the row of IFNAME matches "IDX IFNAME REGEX"
kind_case() {
	local r
	r=$(awk -v n="$2" '$2 == n' "$TMPD/text")
	if [[ $r =~ ^$(idx "$2")\ +$2\ +$3 ]]; then pass "$1" "$r"; else fail "$1" "want '$(idx "$2") $2 $3'; got '$r'"; fi
}
kind_case loopback lo 'up +65536 +loopback '
kind_case bridge br0 'down +1400 +bridge +bridge '
kind_case tun t0 '(down|up|unknown|lowerlayerdown) +1500 +tun '

json=$(ip netns exec "$NS_A" "$IPREDIR" adapters --json 2>&1)
res=$("$PY" -c '
import json, sys
a = {x["name"]: x for x in json.loads(sys.stdin.read())}
v = a["v0"]
addrs = {(x["address"], x["prefix"]) for x in v["addresses"]}
ok = (v["index"] == int(sys.argv[1]) and v["kind"] == "veth" and
      v["state"] == "up" and v["mtu"] == 1500 and
      (sys.argv[2], 24) in addrs and (sys.argv[3], 64) in addrs and
      a["lo"]["index"] == 1 and a["lo"]["kind"] == "loopback" and
      a["t0"]["kind"] == "tun" and a["br0"]["kind"] == "bridge")
print(("ok " if ok else "MISMATCH ") + json.dumps(v))
' "$IDX" "$A4" "$A6" <<<"$json" 2>&1)
check json "$res" grep -q '^ok ' <<<"$res"

out=$(ip netns exec "$NS_A" "$IPREDIR" adapters -i v0 2>&1)
if [ "$(wc -l <<<"$out")" -eq 2 ] && [ "$(awk 'NR == 2 { print $1, $2 }' <<<"$out")" = "$IDX v0" ]; then
	pass interface "$(tail -n 1 <<<"$out")"
else
	fail interface "want a header and the v0 row; got: $out"
fi

bad_input bad-interface "$NS_A" "^ipredir adapters: no interface 'nosuch0' in this namespace$" adapters -i nosuch0
bad_input extra-arg "$NS_A" "^ipredir adapters: unexpected argument 'v0'$" adapters v0
bad_input bad-option "$NS_A" "^ipredir adapters: unknown option '--all'" adapters --all
finish
