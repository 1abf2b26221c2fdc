#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# filter_cli.sh - `ipredir filter check|explain|eval`: outputs, error lines
# with the caret under the right column, and exit codes.  Needs no root
# and no namespace: it only runs the command.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
need_file "$IPREDIR"

OUT=$TMPD/out ERR=$TMPD/err
# run ARGS...: the command's status in RC, its output in $OUT / $ERR
run() {
	"$IPREDIR" filter "$@" >"$OUT" 2>"$ERR"
	RC=$?
}
got() { echo "status $RC, stdout '$(head -c 300 "$OUT" | tr '\n' '|')', stderr '$(head -c 300 "$ERR" | tr '\n' '|')'"; }

# expect_out CASE STATUS TEXT ARGS...: status and the whole of stdout
expect_out() {
	local c=$1 st=$2 want=$3
	shift 3
	run "$@"
	if [ "$RC" -eq "$st" ] && [ "$(cat "$OUT")" = "$want" ]; then
		pass "$c"
	else
		fail "$c" "want status $st and '$want'; $(got)"
	fi
}
# expect_grep CASE STATUS FILE REGEX ARGS...: status and a line of FILE
expect_grep() {
	local c=$1 st=$2 f=$3 re=$4
	shift 4
	run "$@"
	if [ "$RC" -eq "$st" ] && grep -Eq -- "$re" "$f"; then
		pass "$c"
	else
		fail "$c" "want status $st and /$re/; $(got)"
	fi
}
# expect_error CASE STATUS POS TOKEN MSG ARGS...: one error line that
# quotes TOKEN at POS, the filter, and the caret under column POS
expect_error() {
	local c=$1 st=$2 pos=$3 tok=$4 msg=$5 caret
	shift 5
	run "$@"
	caret=$(printf '  %*s^' "$pos" '')
	if [ "$RC" -eq "$st" ] && [ ! -s "$OUT" ] &&
		grep -Fqx -- "ipredir filter $1: $msg at position $pos: '$tok'" "$ERR" &&
		[ "$(sed -n 3p "$ERR")" = "$caret" ] && [ "$(wc -l <"$ERR")" -eq 3 ]; then
		pass "$c"
	else
		fail "$c" "want status $st, '$msg' at $pos quoting '$tok' and a caret; $(got)"
	fi
}

# Packets: TCP SYN 10.0.0.1:1234 -> 10.0.0.2:80 with DF; UDP over IPv6
# 2001:db8::1:53 -> 2001:db8::2:5353 with 4 bytes of payload.
T4=4500002800004000400600000a0000010a00000204d2005000000000000000005002000000000000
U6="60000000 000c 1140 20010db8000000000000000000000001 20010db8000000000000000000000002 0035 14e9 000c 0000 c0 00 00 01"

# ------------------------------------------------------------------ check
expect_out check-normalises 0 'tcp.DstPort == 80 and not ip.DF != 0' \
	check 'tcp.DstPort = 0x50 && !ip.DF'
expect_out check-or-and 0 '(tcp and not udp) or ip' check 'tcp && !udp || ip'
expect_out check-fields 0 'localAddr == 10.0.0.1 and ifName == "eth*" and packet16[-1] == 5 and tcp.Payload[0] == 71' \
	check 'localAddr == ::ffff:10.0.0.1 and ifName == "eth*" and packet16[-2b] == 5 and tcp.Payload[0b] == 0x47'
expect_out check-forward 0 'outbound and tcp' check --layer forward 'outbound and tcp'
expect_out check-options-after 0 'udp' check udp --layer network
expect_error check-unknown-field 1 22 ifname "unknown field" \
	check 'tcp.DstPort == 80 and ifname == "eth0"'
expect_error check-bad-value 1 15 80abc "expected value" check 'tcp.DstPort == 80abc'
expect_error check-range 1 15 99999999999999999999 "value out of range" \
	check 'tcp.DstPort == 99999999999999999999'
# past the field's range is WinDivert's "never equal", not an error
expect_out check-past-range 0 'tcp.DstPort < 0' check 'tcp.DstPort == 65536'
expect_error check-direction 1 12 uid "field not valid for this direction" \
	check 'inbound and uid == 0'
expect_error check-layer 1 8 uid "field not valid for this layer" \
	check --layer forward 'tcp and uid == 0'
expect_error check-ct-user 1 0 ct.state "ct.state cannot be combined with fields checked in user space" \
	check 'ct.state == new and random8 < 10'
expect_error check-string 1 10 '"eth0' "unterminated string" check 'ifName == "eth0'
expect_error check-index 1 7 70000 "index out of range" check 'packet[70000] == 1'
expect_error check-operator 1 4 '&' "unexpected token" check 'tcp & udp'
expect_error check-paren 1 0 '(' "unbalanced parenthesis" check '(tcp or udp'
run check 'tcp and'
if [ "$RC" -eq 1 ] && grep -Fqx "ipredir filter check: expected field at position 7 (the end)" "$ERR" &&
	[ "$(sed -n 3p "$ERR")" = "         ^" ]; then
	pass check-at-end
else
	fail check-at-end "want 'expected field at position 7 (the end)' and a caret; $(got)"
fi
# a tab in the filter must not move the caret off its token
run check "$(printf 'tcp\tand foo')"
if [ "$RC" -eq 1 ] && [ "$(sed -n 2p "$ERR")" = "  tcp and foo" ] &&
	[ "$(sed -n 3p "$ERR")" = "          ^" ]; then
	pass check-tab-caret
else
	fail check-tab-caret "$(got)"
fi

# ---------------------------------------------------------------- explain
expect_grep explain-rule 0 "$OUT" '^    meta l4proto tcp tcp dport 80 -> queue$' \
	explain 'tcp.DstPort == 80'
expect_grep explain-no-user 0 "$OUT" '^user space: nothing to check' explain 'tcp.DstPort == 80'
expect_grep explain-hooks 0 "$OUT" '^hook out \(outbound, nft hook output\): nothing can match' \
	explain 'inbound and udp'
expect_grep explain-user 0 "$OUT" '^  random8 < 10$' explain 'tcp and random8 < 10'
expect_grep explain-user-hooks 0 "$OUT" '^user space: ipr_filter_eval checks again every packet the kernel passes on hook out ' \
	explain 'outbound and tcp.PayloadLength > 0 or inbound and tcp'
expect_grep explain-forward 0 "$OUT" '^hook fwd \(forwarded, nft hook forward\): 1 chain' \
	explain --layer forward 'udp.DstPort == 53'
expect_grep explain-ifname 0 "$OUT" 'meta iifname "eth\*" -> queue' explain 'ifName == "eth*"'
expect_grep explain-uid 0 "$OUT" 'meta skuid 1000 -> queue' explain 'uid == 1000'
expect_grep explain-ct 0 "$OUT" 'ct state new -> queue' explain 'ct.state == new'
expect_grep explain-chains 0 "$OUT" '^  chain in_1:$' explain '(tcp or udp) and (ip or icmpv6)'
expect_grep explain-kernel 0 "$OUT" '^kernel: Linux .*; tcp/udp.Payload\[i\]: in ' \
	explain 'tcp.DstPort == 80'
# Without the inner payload expression (as on Linux < 5.16, forced here):
# the payload test moves to user space, the kernel keeps its protocol.
IPREDIR_DISABLE=inner-payload expect_grep explain-payload-moved 0 "$OUT" \
	'^    meta l4proto tcp -> queue$' explain 'tcp.Payload[0] == 0x47'
IPREDIR_DISABLE=inner-payload expect_grep explain-payload-user 0 "$OUT" \
	'^  tcp.Payload\[0\] == 71$' explain 'tcp.Payload[0] == 0x47'
IPREDIR_DISABLE=inner-payload expect_grep explain-payload-ct 0 "$OUT" \
	'^kernel: this filter cannot run here: ct.state with tcp/udp.Payload' \
	explain 'ct.state == new and tcp.Payload[0] == 0x47'
# And as this kernel runs it: in the kernel where it has the expression.
if "$IPREDIR" filter explain true | grep -q '^kernel: .*Payload\[i\]: in the kernel'; then
	expect_grep explain-payload-here 0 "$OUT" '@ih,0,8 71 -> queue$' \
		explain 'tcp.Payload[0] == 0x47'
else
	expect_grep explain-payload-here 0 "$OUT" '^    meta l4proto tcp -> queue$' \
		explain 'tcp.Payload[0] == 0x47'
fi
expect_grep explain-bad 2 "$ERR" "^ipredir filter explain: unknown field at position 0: 'foo'" explain foo

# ------------------------------------------------------------------- eval
expect_out eval-match 0 match eval 'tcp.DstPort == 80 and tcp.Syn' --packet "$T4"
expect_out eval-no-match 1 'no match' eval 'udp' --packet "$T4"
expect_out eval-options-first 0 match eval --packet "$T4" 'ip.DF'
expect_out eval-inbound-local 0 match eval 'localPort == 80 and localAddr == 10.0.0.2' --inbound --packet "$T4"
expect_out eval-outbound-local 0 match eval 'localPort == 1234' --outbound --packet "$T4"
expect_out eval-outbound-not-inbound 1 'no match' eval 'inbound' --outbound --packet "$T4"
expect_out eval-forward 0 match eval 'outbound and layer == NETWORK_FORWARD' --forward --packet "$T4"
expect_out eval-ifidx 0 match eval 'ifIdx == 7' --ifidx 7 --packet "$T4"
expect_out eval-ifname 0 match eval 'ifName == "veth*"' --ifname veth0 --packet "$T4"
expect_out eval-ifname-lo 0 match eval 'ifName == "lo"' --ifidx 1 --packet "$T4"
expect_out eval-loopback 0 match eval 'loopback' --outbound --loopback --packet "$T4"
expect_out eval-loopback-in 1 'no match' eval 'loopback' --inbound --loopback --packet "$T4"
expect_out eval-mark 0 match eval 'mark == 0x10' --mark 16 --packet "$T4"
expect_out eval-uid 0 match eval 'uid == 1000 and gid == 5' --outbound --uid 1000 --gid 5 --packet "$T4"
expect_out eval-uid-none 1 'no match' eval 'not uid == 1000' --outbound --packet "$T4"
expect_out eval-ct 0 match eval 'ct.state == established' --ct-state established --packet "$T4"
expect_out eval-ct-unknown 1 'no match' eval 'ct.state != established' --packet "$T4"
expect_out eval-timestamp 0 match eval 'timestamp > 1000' --timestamp 1001 --packet "$T4"
expect_out eval-priority 0 match eval 'priority == -5' --priority -5 --packet "$T4"
expect_out eval-ipv6 0 match eval 'ipv6 and udp.Payload32[0] == 0xc0000001 and localPort == 5353' --packet "$U6"
expect_out eval-payload-neg 0 match eval 'udp.Payload[-1] == 1 and udp.PayloadLength == 4' --packet "$U6"
expect_out eval-hex-forms 0 match eval 'ip' --packet "0x$(sed 's/../&:/g; s/:$//' <<<"$T4")"
expect_grep eval-bad-filter 2 "$ERR" "^ipredir filter eval: unknown field at position 0: 'tcpp'" \
	eval 'tcpp' --packet "$T4"
expect_grep eval-odd-hex 2 "$ERR" 'even number of hex digits' eval tcp --packet 450
expect_grep eval-not-hex 2 "$ERR" "'z' is not a hex digit" eval tcp --packet 45zz
expect_grep eval-not-ip 2 "$ERR" 'not an IPv4 or IPv6 packet' eval tcp --packet 55000028
expect_grep eval-no-packet 2 "$ERR" -- '--packet HEX is needed' eval tcp
expect_grep eval-both-ways 2 "$ERR" 'not both' eval tcp --inbound --outbound --packet "$T4"
expect_grep eval-bad-ct 2 "$ERR" "not 'old'" eval tcp --ct-state old --packet "$T4"
expect_grep eval-bad-ifidx 2 "$ERR" "not 'x'" eval tcp --ifidx x --packet "$T4"

# ------------------------------------------------------------------ usage
expect_grep usage-none 2 "$ERR" '^Usage: ipredir filter check'
expect_grep usage-help 0 "$OUT" '^Usage: ipredir filter check' --help
expect_grep usage-sub-help 0 "$OUT" 'Exit codes' eval --help
expect_grep usage-unknown-sub 2 "$ERR" "unknown subcommand 'chek'" chek tcp
expect_grep usage-no-filter 2 "$ERR" 'no FILTER given' check
expect_grep usage-two-filters 2 "$ERR" 'one FILTER, quoted' check tcp udp
expect_grep usage-bad-option 2 "$ERR" "unknown or incomplete option '--bogus'" check --bogus tcp
expect_grep usage-eval-option 2 "$ERR" "'--packet' is an option of eval only" check --packet 00 tcp
expect_grep usage-bad-layer 2 "$ERR" "not 'flow'" check --layer flow tcp
"$IPREDIR" --help >"$OUT" 2>&1
check usage-listed "ipredir --help does not list filter" grep -Eq '^  filter ' "$OUT"
finish
