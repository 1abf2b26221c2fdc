#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_user.sh - least privilege after open: `ipredir passthru --user
# nobody` runs as nobody with CAP_NET_ADMIN as its only capability
# (effective, permitted and bounding sets) and no_new_privs, and still
# passes traffic; an unknown user is a usage error that quotes the name.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR"
topo_pair

if start_passthru pt "$NS_A" --user nobody; then
	pid=${BG[pt]}
	# bg_start runs the program itself in its process group: find it.
	ppid=$(pgrep -g "$pid" -f 'passthru --user nobody' | head -n 1)
	st=$(cat "/proc/${ppid:-0}/status" 2>/dev/null)
	uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' <<<"$st")
	check uid "want uid 65534 everywhere, got '$uid'" [ "$uid" = 65534655346553465534 ]
	for set in CapEff CapPrm CapBnd; do
		v=$(awk -v k="$set:" '$1 == k {print $2}' <<<"$st")
		check "$set" "want only CAP_NET_ADMIN (0000000000001000), got '$v'" \
			[ "$v" = 0000000000001000 ]
	done
	nnp=$(awk '/^NoNewPrivs:/ {print $2}' <<<"$st")
	check no-new-privs "want NoNewPrivs 1, got '$nnp'" [ "$nnp" = 1 ]
	if ping_ok "$NS_A" "$B4"; then
		pass traffic
	else
		fail traffic "ping through the unprivileged passthru failed: $PING_OUT"
	fi
	if stop_passthru pt; then
		check counted "want packets counted, got $PT_PACKETS" [ "$PT_PACKETS" -gt 0 ]
	else
		fail exit "passthru --user did not exit cleanly"
	fi
	check no-table "a table was left behind" [ "$(ipr_tables "$NS_A")" -eq 0 ]
else
	fail start "passthru --user nobody did not start"
fi

# The other handle-opening subcommands take --user through the dispatcher;
# those that inject (reject, impair) keep CAP_NET_RAW too.
for spec in "drop 0000000000001000" "reject 0000000000003000"; do
	sub=${spec% *} want=${spec#* }
	bg_start "$sub" "$NS_A" "$IPREDIR" "$sub" --user nobody 'tcp.DstPort == 9'
	st=
	for ((i = 0; i < 100; i++)); do
		p=$(pgrep -g "${BG[$sub]}" -f "ipredir $sub" | head -n 1)
		st=$(cat "/proc/${p:-0}/status" 2>/dev/null)
		grep -q '^Uid:[[:space:]]*65534' <<<"$st" && break
		sleep 0.05
	done
	v=$(awk '$1 == "CapEff:" {print $2}' <<<"$st")
	u=$(awk '/^Uid:/ {print $2}' <<<"$st")
	check "$sub-user" "want ipredir $sub as uid 65534 with CapEff $want, got uid '$u' CapEff '$v'" \
		[ "$u:$v" = "65534:$want" ]
	bg_stop "$sub" TERM 10
	check "$sub-exit" "ipredir $sub --user did not exit 0" [ "${BG_DONE[$sub]:-1}" -eq 0 ]
done

out=$(ip netns exec "$NS_A" "$IPREDIR" passthru --user no-such-user-xyz 2>&1)
rc=$?
check bad-user "want exit 2 and the name quoted, got $rc: $out" \
	grep -q "no user 'no-such-user-xyz'" <<<"$out"
check bad-user-status "want exit 2, got $rc" [ "$rc" -eq 2 ]
finish
