#!/bin/bash
# tool_help.sh - every subcommand of the tool set answers --help on
# standard output with status 0, and its manual page (and ipredir(1))
# renders with man -l without a warning.  Needs no root.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
need_file "$IPREDIR"

for sub in adapters monitor drop reject impair redirect stats cleanup; do
	out=$("$IPREDIR" "$sub" --help 2>/dev/null)
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^Usage: ipredir $sub" <<<"$out" &&
		grep -q 'Exit codes: 0 ok' <<<"$out" && grep -q '2 usage error' <<<"$out"; then
		pass "$sub.help" "$(head -n 1 <<<"$out")"
	else
		fail "$sub.help" "status $rc: $(head -n 3 <<<"$out")"
	fi
done

if ! command -v man >/dev/null; then
	skip man "no man command"
	finish
fi
for page in ipredir ipredir-adapters ipredir-monitor ipredir-drop ipredir-reject \
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
