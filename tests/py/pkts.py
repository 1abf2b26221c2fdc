# SPDX-License-Identifier: LGPL-2.1-or-later
"""Packets for the unit tests, built byte by byte with struct (not with
the views under test), and an independent checksum."""

import socket
import struct

A4, B4 = "198.18.1.1", "198.18.1.2"
A6, B6 = "fd00:1::1", "fd00:1::2"


def csum(data):
    """RFC 1071 ones' complement sum, folded and inverted."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(proto, l4, src=A4, dst=B4, ttl=64, ident=7, frag=0x4000,
         options=b"", total=None, tos=0):
    ihl = (20 + len(options)) // 4
    tl = 20 + len(options) + len(l4) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, tl, ident, frag, ttl,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h + options + l4


def ipv6(nh, l4, src=A6, dst=B6, hlim=64, ext=b"", plen=None, tc=0,
         flow=0):
    pl = len(ext) + len(l4) if plen is None else plen
    h = struct.pack("!IHBB16s16s", 6 << 28 | tc << 20 | flow, pl, nh, hlim,
                    socket.inet_pton(socket.AF_INET6, src),
                    socket.inet_pton(socket.AF_INET6, dst))
    return h + ext + l4


def tcp(sport=1234, dport=80, seq=1000, ack=0, flags=0x02, win=65535,
        payload=b"", options=b""):
    doff = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4,
                       flags, win, 0, 0) + options + payload


def udp(sport=5353, dport=53, payload=b"", length=None):
    ln = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, ln, 0) + payload


def icmp(typ=8, code=0, body=0x00010002, payload=b"ping"):
    return struct.pack("!BBHI", typ, code, 0, body) + payload


def ext(nh, n8=0, fill=0):
    """An IPv6 hop-by-hop / routing / destination options header."""
    return bytes([nh, n8]) + bytes([fill]) * (6 + 8 * n8)


def frag6(nh, offset=0, more=False, ident=99):
    return struct.pack("!BBHI", nh, 0, offset | (1 if more else 0), ident)


# (name, bytes): the table the parser tests run over.
TABLE = [
    ("v4-tcp-syn", ipv4(6, tcp())),
    ("v4-tcp-payload", ipv4(6, tcp(flags=0x18, payload=b"GET / HTTP/1.0"))),
    ("v4-tcp-options", ipv4(6, tcp(options=b"\x02\x04\x05\xb4" + b"\x01" * 4,
                                   payload=b"x"))),
    ("v4-udp", ipv4(17, udp(payload=b"hello"))),
    ("v4-udp-empty", ipv4(17, udp())),
    ("v4-icmp", ipv4(1, icmp())),
    ("v4-options", ipv4(17, udp(payload=b"o"), options=b"\x01" * 8)),
    ("v4-first-fragment", ipv4(17, udp(payload=b"f" * 16), frag=0x2000)),
    ("v4-later-fragment", ipv4(17, b"middle of a datagram", frag=0x0003)),
    ("v4-icmpv6-proto", ipv4(58, icmp())),
    ("v4-unknown-proto", ipv4(47, b"\0\0\x08\0gre")),
    ("v4-short-tcp", ipv4(6, tcp()[:12])),
    ("v4-bad-doff", ipv4(6, tcp()[:12] + b"\x30" + tcp()[13:])),
    ("v4-total-short", ipv4(17, udp(payload=b"pad"), total=31) + b"\0" * 6),
    ("v4-total-long", ipv4(17, udp(payload=b"cut"), total=200)),
    ("v4-total-below-ihl", ipv4(17, udp(), total=10)),
    ("v4-ihl-4", b"\x44" + ipv4(17, udp())[1:]),
    ("v4-short", ipv4(17, udp())[:19]),
    ("v6-tcp", ipv6(6, tcp(payload=b"v6 data"))),
    ("v6-udp", ipv6(17, udp(payload=b"hi"))),
    ("v6-icmpv6", ipv6(58, icmp(typ=128))),
    ("v6-icmp-proto", ipv6(1, icmp())),
    ("v6-hop-dst-udp", ipv6(0, udp(payload=b"e"), ext=ext(60) + ext(17, 1))),
    ("v6-routing-tcp", ipv6(43, tcp(), ext=ext(6, 2))),
    ("v6-ah-udp", ipv6(51, udp(), ext=bytes([17, 1]) + bytes(10))),
    ("v6-first-fragment", ipv6(44, udp(payload=b"a" * 8),
                               ext=frag6(17, 0, True))),
    ("v6-later-fragment", ipv6(44, b"rest of it", ext=frag6(17, 8))),
    ("v6-no-next", ipv6(59, b"nothing")),
    ("v6-ext-cut", ipv6(0, b"", ext=ext(17)[:5])),
    ("v6-plen-long", ipv6(17, udp(payload=b"x"), plen=500)),
    ("v6-short", ipv6(17, udp())[:39]),
    ("not-ip", b"\x50" + bytes(40)),
    ("empty", b""),
]
