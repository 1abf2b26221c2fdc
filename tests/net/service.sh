#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# service.sh - ipredir@.service and the notify protocol behind it.  The
# unit (as make install writes it) passes systemd-analyze verify; against a
# fake $NOTIFY_SOCKET (a datagram socket of our own, path and abstract
# name) passthru and drop say READY=1 once their rules are in, then
# WATCHDOG=1 about every half WATCHDOG_USEC, and nothing for a watchdog
# meant for another pid (WATCHDOG_PID); a passthru between two namespaces
# still carries the pings meanwhile; and drop works with the credentials
# the unit gives (uid 65534, CAP_NET_ADMIN and CAP_NET_RAW only, no new
# privileges, through setpriv).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
need_file "$IPREDIR"

# The unit as installed, with this build's tool and a config in $TMPD.
U=$TMPD/units
mkdir -p "$U" "$TMPD/etc/ipredir"
sed -e "s|@BINDIR@|$BUILD/bin|" -e "s|@SYSCONFDIR@|$TMPD/etc|" \
	"$ROOT/systemd/ipredir@.service.in" >"$U/ipredir@.service"
cp "$ROOT/systemd/example.conf" "$TMPD/etc/ipredir/web.conf"
ln -s ipredir@.service "$U/ipredir@web.service"
if ! command -v systemd-analyze >/dev/null; then
	skip verify "no systemd-analyze (scripts/deps --deb installs systemd)"
elif out=$(cd "$U" && SYSTEMD_UNIT_PATH=$U: systemd-analyze verify --man=no "$U/ipredir@web.service" 2>&1); then
	pass verify "systemd-analyze verify ipredir@web.service"
else
	fail verify "$out"
fi
if command -v systemd-analyze >/dev/null &&
	out=$(cd "$U" && SYSTEMD_UNIT_PATH=$U: systemd-analyze security --offline=yes \
		--threshold=30 "$U/ipredir@web.service" 2>&1); then
	pass exposure "$(grep -o 'Overall exposure level.*' <<<"$out")"
else
	fail exposure "systemd-analyze security above 3.0: $(tail -n 1 <<<"$out")"
fi
# The config's filter is one argument as the unit passes it.
filter=$(sed -n 's/^IPREDIR_FILTER=//p' "$TMPD/etc/ipredir/web.conf")
out=$("$IPREDIR" filter check "$filter" 2>&1)
check example-filter "example.conf's filter '$filter' does not check: $out" \
	[ "$out" = "$filter" ]

skip_unless_root
topo_pair

# listen NAME ADDR: a fake notify socket; each datagram becomes a line of
# $TMPD/NAME.out ("|" for the newlines inside one).
listen() {
	bg_start "$1" "$NS_A" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\0" + a[1:] if a.startswith("@") else a)
print("bound", flush=True)
while True:
    d = s.recv(4096)
    print(d.decode().strip().replace("\n", "|"), flush=True)
' "$2"
	wait_line "$1" '^bound' 5
}
# wait_err NAME RE [SECONDS]: the tools say they are running on stderr.
wait_err() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -Eq -- "$2" "$TMPD/$1.err" 2>/dev/null && return 0
		bg_running "$1" || return 1
		sleep 0.05
	done
	return 1
}
# msgs NAME STATE: how many datagrams said exactly STATE.
msgs() { grep -cx "$2" "$TMPD/$1.out"; }

# verdict CASE WHY TEST...: PASS with the counts, or FAIL with WHY.
verdict() {
	local c=$1 why=$2
	shift 2
	if "$@"; then
		pass "$c" "READY=1 x$READY, WATCHDOG=1 x$WD, other $OTHER"
	else
		fail "$c" "$why; got READY=1 x$READY, WATCHDOG=1 x$WD, other $OTHER"
	fi
}

# notify_case CASE SOCKET WD_PID START_RE TOOL ARGS...: run the tool 2.2 s
# with WATCHDOG_USEC=400000 and count what it said.
notify_case() {
	local c=$1 sock=$2 wdpid=$3 re=$4
	shift 4
	listen "$c-ns" "$sock" || { fail "$c" "fake notify socket did not bind"; return; }
	bg_start "$c" "$NS_A" env NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 \
		${wdpid:+WATCHDOG_PID=$wdpid} "$IPREDIR" "$@"
	if ! wait_err "$c" "$re" 10; then
		fail "$c" "ipredir $1 did not start"
		dump "$c"
		bg_stop "$c-ns" KILL
		return 1
	fi
	sleep 2.2
	bg_stop "$c" TERM
	bg_stop "$c-ns" KILL
	READY=$(msgs "$c-ns" READY=1)
	WD=$(msgs "$c-ns" WATCHDOG=1)
	OTHER=$(grep -cvx 'bound\|READY=1\|WATCHDOG=1' "$TMPD/$c-ns.out")
	return 0
}

if notify_case drop-path "$TMPD/notify.sock" "" '^drop: dropping' drop icmp; then
	# The loop wakes each second at least; 0.2 s interval -> about 2 to 11.
	verdict drop-path "want READY=1 once, WATCHDOG=1 >= 2, nothing else" \
		test "$READY" = 1 -a "$WD" -ge 2 -a "$OTHER" = 0
fi
if notify_case passthru-abstract "@ipredir-$NS_TAG" "" '^passthru: running' passthru -t 2 icmp; then
	ping_case passthru-pings "$NS_A" "$B4" 3
	verdict passthru-abstract "want READY=1 once, WATCHDOG=1 >= 2" \
		test "$READY" = 1 -a "$WD" -ge 2 -a "$OTHER" = 0
fi
if notify_case other-pid "$TMPD/notify2.sock" 1 '^drop: dropping' drop icmp; then
	verdict watchdog-other-pid "want READY=1 and no WATCHDOG=1 (WATCHDOG_PID=1)" \
		test "$READY" = 1 -a "$WD" = 0
fi
# The unit's credentials, as setpriv gives them: an unprivileged user with
# only CAP_NET_ADMIN and CAP_NET_RAW (ambient and bounding) and no new
# privileges.  The packets it drops show that the handle works so.
if ! command -v setpriv >/dev/null; then
	skip service-credentials "no setpriv (util-linux)"
else
	bg_start cred "$NS_A" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_admin,+net_raw --ambient-caps=-all,+net_admin,+net_raw \
		--bounding-set=-all,+net_admin,+net_raw --no-new-privs \
		"$IPREDIR" drop "icmp and ip.DstAddr == $B4"
	if wait_err cred '^drop: dropping' 10 && ping_none "$NS_A" "$B4" 2; then
		pass service-credentials "uid 65534 with CAP_NET_ADMIN, CAP_NET_RAW only: pings dropped"
	else
		fail service-credentials "drop as the unit's user: $(tr '\n' ' ' <"$TMPD/cred.err")"
	fi
	bg_stop cred TERM
fi

# Outside a service nothing is sent and nothing fails.
bg_start plain "$NS_A" env -u NOTIFY_SOCKET "$IPREDIR" drop icmp
if wait_err plain '^drop: dropping' 10; then
	bg_stop plain TERM
	check no-socket "drop without NOTIFY_SOCKET: status ${BG_DONE[plain]}" [ "${BG_DONE[plain]}" = 0 ]
else
	fail no-socket "drop without NOTIFY_SOCKET did not start"
	dump plain
fi
finish
