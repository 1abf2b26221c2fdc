# SPDX-License-Identifier: LGPL-2.1-or-later
"""Unit tests of the packet views: the ctypes structures against the C
compiler's layout, the Python parser against the library's
ipr_packet_parse (a table, then mutations of it), every settable field
against the bytes it must change, payload rewrites, checksums against an
independent sum.  No root needed."""

import ctypes
import os
import random
import struct
import subprocess

import pytest

import ipredir
from ipredir import _clib
from ipredir.packet import _parse

import pkts
from pkts import A4, A6, B4, B6, TABLE

BUILD = os.environ.get("O", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), BUILD)


def test_layout_matches_c():
    prog = os.path.join(BUILD, "tests", "progs", "ipr_pylayout")
    assert os.path.exists(prog), f"{prog} missing: run make tests-build"
    out = subprocess.run([prog], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    structs = {"ipr_addr": _clib.Addr, "ipr_packet": _clib.PacketDesc,
               "ipr_open_opts": _clib.OpenOpts, "ipr_stats": _clib.Stats,
               "ipr_filter_error": _clib.FilterError,
               "ipr_filter_env": _clib.FilterEnv,
               "ipr_headers": _clib.Headers}
    consts = {"IPR_BATCH_SLOT": _clib.BATCH_SLOT,
              "IPR_BATCH_MAX": _clib.BATCH_MAX,
              "IPR_MTU_MAX": _clib.MTU_MAX,
              "IPR_FLAG_FAIL_CLOSED": _clib.FLAG_FAIL_CLOSED,
              "IPR_ADDR_MARK": _clib.ADDR_MARK}
    checked = 0
    for ln in filter(None, out):
        parts = ln.split()
        if parts[0] in consts:
            assert consts[parts[0]] == int(parts[1]), ln
        elif parts[1] == "size":
            assert ctypes.sizeof(structs[parts[0]]) == int(parts[2]), ln
        else:
            s, f = parts[0].split(".")
            assert getattr(structs[s], f).offset == int(parts[1]), ln
        checked += 1
    assert checked >= 60


def c_parse(data):
    buf = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
    h = _clib.Headers()
    rc = _clib.ipr_packet_parse(buf if data else None, len(data),
                                ctypes.byref(h))
    c_parse.keep = buf  # h points into it
    return rc, h, ctypes.addressof(buf)


def same_as_c(data):
    """Python's parse of @data says what ipr_packet_parse says."""
    rc, h, base = c_parse(data)
    t = _parse(memoryview(bytearray(data)))
    if rc < 0:
        assert t[0] == 0, f"C refuses, Python parses {t}"
        return "bad"
    assert t[0] == (4 if h.ip else 6)
    assert t[1] == h.protocol
    assert t[2] == h.l3_len == h.l4_off
    kinds = {6: h.tcp, 17: h.udp, 1: h.icmp, 58: h.icmpv6}
    for k, ptr in kinds.items():
        assert (t[3] == k) == bool(ptr), (k, t)
        if ptr:
            assert ptr - base == t[2]
    assert t[5] == h.total_len
    assert (t[6], t[7]) == (h.fragment, h.frag_off)
    if h.payload:
        assert (t[4], t[5] - t[4]) == (h.payload - base, h.payload_len)
    else:
        assert t[4] >= t[5]
    return {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}.get(t[3], "ip")


EXPECT = {
    "v4-tcp-syn": "tcp", "v4-tcp-payload": "tcp", "v4-tcp-options": "tcp",
    "v4-udp": "udp", "v4-udp-empty": "udp", "v4-icmp": "icmp",
    "v4-options": "udp", "v4-first-fragment": "udp",
    "v4-later-fragment": "ip", "v4-icmpv6-proto": "ip",
    "v4-unknown-proto": "ip", "v4-short-tcp": "ip", "v4-bad-doff": "ip",
    "v4-total-short": "udp", "v4-total-long": "udp",
    "v4-total-below-ihl": "bad", "v4-ihl-4": "bad", "v4-short": "bad",
    "v6-tcp": "tcp", "v6-udp": "udp", "v6-icmpv6": "icmpv6",
    "v6-icmp-proto": "ip", "v6-hop-dst-udp": "udp", "v6-routing-tcp": "tcp",
    "v6-ah-udp": "udp", "v6-first-fragment": "udp",
    "v6-later-fragment": "ip", "v6-no-next": "ip", "v6-ext-cut": "ip",
    "v6-plen-long": "udp", "v6-short": "bad", "not-ip": "bad",
    "empty": "bad",
}


@pytest.mark.parametrize("name,data", TABLE, ids=[n for n, _ in TABLE])
def test_parse_table_against_c(name, data):
    assert same_as_c(data) == EXPECT[name]


def test_parse_mutations_against_c():
    """Every table packet with random bytes changed and cut at random
    lengths: 6000 variants, the two parsers must agree on each."""
    rng = random.Random(14)
    seen = set()
    for i in range(6000):
        data = bytearray(TABLE[i % len(TABLE)][1])
        if not data:
            continue
        for _ in range(rng.randint(1, 3)):
            # Mostly the bytes the parsers read: version, lengths, protocol
            # and next-header fields, extension lengths, data offset.
            pos = rng.choice([0, 2, 3, 4, 5, 6, 7, 9, 32, 40, 41, 48, 49])
            if pos >= len(data):
                pos = rng.randrange(len(data))
            data[pos] = rng.randrange(256)
        if rng.random() < 0.3:
            del data[rng.randrange(len(data) + 1):]
        seen.add(same_as_c(bytes(data)))
    # The mutations reach every outcome, not only "bad".
    assert seen >= {"bad", "ip", "tcp", "udp", "icmp", "icmpv6"}, seen


@pytest.mark.parametrize("name,data", TABLE, ids=[n for n, _ in TABLE])
def test_views_at_c_offsets(name, data):
    rc, h, base = c_parse(data)
    p = ipredir.Packet(data)
    assert (p.ipv4 is not None) == bool(h.ip)
    assert (p.ipv6 is not None) == bool(h.ipv6)
    for view, ptr in ((p.tcp, h.tcp), (p.udp, h.udp), (p.icmpv4, h.icmp),
                      (p.icmpv6, h.icmpv6)):
        assert (view is not None) == bool(ptr)
        if view is not None:
            assert view._o == ptr - base
    if rc == 0:
        want = ctypes.string_at(h.payload, h.payload_len) if h.payload \
            else b""
        assert p.payload == want
    else:
        assert p.payload is None and p.src_addr is None
    assert not p.modified


def test_ipv4_fields_read():
    d = pkts.ipv4(6, pkts.tcp(sport=40000, dport=443, seq=0xdeadbeef,
                              ack=0x01020304, flags=0x12, win=1024),
                  ttl=33, ident=0x1234, tos=0xb9)
    p = ipredir.Packet(d)
    ip, t = p.ipv4, p.tcp
    assert (ip.src_addr, ip.dst_addr, ip.ttl, ip.ident, ip.protocol) == \
        (A4, B4, 33, 0x1234, 6)
    assert (ip.tos, ip.dscp, ip.ecn, ip.df, ip.mf, ip.frag_offset) == \
        (0xb9, 0xb9 >> 2, 1, True, False, 0)
    assert (ip.header_len, ip.hdr_len, ip.packet_len) == (20, 5, 40)
    assert (t.src_port, t.dst_port, t.seq_num, t.ack_num) == \
        (40000, 443, 0xdeadbeef, 0x01020304)
    assert (t.syn, t.ack, t.fin, t.rst, t.psh, t.urg) == \
        (True, True, False, False, False, False)
    assert (t.flags, t.window_size, t.header_len, t.data_offset) == \
        (0x12, 1024, 20, 5)
    assert (p.src_port, p.dst_port, p.protocol) == (40000, 443, (6, 20))


def test_ipv6_fields_read():
    d = pkts.ipv6(17, pkts.udp(sport=1, dport=2, payload=b"abc"), hlim=7,
                  tc=0xa5, flow=0xbcdef)
    p = ipredir.Packet(d)
    ip, u = p.ipv6, p.udp
    assert (ip.src_addr, ip.dst_addr, ip.hop_limit, ip.next_hdr) == \
        (A6, B6, 7, 17)
    assert (ip.traffic_class, ip.flow_label, ip.payload_len) == \
        (0xa5, 0xbcdef, 11)
    assert (u.src_port, u.dst_port, u.length, u.payload_len) == (1, 2, 11, 3)
    assert p.payload == b"abc" and p.address_family == 10


# (packet, view, field, value, offset of the bytes, the bytes it writes)
SETTERS = [
    ("v4", "ipv4", "ttl", 9, 8, b"\x09"),
    ("v4", "ipv4", "ident", 0xabcd, 4, b"\xab\xcd"),
    ("v4", "ipv4", "tos", 0x28, 1, b"\x28"),
    ("v4", "ipv4", "ecn", 3, 1, b"\x03"),
    ("v4", "ipv4", "df", False, 6, b"\x00"),
    ("v4", "ipv4", "mf", True, 6, b"\x60"),
    ("v4", "ipv4", "src_addr", "198.19.0.9", 12, b"\xc6\x13\x00\x09"),
    ("v4", "ipv4", "dst_addr", "198.18.255.1", 16, b"\xc6\x12\xff\x01"),
    ("v4", "tcp", "src_port", 8080, 20, b"\x1f\x90"),
    ("v4", "tcp", "dst_port", 65535, 22, b"\xff\xff"),
    ("v4", "tcp", "seq_num", 0x01020304, 24, b"\x01\x02\x03\x04"),
    ("v4", "tcp", "ack_num", 5, 28, b"\x00\x00\x00\x05"),
    ("v4", "tcp", "fin", True, 33, b"\x03"),
    ("v4", "tcp", "syn", False, 33, b"\x00"),
    ("v4", "tcp", "window_size", 7, 34, b"\x00\x07"),
    ("v4", "tcp", "urg_ptr", 0x102, 38, b"\x01\x02"),
    ("v6", "ipv6", "hop_limit", 1, 7, b"\x01"),
    ("v6", "ipv6", "traffic_class", 0xff, 0, b"\x6f\xf0"),
    ("v6", "ipv6", "flow_label", 0x12345, 1, b"\x01\x23\x45"),
    ("v6", "ipv6", "src_addr", "fd00:9::7", 8,
     bytes.fromhex("fd000009000000000000000000000007")),
    ("v6", "udp", "src_port", 4242, 40, b"\x10\x92"),
    ("v6", "udp", "cksum", 0xbeef, 46, b"\xbe\xef"),
    ("v6icmp", "icmpv6", "type", 129, 40, b"\x81"),
    ("v6icmp", "icmpv6", "code", 3, 41, b"\x03"),
]
BASES = {"v4": pkts.ipv4(6, pkts.tcp()),
         "v6": pkts.ipv6(17, pkts.udp(payload=b"zz")),
         "v6icmp": pkts.ipv6(58, pkts.icmp(typ=128))}


@pytest.mark.parametrize("base,view,field,value,off,raw", SETTERS,
                         ids=[f"{s[1]}.{s[2]}" for s in SETTERS])
def test_setter_writes_wire_bytes(base, view, field, value, off, raw):
    before = BASES[base]
    p = ipredir.Packet(before)
    h = getattr(p, view)
    setattr(h, field, value)
    after = bytes(p._mv)
    assert after[off:off + len(raw)] == raw
    # Nothing else changed.
    assert after[:off] == before[:off]
    assert after[off + len(raw):] == before[off + len(raw):]
    assert getattr(getattr(p, view), field) == value
    assert p.modified


@pytest.mark.parametrize("view,field,value", [
    ("ipv4", "ttl", 256), ("ipv4", "ttl", -1), ("tcp", "dst_port", 70000),
    ("ipv4", "ecn", 4), ("ipv4", "src_addr", "fd00::1"),
    ("ipv4", "dst_addr", "300.1.1.1")])
def test_setter_refuses_bad_values(view, field, value):
    p = ipredir.Packet(BASES["v4"])
    with pytest.raises(ValueError, match=str(value).replace(".", r"\.")):
        setattr(getattr(p, view), field, value)
    assert bytes(p._mv) == BASES["v4"]


@pytest.mark.parametrize("base", ["v4udp", "v6udp", "v4tcp", "v6tcp"])
def test_payload_rewrite_new_length(base):
    l4 = pkts.udp(payload=b"short") if "udp" in base else \
        pkts.tcp(flags=0x18, payload=b"short")
    d = pkts.ipv4(17 if "udp" in base else 6, l4) if "v4" in base else \
        pkts.ipv6(17 if "udp" in base else 6, l4)
    p = ipredir.Packet(d)
    p.payload = b"a much longer payload"
    assert p.payload == b"a much longer payload"
    n = len(p)
    assert n == len(d) + 16
    rc, h, _ = c_parse(bytes(p._mv))
    assert rc == 0 and h.total_len == n and h.payload_len == 21
    if "v4" in base:
        assert p.ipv4.packet_len == n
    else:
        assert p.ipv6.payload_len == n - 40
    if "udp" in base:
        assert p.udp.length == 8 + 21
    assert p.recalculate_checksums() == (2 if "v4" in base else 1)
    assert p.checksums_valid


def _pseudo(p, l4len, proto):
    if p.ipv4:
        return (bytes(p._mv[12:20]) + struct.pack("!BBH", 0, proto, l4len))
    return bytes(p._mv[8:40]) + struct.pack("!IxxxB", l4len, proto)


@pytest.mark.parametrize("name", ["v4-tcp-payload", "v4-udp", "v4-icmp",
                                  "v6-tcp", "v6-udp", "v6-icmpv6",
                                  "v6-hop-dst-udp"])
def test_checksums_against_independent_sum(name):
    data = dict(TABLE)[name]
    p = ipredir.Packet(data)
    assert not p.checksums_valid      # the table has zero checksums
    p.recalculate_checksums()
    assert p.checksums_valid
    raw = bytes(p._mv)
    t = _parse(p._mv)
    l4 = raw[t[2]:t[5]]
    if p.ipv4:
        assert pkts.csum(raw[:20]) == 0
    if t[3] == 1:
        assert pkts.csum(l4) == 0
    else:
        assert pkts.csum(_pseudo(p, len(l4), t[1]) + l4) == 0
    # One byte of payload off: no longer valid.
    p.raw[-1] ^= 0xff
    assert not p.checksums_valid


def test_checksum_flags_leave_fields_alone():
    p = ipredir.Packet(pkts.ipv4(6, pkts.tcp(payload=b"x")))
    assert p.recalculate_checksums(ipredir.CSUM_NO_TCP) == 1
    assert p.ipv4.cksum != 0 and p.tcp.cksum == 0
    p2 = ipredir.Packet(pkts.ipv4(6, pkts.tcp(payload=b"x")))
    assert p2.recalculate_checksums(ipredir.CSUM_NO_IP) == 1
    assert p2.ipv4.cksum == 0 and p2.tcp.cksum != 0


def test_modified_tracking():
    p = ipredir.Packet(BASES["v4"])
    _ = (p.tcp.dst_port, p.src_addr, p.payload, p.ipv4.ttl, repr(p))
    assert not p.modified, "reading must not mark a packet modified"
    p.raw  # noqa: B018 - handing out the writable bytes
    assert p.modified
    q = ipredir.Packet(BASES["v4"])
    q.dst_port = q.dst_port
    assert q.modified


def test_packet_metadata_defaults():
    p = ipredir.Packet(BASES["v6"], outbound=False, if_idx=3)
    assert p.direction == ipredir.Direction.INBOUND and p.is_inbound
    assert p.if_idx == 3 and p.addr.flags & _clib.ADDR_IPV6
    assert not p.held and p.verdict is None
    p.direction = ipredir.Direction.OUTBOUND
    assert p.is_outbound


def test_non_ip_packet():
    p = ipredir.Packet(b"\x50" + bytes(30))
    assert (p.ip, p.tcp, p.payload, p.src_port) == (None, None, None, None)
    with pytest.raises(ValueError, match="not an IP packet"):
        p.recalculate_checksums()
    with pytest.raises(AttributeError, match="not an IP packet"):
        p.src_addr = A4
