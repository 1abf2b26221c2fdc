# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# tests/net/toollib.bash - sourced by the tool_*.sh tests after lib.sh:
# start and stop `ipredir SUBCOMMAND` in a namespace, read its summary, and
# check a bad-input line.  (Not a .sh file: tests/run would run it.)

# shellcheck disable=SC2034 # used by the tests that source this file
HELPER=$NET_DIR/tool_helper.py

# start_tool NAME NS READY_REGEX ARGS...: `ipredir ARGS` in NS in the
# background; returns once its stderr has a line matching READY_REGEX
# (printed after its handles are open), 1 if it never comes.
start_tool() {
	local name=$1 ns=$2 re=$3 i
	shift 3
	bg_start "$name" "$ns" "$IPREDIR" "$@"
	for ((i = 0; i < 200; i++)); do
		grep -Eq -- "$re" "$TMPD/$name.err" 2>/dev/null && return 0
		if ! bg_running "$name"; then
			bg_wait "$name" 1
			_skip_if_unsupported "$name"
			echo "# $name exited early (status ${BG_DONE[$name]})"
			dump "$name"
			return 1
		fi
		sleep 0.05
	done
	echo "# $name: no line matching '$re' after 10 s"
	dump "$name"
	return 1
}

# stop_tool NAME [SIGNAL]: stop it and wait; returns its exit status.
# SUMMARY is the last line of its stderr.
stop_tool() {
	local rc
	bg_stop "$1" "${2:-TERM}" 10
	rc=$?
	SUMMARY=$(tail -n 1 "$TMPD/$1.err" 2>/dev/null)
	return $rc
}

# field NAME: the number after NAME= in SUMMARY (empty if none).
field() { sed -nE "s/.*[ :]$1=([0-9.]+).*/\1/p" <<<" $SUMMARY"; }

# bad_input CASE NS REGEX ARGS...: `ipredir ARGS` in NS must exit 2, and
# the first line on stderr must match REGEX (which should hold the quoted
# bad input).
bad_input() {
	local c=$1 ns=$2 re=$3 rc err first
	shift 3
	err=$(ip netns exec "$ns" timeout 10 "$IPREDIR" "$@" 2>&1 >/dev/null)
	rc=$?
	first=$(head -n 1 <<<"$err")
	if [ $rc -eq 2 ] && grep -Eq -- "$re" <<<"$first"; then
		pass "$c" "$first"
	else
		fail "$c" "want status 2 and a line matching '$re'; got status $rc: $(tr '\n' '|' <<<"$err")"
	fi
}

# in_range VALUE LO HI: LO <= VALUE <= HI (decimals allowed).
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; }
