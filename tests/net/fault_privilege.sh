#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fault_privilege.sh - least privilege.  Without CAP_NET_ADMIN (as nobody
# with no capabilities at all, and as root with CAP_NET_ADMIN dropped)
# opening a handle fails with EPERM whatever its flags, nothing is left
# half-made, and `ipredir passthru` says it needs CAP_NET_ADMIN.  With a
# handle open in namespace A, its rules are in A only: not in B, and not in
# the namespace the test runs in (looked at read-only, never changed).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
skip_unless_root
need_file "$IPREDIR" "$PROGS/ipr_faultopen"
topo_pair

# Both ways of losing the capability; each runs a command in namespace A.
NOBODY=()
if command -v setpriv >/dev/null; then
	NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --)
fi
NOADMIN=()
if command -v capsh >/dev/null; then
	NOADMIN=(capsh --drop=cap_net_admin --)
fi
# The build tree must be readable by nobody for the first way.
if [ ${#NOBODY[@]} -gt 0 ] && ! ip netns exec "$NS_A" "${NOBODY[@]}" test -x "$PROGS/ipr_faultopen"; then
	NOBODY=()
	NOBODY_WHY="nobody cannot run $PROGS/ipr_faultopen (build tree not readable)"
fi

# as_unpriv WAY CMD...: run CMD in A without CAP_NET_ADMIN, the WAY given.
as_unpriv() {
	local way=$1
	shift
	if [ "$way" = nobody ]; then
		ip netns exec "$NS_A" "${NOBODY[@]}" "$@"
	else
		# capsh runs bash -c: quote the command through "$@".
		ip netns exec "$NS_A" "${NOADMIN[@]}" -c 'exec "$@"' _ "$@"
	fi
}

t0=$(ipr_tables "$NS_A") q0=$(nfq_count "$NS_A")
for way in nobody noadmin; do
	if [ $way = nobody ] && [ ${#NOBODY[@]} -eq 0 ]; then
		skip "$way" "${NOBODY_WHY:-setpriv not found}"
		continue
	fi
	if [ $way = noadmin ] && [ ${#NOADMIN[@]} -eq 0 ]; then
		skip "$way" "capsh not found"
		continue
	fi
	# The capability is really gone (else every case below proves nothing).
	eff=$(as_unpriv "$way" grep '^CapEff' /proc/self/status | awk '{ print $2 }')
	if [ -n "$eff" ] && (((0x$eff >> 12) & 1)); then
		fail "$way.dropped" "CAP_NET_ADMIN still effective (CapEff $eff)"
		continue
	fi
	pass "$way.dropped" "CapEff ${eff:-?} has no CAP_NET_ADMIN"
	for flags in "" --sniff --drop --recv-only --send-only; do
		c="$way.open${flags:-.default}"
		out=$(as_unpriv "$way" "$PROGS/ipr_faultopen" $flags true 2>&1)
		rc=$?
		if [ $rc -eq 1 ] && grep -q 'open failed errno=1 EPERM' <<<"$out"; then
			pass "$c" "EPERM"
		elif [ "$flags" = --send-only ] && grep -q 'inject rc=0 ' <<<"$out"; then
			# Rules need CAP_NET_ADMIN, injection only CAP_NET_RAW:
			# a send-only handle that can inject is fine.
			pass "$c" "opened and injected (CAP_NET_RAW is enough for that)"
		else
			fail "$c" "want the open to fail with EPERM, got status $rc: $(tr '\n' ' ' <<<"$out")"
		fi
	done
	out=$(as_unpriv "$way" "$IPREDIR" passthru true 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q 'CAP_NET_ADMIN' <<<"$out"; then
		pass "$way.passthru-message" "status $rc: $(head -n 1 <<<"$out")"
	else
		fail "$way.passthru-message" "want a non-zero exit and a message naming CAP_NET_ADMIN, got status $rc: $(tr '\n' ' ' <<<"$out")"
	fi
done
t1=$(ipr_tables "$NS_A") q1=$(nfq_count "$NS_A")
ok=0
[ "$t1" -eq "$t0" ] && [ "$q1" -eq "$q0" ] && ok=1
check nothing-left "tables $t0 -> $t1, queues $q0 -> $q1 in A after the refused opens" [ $ok = 1 ]

# --- rules live only where the handle is.
here_before=$(nft list tables 2>/dev/null | sort)
if start_prog held "$NS_A" ipr_faultopen --seconds 30 true; then
	pid=${BG[held]}
	ta=$(ip netns exec "$NS_A" nft list tables | grep -c "ipredir_${pid}_")
	tb=$(ip netns exec "$NS_B" nft list tables | grep -c 'ipredir')
	qb=$(nfq_count "$NS_B")
	# Read-only look at the namespace the test runs in.
	here=$(nft list tables 2>/dev/null | sort)
	th=$(grep -c "ipredir_${pid}_" <<<"$here")
	check in-a "want 1 table ipredir_${pid}_* in A, got $ta" [ "$ta" -eq 1 ]
	ok=0
	[ "$tb" -eq 0 ] && [ "$qb" -eq 0 ] && ok=1
	check not-in-b "want no ipredir table and no queue in B, got $tb tables, $qb queues" [ $ok = 1 ]
	check not-here "want no table of pid $pid in the test's own namespace, got $th" [ "$th" -eq 0 ]
	check here-unchanged "the test's own namespace's tables changed while the handle was open" \
		[ "$here" = "$here_before" ]
	bg_stop held TERM 10
	check held.exit "ipr_faultopen exit status ${BG_DONE[held]}" [ "${BG_DONE[held]}" -eq 0 ]
	n=$(ipr_tables "$NS_A")
	check gone-after-close "$n ipredir table(s) in A after close" [ "$n" -eq 0 ]
else
	fail in-a "ipr_faultopen did not open a handle in A as root"
fi
finish
