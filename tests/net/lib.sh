# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# tests/net/lib.sh - sourced by every namespace test: namespaces and veth
# pairs of the test's own (198.18.0.0/15, fd00::/8 only), background
# processes, the PASS/FAIL/SKIP protocol and a teardown that always runs.
#
# Project law kept here: nothing in the namespace the test was started in is
# touched (veth pairs are created straight inside the test namespaces), every
# name carries the test's pid, and the EXIT trap kills what was started and
# deletes what was created, whatever way the test ends.

set -u

NET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$NET_DIR/../.." && pwd)
O=${O:-build}
case $O in /*) BUILD=$O ;; *) BUILD=$ROOT/$O ;; esac
IPREDIR=$BUILD/bin/ipredir
PROGS=$BUILD/tests/progs
XFER=$NET_DIR/xfer.py
# Wall-clock bounds of the tests are written for the host; under emulation
# (tests/vm sets IPR_TIME_SCALE=4) they stretch by this factor, and paced
# senders slow down by it.
TIME_SCALE=${IPR_TIME_SCALE:-1}
# Seconds any one transfer may take: ample for 8 MB even in a sanitizer
# build, short enough that a stalled one fails well within the test timeout.
XFER_TIMEOUT=${XFER_TIMEOUT:-20}
# Debian's python3 starts faster than a shim and is what scripts/deps installs.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
TEST=$(basename "$0" .sh)
# ipredir-<owner>-<pid>-<role>: the owner is the tests/run that started us
# (or we ourselves), so tests/run can tell its own leftovers from others'.
NS_TAG="ipredir-${IPR_RUN_OWNER:-$$}-$$"
TMPD=$(mktemp -d "/tmp/ipredir-$TEST.XXXXXX")

declare -a _NSS=()     # namespaces to delete
declare -A BG=()       # background process name -> pid (= its pgid)
declare -A BG_DONE=()  # name -> exit status once reaped
FAILS=0

# ------------------------------------------------------------ protocol ---

pass() { echo "PASS $TEST.$1${2:+: $2}"; }
fail() { echo "FAIL $TEST.$1: ${2:-failed}"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $TEST.$1: $2"; }
# check CASE MESSAGE CMD...: PASS if CMD succeeds, else FAIL with MESSAGE.
check() {
	local name=$1 msg=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$msg"; fi
}
# The test's exit status: 1 if any case failed.
finish() { exit $((FAILS > 0 ? 1 : 0)); }
# Skip the whole test (every case it would have run) and leave.
skip_all() { skip all "$1"; exit 0; }

# Show the last lines of a background process's output, indented.
dump() {
	local n f
	for n in "$@"; do
		for f in "$TMPD/$n.out" "$TMPD/$n.err"; do
			[ -s "$f" ] || continue
			echo "  -- ${f##*/} (last lines)"
			tail -n 15 "$f" | sed 's/^/  | /'
		done
	done
}

# ------------------------------------------------------------ teardown ---

_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# DEBUG=1 tests/run NAME: after a failure (DEBUG=always: in any case), a
# shell inside the test's first namespace, before anything is torn down;
# $NSS lists them all (ip netns exec NAME CMD for the others).
_debug_shell() {
	local rc=$1
	[ -n "${IPR_DEBUG:-}" ] && [ ${#_NSS[@]} -gt 0 ] || return 0
	[ "$IPR_DEBUG" = always ] || [ "$FAILS" -gt 0 ] || [ "$rc" -ne 0 ] ||
		return 0
	{ : </dev/tty; } 2>/dev/null || { echo "# DEBUG: no terminal for a shell"; return 0; }
	echo "# DEBUG $TEST: a shell in ${_NSS[0]}; namespaces: ${_NSS[*]};" \
		"files in $TMPD; exit to tear down" >/dev/tty
	NSS="${_NSS[*]}" TMPD=$TMPD PS1="[$TEST ${_NSS[0]}] \\w# " \
		ip netns exec "${_NSS[0]}" bash --norc -i </dev/tty >/dev/tty 2>&1
}

_cleanup() {
	local rc=$? n pid i ns p
	set +e
	trap - TERM INT
	_debug_shell "$rc"
	# Disowned, bash reaps them without a "Killed" line in the test output.
	disown -a 2>/dev/null
	for n in "${!BG[@]}"; do
		[ -n "${BG_DONE[$n]+x}" ] && continue
		kill -TERM -- "-${BG[$n]}" 2>/dev/null
	done
	for i in $(seq 30); do
		p=0
		for n in "${!BG[@]}"; do
			[ -n "${BG_DONE[$n]+x}" ] && continue
			_alive "${BG[$n]}" && p=1
		done
		[ $p = 0 ] && break
		sleep 0.1
	done
	for n in "${!BG[@]}"; do
		[ -n "${BG_DONE[$n]+x}" ] && continue
		kill -KILL -- "-${BG[$n]}" 2>/dev/null
	done
	for ns in "${_NSS[@]}"; do
		# Anything still inside a namespace of ours was started by us.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "${IPR_KEEP_TMP:-}" ]; then
		echo "# kept $TMPD"
	else
		rm -rf "$TMPD"
	fi
	exit "$rc"
}
trap _cleanup EXIT
# bash skips the EXIT trap when a signal kills it: turn signals into exits.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# ---------------------------------------------------------- preconditions

# Every namespace test needs root and these tools; without them it cannot
# run at all, which is a SKIP, never a PASS.
skip_unless_root() {
	local t
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces, nftables)"
	for t in ip nft ss ping timeout setsid ps "$PY"; do
		command -v "$t" >/dev/null 2>&1 || skip_all "missing tool $t (run scripts/deps)"
	done
	local probe="$NS_TAG-probe"
	ip netns add "$probe" 2>/dev/null || skip_all "cannot create a network namespace"
	ip netns del "$probe"
}

# The programs under test must have been built: missing is a failure.
need_file() {
	local f
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			fail build "$f is missing: run make tests-build"
			finish
		fi
	done
}

# ---------------------------------------------------------- namespaces ---

# ns_create ROLE: make namespace $NS_TAG-ROLE, lo up, no IPv6 DAD.
ns_create() {
	local ns="$NS_TAG-$1"
	ip netns add "$ns" || return 1
	_NSS+=("$ns")
	ip -n "$ns" link set lo up
	# No duplicate address detection anywhere in it: addresses usable at once.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
}

# veth NS1 IF1 NS2 IF2: a veth pair created inside NS1, peer moved to NS2
# in the same call (never in our own namespace), both ends up.
veth() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

# addrs NS IF V4/PREFIX V6/PREFIX
addrs() {
	ip -n "$1" addr add "$3" dev "$2" &&
		ip -n "$1" -6 addr add "$4" dev "$2" nodad
}

# Two namespaces A (client) and B (server) on one veth pair (v0 in each).
topo_pair() {
	NS_A=$NS_TAG-A NS_B=$NS_TAG-B
	A4=198.18.1.1 B4=198.18.1.2 A6=fd00:1::1 B6=fd00:1::2
	{ ns_create A && ns_create B && veth "$NS_A" v0 "$NS_B" v0 &&
		addrs "$NS_A" v0 $A4/24 $A6/64 && addrs "$NS_B" v0 $B4/24 $B6/64; } ||
		{ fail topology "cannot build namespaces A-B"; finish; }
}

# C (client) - R (router) - S (server); R forwards IPv4 and IPv6 inside its
# own namespace only.
topo_router() {
	NS_C=$NS_TAG-C NS_R=$NS_TAG-R NS_S=$NS_TAG-S
	C4=198.18.1.1 R4C=198.18.1.254 R4S=198.18.2.254 S4=198.18.2.1
	C6=fd00:1::1 R6C=fd00:1::fe R6S=fd00:2::fe S6=fd00:2::1
	{ ns_create C && ns_create R && ns_create S &&
		veth "$NS_C" v0 "$NS_R" vc && veth "$NS_R" vs "$NS_S" v0 &&
		addrs "$NS_C" v0 $C4/24 $C6/64 &&
		addrs "$NS_R" vc $R4C/24 $R6C/64 &&
		addrs "$NS_R" vs $R4S/24 $R6S/64 &&
		addrs "$NS_S" v0 $S4/24 $S6/64 &&
		ip -n "$NS_C" route add default via $R4C &&
		ip -n "$NS_C" -6 route add default via $R6C &&
		ip -n "$NS_S" route add default via $R4S &&
		ip -n "$NS_S" -6 route add default via $R6S &&
		ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 >/dev/null; } ||
		{ fail topology "cannot build namespaces C-R-S"; finish; }
}

# ------------------------------------------------- background processes ---

# bg_start NAME NS CMD...: run CMD in NS in its own session and process
# group, stdout/stderr to $TMPD/NAME.out/.err.  BG[NAME] is its pid.
bg_start() {
	local name=$1 ns=$2
	shift 2
	# From a non-leader setsid does not fork, so $! is the program itself.
	setsid ip netns exec "$ns" "$@" >"$TMPD/$name.out" 2>"$TMPD/$name.err" </dev/null &
	BG[$name]=$!
	unset "BG_DONE[$name]"
}

# bg_wait NAME [SECONDS]: wait for NAME to end by itself; kills its group if
# it does not.  Returns (and sets BG_DONE[NAME] to) its exit status, 124 on
# timeout.
# out_num NAME KEY: the number N of the last KEY=N that NAME printed on
# its standard output (the programs' summary lines).
out_num() { sed -nE "s/.*(^| )$2=([0-9.-]+).*/\2/p" "$TMPD/$1.out" | tail -n 1; }

# _stuck PID: where a program that would not end is, for its .err file:
# each thread's state, kernel wait channel, system call and CPU time.
_stuck() {
	local t
	echo "# still running after the wait; its threads:"
	for t in /proc/"$1"/task/*; do
		echo "#   ${t##*/}: $(awk '{print "state", $3, "utime", $14, "stime", $15}' "$t/stat" 2>/dev/null)" \
			"wchan $(cat "$t/wchan" 2>/dev/null) syscall $(cut -d' ' -f1-3 "$t/syscall" 2>/dev/null)"
	done
}

bg_wait() {
	local name=$1 t=${2:-30} i rc
	if [ -n "${BG_DONE[$name]+x}" ]; then return "${BG_DONE[$name]}"; fi
	for ((i = 0; i < t * 20; i++)); do
		_alive "${BG[$name]}" || break
		sleep 0.05
	done
	if _alive "${BG[$name]}"; then
		_stuck "${BG[$name]}" >>"$TMPD/$name.err" 2>&1
		disown "${BG[$name]}" 2>/dev/null
		kill -KILL -- "-${BG[$name]}" 2>/dev/null
		rc=124
	else
		wait "${BG[$name]}" 2>/dev/null
		rc=$?
		kill -KILL -- "-${BG[$name]}" 2>/dev/null # stray children
	fi
	BG_DONE[$name]=$rc
	return "$rc"
}

# bg_stop NAME [SIGNAL] [SECONDS]: signal NAME and wait for it (status as
# bg_wait: 124 if it had to be killed).
bg_stop() {
	local name=$1 sig=${2:-TERM} t=${3:-10}
	if [ -z "${BG_DONE[$name]+x}" ]; then
		kill "-$sig" "${BG[$name]}" 2>/dev/null
	fi
	bg_wait "$name" "$t"
}

# bg_kill9 NAME: SIGKILL, and wait (up to 5 s) until it is gone.
bg_kill9() {
	local name=$1 i
	disown "${BG[$name]}" 2>/dev/null # no "Killed" line from bash
	kill -KILL "${BG[$name]}" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		_alive "${BG[$name]}" || break
		sleep 0.05
	done
	BG_DONE[$name]=137
	! _alive "${BG[$name]}"
}

bg_running() { [ -z "${BG_DONE[$1]+x}" ] && _alive "${BG[$1]}"; }

# wait_line NAME REGEX [SECONDS]: wait until NAME's stdout has a matching
# line; fails at once if NAME ended first.
wait_line() {
	local name=$1 re=$2 t=${3:-10} i
	for ((i = 0; i < t * 20; i++)); do
		grep -Eq -- "$re" "$TMPD/$name.out" 2>/dev/null && return 0
		bg_running "$name" || {
			grep -Eq -- "$re" "$TMPD/$name.out" 2>/dev/null
			return
		}
		sleep 0.05
	done
	return 1
}

# wait_port NS tcp|udp PORT [SECONDS]: until a socket listens on PORT in NS.
wait_port() {
	local ns=$1 proto=$2 port=$3 t=${4:-10} i flag=-t
	[ "$proto" = udp ] && flag=-u
	for ((i = 0; i < t * 20; i++)); do
		[ -n "$(ip netns exec "$ns" ss -Hln $flag "sport = :$port" 2>/dev/null)" ] &&
			return 0
		sleep 0.05
	done
	return 1
}

# -------------------------------------------------------------- ipredir ---

# Tables of ours in NS, and the queues bound there.
ipr_tables() {
	ip netns exec "$1" nft list tables 2>/dev/null | grep -Ec '^table [a-z0-9]+ ipredir'
}
nfq_count() {
	local n
	n=$(ip netns exec "$1" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | wc -l)
	echo "${n:-0}"
}

# A program that died with "not supported" means the kernel lacks a feature
# the library needs: the whole test is skipped, as the protocol says.
_skip_if_unsupported() {
	if grep -Eqi 'not supported|EOPNOTSUPP' "$TMPD/$1.err" "$TMPD/$1.out" 2>/dev/null; then
		dump "$1"
		skip_all "kernel lacks a feature ipredir needs: $(grep -Ehi -m1 'not supported|EOPNOTSUPP' "$TMPD/$1.err" "$TMPD/$1.out")"
	fi
}

# start_passthru NAME NS [ARGS...]: `ipredir passthru ARGS` in NS, returns
# once its table is in NS and its queue is bound (1 if it never is).
start_passthru() {
	local name=$1 ns=$2 t0 q0 i
	shift 2
	t0=$(ipr_tables "$ns")
	q0=$(nfq_count "$ns")
	bg_start "$name" "$ns" "$IPREDIR" passthru "$@"
	for ((i = 0; i < 200; i++)); do
		if ! bg_running "$name"; then
			bg_wait "$name" 1
			_skip_if_unsupported "$name"
			echo "# $name exited early (status ${BG_DONE[$name]})"
			dump "$name"
			return 1
		fi
		if [ "$(ipr_tables "$ns")" -gt "$t0" ] && [ "$(nfq_count "$ns")" -gt "$q0" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "# $name: no ipredir table and queue in $ns after 10 s"
	dump "$name"
	return 1
}

# start_prog NAME NS PROG [ARGS...]: a test program from $PROGS, returns
# once it printed "ready" (after its ipr_open succeeded) and its rules are
# in NS (one more ipredir table than before).
start_prog() {
	local name=$1 ns=$2 prog=$3 t0 i
	shift 3
	t0=$(ipr_tables "$ns")
	bg_start "$name" "$ns" "$PROGS/$prog" "$@"
	if wait_line "$name" '^ready' 10; then
		for ((i = 0; i < 100; i++)); do
			[ "$(ipr_tables "$ns")" -gt "$t0" ] && return 0
			sleep 0.05
		done
		echo "# $name is ready but no new ipredir table is in $ns"
	else
		bg_running "$name" || { bg_wait "$name" 1; _skip_if_unsupported "$name"; }
		echo "# $name did not get ready"
	fi
	dump "$name"
	return 1
}

# stop_passthru NAME: SIGTERM (SIGINT is ignored by background jobs of a
# script), then the summary's packets=N into PT_PACKETS.  Fails if it does
# not exit 0 with a summary line.
stop_passthru() {
	local name=$1 rc line
	bg_stop "$name" TERM 10
	rc=$?
	line=$(grep -E '^passthru: total' "$TMPD/$name.err" "$TMPD/$name.out" 2>/dev/null | tail -n 1)
	line=${line#*:passthru: total}
	PT_SUMMARY=$line
	PT_PACKETS=$(sed -nE 's/.*[^a-z_]packets=([0-9]+).*/\1/p' <<<" $line")
	if [ "$rc" -ne 0 ] || [ -z "$PT_PACKETS" ]; then
		echo "# $name: exit status $rc, summary '${line}'"
		dump "$name"
		PT_PACKETS=${PT_PACKETS:-0}
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------- traffic

_digest() { sed -nE "s/^tcp-$2 $3 bytes=([0-9]+) sha256=([0-9a-f]+).*/\1 \2/p" "$TMPD/$1.out"; }

# tcp_start NAME CLIENT_NS SERVER_NS SERVER_ADDR PORT UP DOWN [CLIENT ARGS]:
# a server in SERVER_NS and a client in CLIENT_NS, both in the background:
# UP bytes client->server and DOWN bytes back at the same time.
tcp_start() {
	local name=$1 cns=$2 sns=$3 addr=$4 port=$5 up=$6 down=$7
	shift 7
	local seed=$((port * 7 + up % 1000))
	bg_start "$name-srv" "$sns" "$PY" "$XFER" tcp-server --bind "$addr" --port "$port" \
		--send "$down" --recv "$up" --seed $seed --timeout "$XFER_TIMEOUT"
	if ! wait_port "$sns" tcp "$port" 10; then
		XFER_MSG="server did not listen on $addr port $port"
		dump "$name-srv"
		return 1
	fi
	bg_start "$name-cli" "$cns" "$PY" "$XFER" tcp-client --connect "$addr" --port "$port" \
		--send "$up" --recv "$down" --seed $seed --timeout "$XFER_TIMEOUT" "$@"
}

# tcp_finish NAME [SECONDS]: wait for both ends.  Succeeds if both exit 0
# and each end received exactly the digest the other sent.  XFER_MSG says
# what happened.
tcp_finish() {
	local name=$1 t=${2:-$((XFER_TIMEOUT + 5))} crc src cs cr ss sr
	bg_wait "$name-cli" "$t"
	crc=$?
	bg_wait "$name-srv" 10
	src=$?
	cs=$(_digest "$name-cli" client sent) cr=$(_digest "$name-cli" client recv)
	ss=$(_digest "$name-srv" server sent) sr=$(_digest "$name-srv" server recv)
	if [ $crc -eq 0 ] && [ $src -eq 0 ] && [ -n "$cs" ] && [ "$cs" = "$sr" ] &&
		[ -n "$ss" ] && [ "$ss" = "$cr" ]; then
		# Digests cut to 12 hex digits: enough to tell runs apart.
		XFER_MSG="${sr% *} bytes up sha256 ${sr#* }, ${cr% *} bytes down sha256 ${cr#* }"
		XFER_MSG=$(sed -E 's/([0-9a-f]{12})[0-9a-f]{52}/\1/g' <<<"$XFER_MSG")
		return 0
	fi
	XFER_MSG="client status $crc, server status $src; client sent [$cs] server got [$sr]; server sent [$ss] client got [$cr]"
	dump "$name-cli" "$name-srv"
	return 1
}

# tcp_xfer: tcp_start and tcp_finish in one.
tcp_xfer() {
	tcp_start "$@" || return 1
	tcp_finish "$1"
}

# udp_xfer NAME SEND_NS RECV_NS RECV_ADDR PORT COUNT SIZE [RECV ARGS] [-- SEND ARGS]
# COUNT paced datagrams, each checked by the receiver.  Returns the
# receiver's status; UDP_OK is how many arrived intact, XFER_MSG its line.
udp_xfer() {
	local name=$1 sns=$2 rns=$3 addr=$4 port=$5 count=$6 size=$7 rrc
	shift 7
	local rargs=() sargs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do rargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	sargs=("$@")
	local seed=$((port * 11 + count))
	bg_start "$name-rcv" "$rns" "$PY" "$XFER" udp-recv --bind "$addr" --port "$port" \
		--count "$count" --size "$size" --seed $seed --timeout "$XFER_TIMEOUT" "${rargs[@]}"
	if ! wait_port "$rns" udp "$port" 10; then
		XFER_MSG="receiver did not bind $addr port $port"
		UDP_OK=0
		dump "$name-rcv"
		return 1
	fi
	ip netns exec "$sns" "$PY" "$XFER" udp-send --connect "$addr" --port "$port" \
		--count "$count" --size "$size" --seed $seed --timeout "$XFER_TIMEOUT" "${sargs[@]}" \
		>"$TMPD/$name-snd.out" 2>"$TMPD/$name-snd.err"
	bg_wait "$name-rcv" $((XFER_TIMEOUT + 5))
	rrc=$?
	XFER_MSG=$(grep -E '^udp-recv ok=' "$TMPD/$name-rcv.out" | tail -n 1)
	UDP_OK=$(sed -nE 's/^udp-recv ok=([0-9]+).*/\1/p' <<<"$XFER_MSG")
	UDP_OK=${UDP_OK:-0}
	XFER_MSG="${XFER_MSG#udp-recv } ($(grep -E '^udp-send' "$TMPD/$name-snd.out" | tail -n 1))"
	# A loss says where it happened: the counters of both namespaces that
	# count a dropped datagram (since the namespace was made).
	[ "$rrc" -ne 0 ] && XFER_MSG+="; $(udp_where "$rns" receiver); $(udp_where "$sns" sender)"
	return $rrc
}
# udp_where NS LABEL: every nonzero counter of NS that a lost datagram can
# show in: UDP's receive errors, IP's discards, the queues' drops (queue
# full / socket full), the links' drops, and the host's backlog drops.
udp_where() {
	local c d=0 x
	c=$(ip netns exec "$1" nstat -as UdpRcvbufErrors UdpInErrors UdpInCsumErrors UdpNoPorts \
		Udp6RcvbufErrors Udp6InErrors Udp6InCsumErrors Udp6NoPorts IpInDiscards IpInHdrErrors \
		IpInAddrErrors IpOutDiscards IpOutNoRoutes Ip6InDiscards Ip6OutDiscards 2>/dev/null |
		awk '!/^#/ { printf "%s=%s ", $1, $2 }')
	c+=$(ip netns exec "$1" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk '{ q += $6; u += $7 } END { if (q + u) printf "queue_dropped=%d user_dropped=%d ", q, u }')
	c+=$(ip netns exec "$1" sh -c 'grep -H . /sys/class/net/*/statistics/[rt]x_dropped' 2>/dev/null |
		awk -F: '$2 > 0 { split($1, p, "/"); printf "%s_%s=%s ", p[5], p[7], $2 }')
	while read -r _ x _; do d=$((d + 0x$x)); done </proc/net/softnet_stat
	[ $d -gt 0 ] && c+="host_backlog_dropped=$d"
	echo "$2 ns: ${c:-no drop counted}"
}

# ping_ok NS ADDR [COUNT]: every one of COUNT echo requests answered.
# PING_OUT keeps ping's summary.
ping_ok() {
	local ns=$1 addr=$2 count=${3:-10}
	PING_OUT=$(ip netns exec "$ns" timeout 20 ping -n -q -c "$count" -i 0.05 -W 1 "$addr" 2>&1)
	grep -Eq "^$count packets transmitted, $count received" <<<"$PING_OUT"
}
# ping_none NS ADDR [COUNT]: not one of them answered.
ping_none() {
	local ns=$1 addr=$2 count=${3:-3}
	PING_OUT=$(ip netns exec "$ns" timeout 20 ping -n -q -c "$count" -i 0.2 -W 1 "$addr" 2>&1)
	! grep -Eq " [1-9][0-9]* (packets )?received" <<<"$PING_OUT"
}
# The rtt summary: "min/avg/max/mdev" in ms.
ping_rtt() { sed -nE 's/^rtt [^=]+= ([0-9./]+) ms.*/\1/p' <<<"$PING_OUT"; }

# pt_done CASE NAME MIN: stop passthru NAME; PASS CASE if it exited 0 with a
# summary that counted at least MIN packets.
pt_done() {
	local c=$1 name=$2 min=$3
	if stop_passthru "$name" && [ "$PT_PACKETS" -ge "$min" ]; then
		pass "$c" "packets=$PT_PACKETS (>= $min)"
	else
		fail "$c" "want exit 0 and packets >= $min; got status ${BG_DONE[$name]}, summary '$PT_SUMMARY'"
	fi
}

# tcp_case CASE ARGS...: tcp_xfer ARGS as one case.
tcp_case() {
	local c=$1
	shift
	if tcp_xfer "$@"; then pass "$c" "$XFER_MSG"; else fail "$c" "$XFER_MSG"; fi
}

# udp_case CASE ARGS...: udp_xfer ARGS as one case (every datagram intact).
udp_case() {
	local c=$1
	shift
	if udp_xfer "$@"; then pass "$c" "$XFER_MSG"; else fail "$c" "$XFER_MSG"; fi
}

# ping_case CASE NS ADDR [COUNT]: every echo answered.
ping_case() {
	local c=$1
	shift
	if ping_ok "$@"; then
		pass "$c" "$(grep -E 'received' <<<"$PING_OUT"), rtt $(ping_rtt) ms"
	else
		fail "$c" "$(tr '\n' ' ' <<<"$PING_OUT")"
	fi
}
