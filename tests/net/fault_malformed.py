#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""fault_malformed.py - malformed IPv4 and IPv6 packets for the fault
tests, built field by field and sent with raw sockets.

  raw4 SRC DST         IPPROTO_RAW over IPv4: the kernel fills in the total
                       length and the header checksum, everything else is
                       ours (options, fragments, bad transport headers)
  raw6 SRC DST         IPPROTO_RAW over IPv6: the kernel fills in the
                       payload length, everything else is ours (extension
                       header chains, fragments, bad transport headers)
  frame IFNAME DSTMAC SRC4 DST4 SRC6 DST6
                       whole Ethernet frames (AF_PACKET): bad checksums,
                       bad IHL, lengths that disagree with the frame

Each packet is sent --repeat times; a send the kernel refuses is counted,
not fatal.  Prints one "sent=N refused=M" line.  Needs CAP_NET_RAW.
"""
import argparse
import os
import random
import socket
import struct
import sys
import time

RNG = random.Random(6)  # the same packets every run


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def a4(s):
    return socket.inet_pton(socket.AF_INET, s)


def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def ip4(src, dst, proto, payload, opts=b"", ihl=None, tot=None, frag=0,
        ident=0x1234, ttl=64, ver=4, good_csum=True):
    if ihl is None:
        ihl = 5 + (len(opts) + 3) // 4
    opts = opts + b"\0" * (-len(opts) % 4)
    if tot is None:
        tot = 20 + len(opts) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | (ihl & 0xf), 0,
                    tot & 0xffff, ident, frag, ttl, proto, 0, a4(src), a4(dst))
    h += opts
    c = csum(h) if good_csum else 0xdead
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload


def ip6(src, dst, nh, payload, plen=None, ver=6):
    if plen is None:
        plen = len(payload)
    return struct.pack("!IHBB16s16s", ver << 28, plen & 0xffff, nh, 64,
                       a6(src), a6(dst)) + payload


def tcp(sport=40000, dport=5999, flags=0x02, doff=5, opts=b"", data=b"",
        urg=0):
    h = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, (doff & 0xf) << 4,
                    flags, 1024, 0xbeef, urg)
    return h + opts + data


def udp(sport=40000, dport=5998, length=None, data=b"x" * 8):
    if length is None:
        length = 8 + len(data)
    return struct.pack("!HHHH", sport, dport, length & 0xffff, 0xbeef) + data


def ext(nh, body_len8, fill=b"\x01"):
    """An options-type extension header (hop-by-hop, destination, routing
    layout): next header, length in 8-byte units past the first 8, body."""
    n = 8 + 8 * body_len8
    return bytes([nh, body_len8]) + (fill * n)[: n - 2]


def frag6(nh, off, more, ident=0x42):
    return struct.pack("!BBHI", nh, 0, (off << 3) | (1 if more else 0), ident)


def rnd(n):
    return bytes(RNG.getrandbits(8) for _ in range(n))


def cases4(s, d):
    """(name, packet) for raw4; total length and checksum get fixed by the
    kernel, so these spoil what lies past them."""
    return [
        ("tcp-trunc-10", ip4(s, d, 6, tcp()[:10])),
        ("tcp-doff-15-short", ip4(s, d, 6, tcp(doff=15))),
        ("tcp-doff-0", ip4(s, d, 6, tcp(doff=0, data=b"abcd"))),
        ("tcp-doff-4", ip4(s, d, 6, tcp(doff=4))),
        ("tcp-opts-garbage", ip4(s, d, 6, tcp(doff=15, opts=b"\x02\x00" * 20))),
        ("tcp-all-flags-urg", ip4(s, d, 6, tcp(flags=0xff, urg=0xffff, data=b"u"))),
        ("udp-trunc-4", ip4(s, d, 17, udp()[:4])),
        ("udp-len-ffff", ip4(s, d, 17, udp(length=0xffff))),
        ("udp-len-3", ip4(s, d, 17, udp(length=3))),
        ("udp-len-0", ip4(s, d, 17, udp(length=0))),
        ("icmp-2-bytes", ip4(s, d, 1, b"\x08\x00")),
        ("icmp-0-bytes", ip4(s, d, 1, b"")),
        ("tcp-no-bytes", ip4(s, d, 6, b"")),
        ("opts-nop-40", ip4(s, d, 17, udp(), opts=b"\x01" * 40)),
        ("opts-rr-len-255", ip4(s, d, 17, udp(), opts=b"\x07\xff\x04" + b"\0" * 5)),
        ("opts-len-0", ip4(s, d, 17, udp(), opts=b"\x44\x00")),
        ("opts-eol-first", ip4(s, d, 17, udp(), opts=b"\x00\x07\x07")),
        ("opts-lsrr-3", ip4(s, d, 6, tcp(), opts=b"\x83\x03\x04")),
        ("frag-first-mf", ip4(s, d, 17, udp(data=b"f" * 16), frag=0x2000, ident=0x100)),
        ("frag-middle", ip4(s, d, 17, b"m" * 16, frag=0x2000 | 3, ident=0x100)),
        ("frag-last", ip4(s, d, 17, b"l" * 16, frag=6, ident=0x100)),
        ("frag-max-offset", ip4(s, d, 6, b"z" * 8, frag=0x1fff, ident=0x101)),
        ("frag-tiny-tcp", ip4(s, d, 6, tcp()[:1], frag=0x2000, ident=0x102)),
        ("frag-overlap-a", ip4(s, d, 17, udp(data=b"a" * 24), frag=0x2000, ident=0x103)),
        ("frag-overlap-b", ip4(s, d, 17, b"b" * 24, frag=1, ident=0x103)),
        ("frag-df-and-mf", ip4(s, d, 17, udp(), frag=0x6000, ident=0x104)),
        ("proto-253", ip4(s, d, 253, rnd(100))),
        ("proto-0", ip4(s, d, 0, rnd(12))),
        ("proto-41-garbage-v6", ip4(s, d, 41, b"\x60" + rnd(30))),
        ("proto-4-trunc-inner", ip4(s, d, 4, b"\x45\x00\x00")),
        ("proto-47-gre", ip4(s, d, 47, rnd(9))),
        ("proto-58-in-v4", ip4(s, d, 58, b"\x80\x00\x00\x00")),
        ("udp-1400-bad-csum", ip4(s, d, 17, udp(data=rnd(1392)))),
        ("ttl-0", ip4(s, d, 17, udp(), ttl=0)),
    ]


def cases6(s, d):
    chain20 = b"".join(ext(60, 0) for _ in range(19)) + ext(17, 0) + udp()
    return [
        ("hbh-len-past-end", ip6(s, d, 0, bytes([17, 255]) + b"\x01" * 6)),
        ("dstopts-x20", ip6(s, d, 60, chain20)),
        ("dstopts-len-past-end", ip6(s, d, 60, bytes([6, 30]) + b"\x01" * 14)),
        ("dstopts-then-nothing", ip6(s, d, 60, bytes([6, 0]))),
        ("frag-first", ip6(s, d, 44, frag6(17, 0, True) + udp(data=b"q" * 16))),
        ("frag-later", ip6(s, d, 44, frag6(17, 8, True) + b"r" * 16)),
        ("frag-atomic", ip6(s, d, 44, frag6(6, 0, False) + tcp())),
        ("frag-trunc-4", ip6(s, d, 44, frag6(17, 0, True)[:4])),
        ("frag-in-frag", ip6(s, d, 44, frag6(44, 0, True) + frag6(17, 0, True) + udp())),
        ("routing-type0", ip6(s, d, 43, bytes([17, 2, 0, 1, 0, 0, 0, 0]) + a6(d) + udp())),
        ("ah-len-0", ip6(s, d, 51, bytes([17, 0]) + b"\0" * 6 + udp())),
        ("ah-len-255", ip6(s, d, 51, bytes([17, 255]) + b"\0" * 10)),
        ("no-next-with-data", ip6(s, d, 59, rnd(40))),
        ("icmpv6-1-byte", ip6(s, d, 58, b"\x80")),
        ("tcp-trunc-5", ip6(s, d, 6, tcp()[:5])),
        ("tcp-doff-15-short", ip6(s, d, 6, tcp(doff=15))),
        ("udp-trunc-6", ip6(s, d, 17, udp()[:6])),
        ("udp-len-ffff", ip6(s, d, 17, udp(length=0xffff))),
        ("ipv6-in-ipv6-garbage", ip6(s, d, 41, rnd(20))),
        ("esp-garbage", ip6(s, d, 50, rnd(33))),
        # hop-by-hop, destination, fragment, destination, 7 bytes of TCP
        ("long-chain-trunc-tcp", ip6(s, d, 0, ext(60, 0) + ext(44, 0) +
                                     frag6(60, 0, False) + ext(6, 1) +
                                     tcp()[:7])),
        ("mobility-135", ip6(s, d, 135, bytes([59, 0, 0, 0]) + rnd(4))),
        ("hbh-not-first", ip6(s, d, 60, ext(0, 0) + ext(17, 0) + udp())),
        ("no-payload-tcp", ip6(s, d, 6, b"")),
        ("proto-253", ip6(s, d, 253, rnd(64))),
    ]


def frames(src4, dst4, src6, dst6):
    """(name, ethertype, L3 bytes) that only a link-layer sender can make:
    the kernel's own checks (header checksum, lengths, IHL) see these."""
    good = udp(data=b"g" * 16)
    return [
        ("v4-bad-hdr-csum", 0x0800, ip4(src4, dst4, 17, good, good_csum=False)),
        ("v4-ihl-4", 0x0800, ip4(src4, dst4, 17, good, ihl=4)),
        ("v4-ihl-15-short", 0x0800, ip4(src4, dst4, 17, b"", ihl=15)),
        ("v4-tot-longer", 0x0800, ip4(src4, dst4, 17, good, tot=400)),
        ("v4-tot-shorter", 0x0800, ip4(src4, dst4, 17, good + b"TRAILER", tot=20 + len(good))),
        ("v4-tot-below-ihl", 0x0800, ip4(src4, dst4, 17, good, tot=12)),
        ("v4-version-5", 0x0800, ip4(src4, dst4, 17, good, ver=5)),
        ("v4-truncated-10", 0x0800, ip4(src4, dst4, 17, good)[:10]),
        ("v4-tcp-trunc", 0x0800, ip4(src4, dst4, 6, tcp()[:9])),
        ("v4-udp-len-ffff", 0x0800, ip4(src4, dst4, 17, udp(length=0xffff))),
        ("v4-opts-bad", 0x0800, ip4(src4, dst4, 17, good, opts=b"\x07\x01\x44\x99")),
        ("v4-frag-first", 0x0800, ip4(src4, dst4, 17, udp(data=b"h" * 16), frag=0x2000, ident=0x200)),
        ("v4-frag-later", 0x0800, ip4(src4, dst4, 17, b"i" * 16, frag=9, ident=0x201)),
        ("v4-in-86dd", 0x86dd, ip4(src4, dst4, 17, good)),
        ("v6-plen-longer", 0x86dd, ip6(src6, dst6, 17, good, plen=500)),
        ("v6-plen-shorter", 0x86dd, ip6(src6, dst6, 17, good + b"TRAILER", plen=len(good))),
        ("v6-plen-0", 0x86dd, ip6(src6, dst6, 17, good, plen=0)),
        ("v6-version-4", 0x86dd, ip6(src6, dst6, 17, good, ver=4)),
        ("v6-truncated-20", 0x86dd, ip6(src6, dst6, 17, good)[:20]),
        ("v6-hbh-bad-option", 0x86dd, ip6(src6, dst6, 0, bytes([17, 0, 0xc2, 4, 0, 0, 0, 0]) + good)),
        ("v6-frag-first", 0x86dd, ip6(src6, dst6, 44, frag6(17, 0, True, 0x300) + udp(data=b"j" * 16))),
        ("v6-frag-later", 0x86dd, ip6(src6, dst6, 44, frag6(17, 16, False, 0x301) + b"k" * 16)),
        ("v6-dstopts-x20", 0x86dd, ip6(src6, dst6, 60, b"".join(ext(60, 0) for _ in range(19)) + ext(17, 0) + good)),
        ("v6-tcp-trunc", 0x86dd, ip6(src6, dst6, 6, tcp()[:3])),
        ("v6-in-0800", 0x0800, ip6(src6, dst6, 17, good)),
    ]


def send_all(sock, items, repeat, sendfn):
    sent = refused = 0
    for _ in range(repeat):
        for name, pkt in items:
            try:
                sendfn(sock, pkt)
                sent += 1
            except OSError as e:
                refused += 1
                print(f"refused {name}: {e}", flush=True)
            time.sleep(0.001)
    return sent, refused


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["raw4", "raw6", "frame"])
    p.add_argument("args", nargs="+")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    if a.mode == "raw4":
        src, dst = a.args
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        items = cases4(src, dst)
        sent, refused = send_all(s, items, a.repeat,
                                 lambda so, pk: so.sendto(pk, (dst, 0)))
    elif a.mode == "raw6":
        src, dst = a.args
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        items = cases6(src, dst)
        sent, refused = send_all(s, items, a.repeat,
                                 lambda so, pk: so.sendto(pk, (dst, 0)))
    else:
        ifname, dmac, src4, dst4, src6, dst6 = a.args
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((ifname, 0))
        smac = s.getsockname()[4]
        dm = bytes.fromhex(dmac.replace(":", ""))
        items = [(n, dm + smac + struct.pack("!H", et) + l3)
                 for n, et, l3 in frames(src4, dst4, src6, dst6)]
        sent, refused = send_all(s, items, a.repeat,
                                 lambda so, pk: so.send(pk))
    print(f"{a.mode} kinds={len(items)} sent={sent} refused={refused}",
          flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
