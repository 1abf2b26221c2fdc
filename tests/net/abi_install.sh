#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# abi_install.sh - what a user of the installed library builds with:
# make install into a scratch PREFIX, then every example and one test
# program (tests/unit/test_checksum.c) compiled with nothing but the
# installed header and pkg-config file and linked to the installed shared
# library, which they load at run time; make uninstall removes every file
# install put there.  Needs no root.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
command -v pkg-config >/dev/null || skip_all "no pkg-config (run scripts/deps)"
D=$TMPD/inst
# Installed under a PREFIX of our own (not DESTDIR) so that the .pc file
# names where the files really are.
MK=(make -s -C "$ROOT" O="$BUILD" PREFIX="$D/usr" SYSCONFDIR="$D/etc")
if out=$("${MK[@]}" install 2>&1); then
	pass install "$(find "$D" -type f | wc -l) files, $(find "$D" -type l | wc -l) links"
else
	fail install "$(tail -n 5 <<<"$out")"
	finish
fi
export PKG_CONFIG_PATH=$D/usr/lib/pkgconfig
pc=$(pkg-config --cflags --libs ipredir 2>&1) || { fail pkg-config "$pc"; finish; }
ver=$(sed -n 's/^#define IPR_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
	"$ROOT/include/ipredir.h" | paste -sd.)
check pc-version "ipredir.pc says $(pkg-config --modversion ipredir), the header $ver" \
	[ "$(pkg-config --modversion ipredir)" = "$ver" ]

# -I and -L only from pkg-config: the public header must stand alone.
for src in "$ROOT"/examples/*.c "$ROOT/tests/unit/test_checksum.c"; do
	n=$(basename "$src" .c)
	# shellcheck disable=SC2086
	if out=$(cc -std=gnu11 -Wall -Wextra -Werror -I"$ROOT/tests" -o "$TMPD/$n" "$src" $pc 2>&1); then
		pass "build-$n" "cc $n.c $pc"
	else
		fail "build-$n" "$(head -n 5 <<<"$out")"
	fi
done
if [ -x "$TMPD/test_checksum" ]; then
	lib=$(LD_LIBRARY_PATH=$D/usr/lib ldd "$TMPD/test_checksum" | grep libipredir)
	check loads-installed "test_checksum loads '$lib'" \
		grep -q "libipredir.so.0 => $D/usr/lib/libipredir.so.0 " <<<"$lib"
	out=$(LD_LIBRARY_PATH=$D/usr/lib "$TMPD/test_checksum" 2>&1)
	rc=$?
	np=$(grep -c '^PASS ' <<<"$out")
	nf=$(grep -c '^FAIL ' <<<"$out")
	check test-checksum "status $rc, $np passed, $nf failed against the installed .so" \
		test $rc -eq 0 -a "$nf" -eq 0 -a "$np" -gt 0
fi

if out=$("${MK[@]}" uninstall 2>&1); then
	left=$(find "$D" -type f -o -type l)
	check uninstall "left behind: $left" [ -z "$left" ]
else
	fail uninstall "$(tail -n 5 <<<"$out")"
fi
finish
