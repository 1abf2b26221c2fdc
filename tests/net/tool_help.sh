#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tool_help.sh - every subcommand of the tool set answers --help on
# standard output with status 0, and its manual page (and ipredir(1))
# renders with man -l without a warning; passthru refuses bad tuning
# values with status 2.  Needs no root.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
need_file "$IPREDIR"

for sub in passthru adapters monitor drop reject impair redirect stats cleanup; do
	out=$("$IPREDIR" "$sub" --help 2>/dev/null)
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^Usage: ipredir $sub" <<<"$out" &&
		grep -q 'Exit codes: 0 ok' <<<"$out" && grep -q '2 usage error' <<<"$out"; then
		pass "$sub.help" "$(head -n 1 <<<"$out")"
	else
		fail "$sub.help" "status $rc: $(head -n 3 <<<"$out")"
	fi
done

# passthru's tuning options: a bad value is a usage error (status 2) whose
# message quotes it, found before any handle is opened (so no root needed).
while IFS='|' read -r name opt val; do
	err=$("$IPREDIR" passthru "$opt" "$val" true 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 2 ] && grep -qF "'$val'" <<<"$err"; then
		pass "passthru.bad-$name" "$err"
	else
		fail "passthru.bad-$name" "want status 2 and '$val' quoted; got status $rc: $err"
	fi
done <<'CASES'
cpus-word|--cpus|x
cpus-missing-cpu|--cpus|9999
cpus-reversed|--cpus|1-0
cpus-empty-item|--cpus|0,,1
snaplen-small|--snaplen|20
snaplen-large|--snaplen|70000
busy-poll-large|--busy-poll|200000
busy-poll-negative|--busy-poll|-1
threads-0|--threads|0
CASES

if ! command -v man >/dev/null; then
	skip man "no man command"
	finish
fi
for page in ipredir ipredir-passthru ipredir-adapters ipredir-monitor ipredir-drop ipredir-reject \
	ipredir-impair ipredir-redirect ipredir-stats ipredir-cleanup; do
	f=$ROOT/man/$page.1
	out=$(MANWIDTH=80 man -l "$f" 2>"$TMPD/man.err")
	rc=$?
	title=$(tr '[:lower:]' '[:upper:]' <<<"$page")
	if [ $rc -eq 0 ] && [ ! -s "$TMPD/man.err" ] && grep -q "^$title(1)" <<<"$out" &&
		grep -q '^EXIT STATUS' <<<"$out"; then
		pass "man.$page" "$(wc -l <<<"$out") lines"
	else
		fail "man.$page" "status $rc: $(cat "$TMPD/man.err") $(head -n 2 <<<"$out")"
	fi
done
finish
