#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# deb_install.sh - the Debian packages (make deb) installed into a fresh
# root: a minimal bookworm made by mmdebstrap (cached as a tarball in
# /var/cache/ipredir-test, unpacked anew each run), our four packages
# installed with dpkg inside it.  There: ipredir --version names the tool
# and the library, the tool carries the library (static, see debian/rules),
# `ipredir filter check tcp`, examples/passthru.c compiled with pkg-config
# against the installed .pc and shared library, the Python binding
# imports, and the packaged tool runs a passthru between two namespaces.
# Opt-in (IPR_TEST_DEB=1; .ci/run sets it): the packages take a minute to
# build and the first root several minutes to download.  IPR_DEB_DIR=DIR
# takes already built packages from DIR.
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/lib.sh"
[ "${IPR_TEST_DEB:-0}" = 1 ] ||
	skip_all "opt-in: set IPR_TEST_DEB=1 (builds the packages and a bookworm root, minutes; .ci/run does)"
skip_unless_root
for t in mmdebstrap dpkg-buildpackage chroot unshare; do
	command -v "$t" >/dev/null || skip_all "missing $t (run scripts/deps --deb)"
done

# The packages.
DEBS=${IPR_DEB_DIR:-$TMPD/deb}
if [ -z "${IPR_DEB_DIR:-}" ]; then
	if "$ROOT/scripts/mkdeb" "$DEBS" >"$TMPD/mkdeb.log" 2>&1; then
		pass build "$(ls "$DEBS"/*.deb | wc -l) packages"
	else
		fail build "scripts/mkdeb failed: $(tail -n 5 "$TMPD/mkdeb.log" | tr '\n' ' ')"
		finish
	fi
fi
pkgs=()
for p in libipredir0 libipredir-dev ipredir python3-ipredir; do
	f=$(ls "$DEBS/${p}_"*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || { fail build "no $p package in $DEBS"; finish; }
	pkgs+=("$f")
done

# A fresh root: what the packages depend on, plus a compiler for the
# pkg-config build; the base is cached, the root is new every run.
INCLUDE=gcc,libc6-dev,pkgconf,libmnl-dev,libmnl0,libpcap0.8,python3
CACHE=/var/cache/ipredir-test
BASE=$CACHE/root-bookworm-$(echo "$INCLUDE" | md5sum | cut -c1-8).tar
if [ ! -s "$BASE" ]; then
	mkdir -p "$CACHE"
	if ! mmdebstrap --variant=minbase --include="$INCLUDE" bookworm "$BASE.tmp" \
		>"$TMPD/mmdebstrap.log" 2>&1; then
		rm -f "$BASE.tmp"
		skip_all "cannot make a bookworm root (no mirror?): $(tail -n 2 "$TMPD/mmdebstrap.log" | tr '\n' ' ')"
	fi
	mv "$BASE.tmp" "$BASE"
fi
R=$TMPD/root
mkdir "$R" && tar -xf "$BASE" -C "$R" || { fail root "cannot unpack $BASE"; finish; }
mkdir -p "$R/tmp/debs" && cp "${pkgs[@]}" "$R/tmp/debs/"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
if out=$(in_root sh -c 'dpkg -i /tmp/debs/*.deb' 2>&1); then
	pass install "$(grep -c '^Setting up' <<<"$out") packages set up"
else
	fail install "dpkg -i: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
	finish
fi

ver=$(sed -n 's/^#define IPR_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
	"$ROOT/include/ipredir.h" | paste -sd.)
out=$(in_root ipredir --version 2>&1)
check version "want 'ipredir $ver (libipredir $ver)', got '$out'" \
	[ "$out" = "ipredir $ver (libipredir $ver)" ]
# The tool carries the library (static: it uses the internal tool API,
# debian/rules); programs built with pkg-config load the packaged .so.
out=$(in_root ldd /usr/bin/ipredir 2>&1)
check tool-static "the tool should not need libipredir.so: '$out'" \
	eval '! grep -q libipredir <<<"$out"'
out=$(in_root ipredir filter check tcp 2>&1)
check filter-check "want 'tcp', got '$out'" [ "$out" = tcp ]

cp "$ROOT/examples/passthru.c" "$R/tmp/passthru.c"
if out=$(in_root sh -c 'cc -Wall -Wextra -Werror -o /tmp/passthru /tmp/passthru.c $(pkg-config --cflags --libs ipredir)' 2>&1) &&
	in_root ldd /tmp/passthru | grep -Eq 'libipredir.so.0 => /(usr/)?lib/'; then
	pass pkg-config "examples/passthru.c: $(in_root pkg-config --cflags --libs ipredir | tr -s ' ')"
else
	fail pkg-config "$out"
fi
out=$(in_root python3 -c 'import ipredir; print(ipredir.__version__)' 2>&1)
check python "want $ver, got '$out'" [ "$out" = "$ver" ]
out=$(in_root sh -c 'test -f /lib/systemd/system/ipredir@.service && test -f /usr/share/man/man1/ipredir.1.gz && test -f /usr/share/man/man3/libipredir.3.gz && test -f /usr/share/bash-completion/completions/ipredir && echo ok' 2>&1)
check files "unit, man pages or completion missing: '$out'" [ "$out" = ok ]

# The packaged tool in namespace A: it runs chrooted, with a /proc of its
# own in a private mount namespace (gone with it).
cat >"$TMPD/chroot-ipredir" <<EOS
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount -t proc proc "\$0/proc" && exec chroot "\$0" /usr/bin/ipredir "\$@"' "$R" "\$@"
EOS
chmod +x "$TMPD/chroot-ipredir"
IPREDIR=$TMPD/chroot-ipredir
topo_pair
if start_passthru pt "$NS_A" "icmp or icmpv6"; then
	ping_case ping4 "$NS_A" "$B4" 5
	ping_case ping6 "$NS_A" "$B6" 5
	pt_done passthru pt 10
else
	fail passthru "the packaged ipredir passthru did not start"
fi
finish
