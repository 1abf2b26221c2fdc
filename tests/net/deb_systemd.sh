#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# deb_systemd.sh - ipredir@.service under a real systemd: a bookworm root
# with systemd (mmdebstrap, cached in /var/cache/ipredir-test) gets the
# packages (make deb), boots with systemd-nspawn inside a namespace of the
# test's own, and there `systemctl start ipredir@t` must become active
# (Type=notify: READY=1 arrived) with the unit's hardening (dynamic user,
# two capabilities); the drop it runs must drop; a program stopped with
# SIGSTOP must be killed by the watchdog (WatchdogSec=3s in a drop-in) and
# started again (NRestarts).  Opt-in with the other package tests
# (IPR_TEST_DEB=1; IPR_DEB_DIR=DIR takes built packages).
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
[ "${IPR_TEST_DEB:-0}" = 1 ] ||
	skip_all "opt-in: set IPR_TEST_DEB=1 (builds the packages and a systemd root, minutes; .ci/run does)"
skip_unless_root
for t in mmdebstrap systemd-nspawn nsenter; do
	command -v "$t" >/dev/null || skip_all "missing $t (run scripts/deps --deb)"
done

DEBS=${IPR_DEB_DIR:-$TMPD/deb}
if [ -z "${IPR_DEB_DIR:-}" ]; then
	"$ROOT/scripts/mkdeb" "$DEBS" >"$TMPD/mkdeb.log" 2>&1 ||
		{ fail build "scripts/mkdeb: $(tail -n 5 "$TMPD/mkdeb.log" | tr '\n' ' ')"; finish; }
fi
INCLUDE=systemd,systemd-sysv,dbus,libmnl0,libpcap0.8,iproute2
CACHE=/var/cache/ipredir-test
BASE=$CACHE/root-systemd-$(echo "$INCLUDE" | md5sum | cut -c1-8).tar
if [ ! -s "$BASE" ]; then
	mkdir -p "$CACHE"
	mmdebstrap --variant=minbase --include="$INCLUDE" bookworm "$BASE.tmp" \
		>"$TMPD/mmdebstrap.log" 2>&1 ||
		{ rm -f "$BASE.tmp"; skip_all "cannot make a bookworm root (no mirror?)"; }
	mv "$BASE.tmp" "$BASE"
fi
R=$TMPD/root
mkdir "$R" && tar -xf "$BASE" -C "$R" || { fail root "cannot unpack $BASE"; finish; }
mkdir -p "$R/tmp/debs"
cp "$DEBS"/libipredir0_*.deb "$DEBS"/ipredir_*.deb "$R/tmp/debs/"
out=$(chroot "$R" sh -c 'dpkg -i /tmp/debs/*.deb' 2>&1) ||
	{ fail install "$(tail -n 5 <<<"$out" | tr '\n' ' ')"; finish; }
cat >"$R/etc/ipredir/t.conf" <<'EOC'
IPREDIR_COMMAND=drop
IPREDIR_FILTER=icmp and ip.DstAddr == 198.18.9.2
EOC
mkdir -p "$R/etc/systemd/system/ipredir@.service.d"
printf '[Service]\nWatchdogSec=3s\nRestartSec=1s\n' \
	>"$R/etc/systemd/system/ipredir@.service.d/test.conf"
# A peer for the pings: a veth pair inside the container's namespace.
ns_create C || { fail topology "no namespace"; finish; }
NS_C=$NS_TAG-C
ip -n "$NS_C" link add v0 type veth peer name v1 &&
	ip -n "$NS_C" addr add 198.18.9.1/31 dev v0 &&
	ip -n "$NS_C" addr add 198.18.9.2/31 dev v1 &&
	ip -n "$NS_C" link set v0 up && ip -n "$NS_C" link set v1 up ||
	{ fail topology "no veth pair in $NS_C"; finish; }

# Not through `ip netns exec`, whose fresh /sys has no cgroup mounts that
# systemd-nspawn needs: nsenter into the namespace only.
setsid nsenter --net="/run/netns/$NS_C" systemd-nspawn --quiet --boot \
	--console=passive --machine="ipr$$" --register=no --keep-unit \
	--capability=CAP_NET_ADMIN,CAP_NET_RAW -D "$R" \
	>"$TMPD/boot.out" 2>"$TMPD/boot.err" </dev/null &
BG[boot]=$!
# The container's init: the systemd whose parent chain leads to nspawn.
PID1=
for ((i = 0; i < 200; i++)); do
	for p in $(pgrep -x systemd); do
		pp=$p
		while [ "$pp" -gt 1 ]; do
			pp=$(ps -o ppid= -p "$pp" | tr -d ' ')
			[ "$pp" = "${BG[boot]}" ] && { PID1=$p; break 2; }
			[ -n "$pp" ] || break
		done
	done
	bg_running boot || break
	sleep 0.05
done
[ -n "$PID1" ] || skip_all "systemd-nspawn cannot boot a container here: $(tail -n 3 "$TMPD/boot.err" | tr '\n' ' ')"
inside() { nsenter -t "$PID1" -a "$@"; }
for ((i = 0; i < 300; i++)); do
	st=$(inside systemctl is-system-running 2>/dev/null)
	case $st in running|degraded) break ;; esac
	sleep 0.1
done
pass boot "systemd in the container: $st"

if inside systemctl start ipredir@t 2>"$TMPD/start.err" &&
	[ "$(inside systemctl is-active ipredir@t)" = active ]; then
	pass start "ipredir@t active (READY=1 received)"
else
	fail start "$(cat "$TMPD/start.err") $(inside journalctl -u ipredir@t --no-pager -n 15 2>&1 | tr '\n' ' ')"
	finish
fi
uid=$(inside stat -c %u "/proc/$(inside systemctl show -P MainPID ipredir@t)" 2>/dev/null)
caps=$(inside grep CapEff "/proc/$(inside systemctl show -P MainPID ipredir@t)/status" 2>/dev/null)
# 0x3000: CAP_NET_ADMIN (12) and CAP_NET_RAW (13), nothing else.
# DynamicUser= takes uids from 61184-65519.
if [ "${uid:-0}" -ge 61184 ] && [ "$uid" -le 65519 ] && grep -q '0000000000003000$' <<<"$caps"; then
	pass credentials "runs as dynamic uid $uid, $caps"
else
	fail credentials "want a dynamic uid with CapEff 0x3000; got uid '$uid', $caps"
fi
if ping_none "$NS_C" 198.18.9.2 2; then
	pass drops "pings to 198.18.9.2 dropped by the service"
else
	fail drops "$(tr '\n' ' ' <<<"$PING_OUT")"
fi
pid=$(inside systemctl show -P MainPID ipredir@t)
inside sh -c "kill -STOP $pid" # (minbase has no /bin/kill)
for ((i = 0; i < 150; i++)); do
	n=$(inside systemctl show -P NRestarts ipredir@t)
	[ "${n:-0}" -ge 1 ] && [ "$(inside systemctl is-active ipredir@t)" = active ] && break
	sleep 0.1
done
npid=$(inside systemctl show -P MainPID ipredir@t)
if [ "${n:-0}" -ge 1 ] && [ "$npid" != "$pid" ] && [ "$npid" != 0 ]; then
	pass watchdog "stopped pid $pid killed by the watchdog, restarted as $npid (NRestarts=$n)"
else
	fail watchdog "NRestarts=$n, MainPID $pid -> $npid: $(inside journalctl -u ipredir@t --no-pager -n 10 2>&1 | tr '\n' ' ')"
fi
inside systemctl stop ipredir@t
ping_case after-stop "$NS_C" 198.18.9.2 3
kill -RTMIN+3 "$PID1" 2>/dev/null # poweroff
bg_wait boot 20
finish
