# SPDX-License-Identifier: LGPL-2.1-or-later
"""Unit tests of the filter helpers and of the errors the binding raises
before any handle is opened.  No root needed."""

import errno

import pytest

import ipredir

import pkts

TCP80 = pkts.ipv4(6, pkts.tcp(dport=80, flags=0x02))
TCP81 = pkts.ipv4(6, pkts.tcp(dport=81, flags=0x12))
UDP6 = pkts.ipv6(17, pkts.udp(dport=53, payload=b"hello"))
ICMP = pkts.ipv4(1, pkts.icmp())

# (filter, packet, outbound, expected)
EVAL = [
    ("tcp.DstPort == 80", TCP80, True, True),
    ("tcp.DstPort == 80", TCP81, True, False),
    ("tcp.Syn and not tcp.Ack", TCP80, True, True),
    ("tcp.Syn and not tcp.Ack", TCP81, True, False),
    ("outbound", TCP80, True, True),
    ("outbound", TCP80, False, False),
    ("inbound and tcp", TCP80, False, True),
    ("ipv6 and udp.DstPort == 53", UDP6, True, True),
    ("ip and udp", UDP6, True, False),
    ("udp.Payload[0] == 0x68", UDP6, True, True),
    ("udp.PayloadLength == 5", UDP6, True, True),
    ("ipv6.DstAddr == fd00:1::2", UDP6, True, True),
    ("ip.SrcAddr == 198.18.1.1 and ip.DstAddr == 198.18.1.2", TCP80, True,
     True),
    ("ip.SrcAddr == 198.18.1.9", TCP80, True, False),
    ("icmp.Type == 8", ICMP, True, True),
    ("icmp.Type == 0", ICMP, True, False),
    ("true", ICMP, False, True),
    ("false", ICMP, False, False),
]


@pytest.mark.parametrize("text,data,out,want", EVAL,
                         ids=[f"{e[0]}-{'out' if e[2] else 'in'}-{e[3]}"
                              for e in EVAL])
def test_eval(text, data, out, want):
    with ipredir.Filter(text) as f:
        assert f.eval(data, outbound=out) is want
        p = ipredir.Packet(data, outbound=out)
        assert f.eval(p) is want
        assert p.matches(text) is want
        # The normalised text is the same filter.
        with ipredir.Filter(f.format()) as g:
            assert g.format() == f.format()
            assert g.eval(p) is want


def test_eval_ct_state():
    f = ipredir.Filter("ct.state == established")
    assert f.eval(TCP81, ct_state="established") is True
    assert f.eval(TCP81, ct_state="new") is False
    assert f.eval(TCP81) is False        # unknown: the test fails
    with pytest.raises(ValueError, match="'bogus'"):
        f.eval(TCP81, ct_state="bogus")


# (filter, position, part of the message)
BAD = [
    ("tcp.DstPort == ", 15, "value"),
    ("tcp.DstPrt == 80", 0, "unknown field"),
    ("tcp.DstPort == 80 and (udp", 22, "unbalanced parenthesis"),
    ("ip.SrcAddr == 300.1.2.3", 14, "bad IPv4 address"),
    ("tcp.DstPort == 80 && && udp", 21, "unexpected token"),
]


@pytest.mark.parametrize("text,pos,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_filter(text, pos, msg):
    ok, p, m = ipredir.check_filter(text)
    assert (ok, p) == (False, pos) and msg in m
    with pytest.raises(ipredir.FilterError) as ei:
        ipredir.Filter(text)
    e = ei.value
    assert (e.errno, e.pos, e.filter, e.msg) == (errno.EINVAL, pos, text, m)
    assert isinstance(e, OSError) and isinstance(e, ValueError)
    assert repr(text) in str(e) and f"position {pos}" in str(e)


# WinDivert's 128-bit values (no root needed: eval only)
VALUES = [
    ("ip.SrcAddr == ::ffff:198.18.1.1", TCP80, True),
    ("ip.SrcAddr == 0xFFFFC6120101", TCP80, True),
    ("ip.SrcAddr == 3323068673", TCP80, False),  # 32 bits: never
    ("tcp.DstPort == ::50", TCP80, True),
    ("tcp.DstPort < 65536", TCP80, True),
    ("tcp.DstPort > -1", TCP80, True),
    ("tcp.DstPort == 70000", TCP80, False),
    ("not tcp.DstPort == 70000", TCP80, True),
]


@pytest.mark.parametrize("text,data,want", VALUES, ids=[v[0] for v in VALUES])
def test_windivert_values(text, data, want):
    with ipredir.Filter(text) as f:
        assert f.eval(data, outbound=True) is want


def test_packet_hash_and_random():
    h = ipredir.packet_hash(TCP80)
    assert h == ipredir.packet_hash(TCP80) and 0 <= h < 1 << 64
    assert h != ipredir.packet_hash(TCP80, seed=1)
    ttl = bytearray(TCP80)
    ttl[8] ^= 0x0f          # TTL is left out
    assert ipredir.packet_hash(bytes(ttl)) == h
    r8, r16, r32 = (h >> 48) & 0xff, (h >> 32) & 0xffff, h & 0xffffffff
    for text in (f"random8 == {r8}", f"random16 == {r16}",
                 f"random32 == {r32}"):
        with ipredir.Filter(text) as f:
            assert f.eval(TCP80, outbound=True) is True, text
    with ipredir.Filter(f"random8 == {(r8 + 1) & 0xff}") as f:
        assert f.eval(TCP80, outbound=True) is False


def test_check_good_filter():
    assert ipredir.check_filter("tcp or udp") == (True, 0, "")
    assert ipredir.format_filter("tcp   or  udp") == "tcp or udp"


def test_explain():
    text = ipredir.explain_filter("outbound and tcp.DstPort == 80")
    assert "hook out" in text and "tcp" in text
    with ipredir.Filter("inbound and random8 < 128") as f:
        assert "user space" in f.explain()


def test_kernel_features():
    import os
    k = ipredir.kernel_features()
    release = os.uname().release
    major, minor = (int(x) for x in release.split(".")[:2])
    assert k["text"].startswith("Linux " + release)
    # as root the kernel is asked; else the version says
    assert k["guessed"] == (os.geteuid() != 0)
    if "owner-tables" not in os.environ.get("IPREDIR_DISABLE", ""):
        assert k["owner_tables"] == ((major, minor) >= (5, 12))
    if "inner-payload" not in os.environ.get("IPREDIR_DISABLE", ""):
        assert k["inner_payload"] == ((major, minor) >= (5, 16))
    way = "in the kernel" if k["inner_payload"] else "in user space"
    assert "tcp/udp.Payload[i]: " + way in k["text"]


def test_filter_nul_and_type():
    with pytest.raises(ipredir.FilterError, match="NUL"):
        ipredir.Filter("tcp\0 or udp")
    with pytest.raises(TypeError):
        ipredir.Filter(80)


@pytest.mark.parametrize("kw,match", [
    (dict(layer=2), "unknown layer 2"),
    (dict(priority=40000), "priority 40000 out of range"),
    (dict(priority="1"), "priority '1'"),
    (dict(flags=0x100), "unknown flags 256"),
    (dict(queues=-1), "queues=-1"),
])
def test_handle_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        ipredir.Handle("tcp", **kw)


def test_closed_handle():
    h = ipredir.Handle("tcp")
    for call in (h.recv, h.stats, h.shutdown, lambda: h.recv_batch(1, 0),
                 lambda: h.send(ipredir.Packet(TCP80))):
        with pytest.raises(RuntimeError, match="not open"):
            call()
    h.close()   # closing a closed handle does nothing


def test_strerror():
    assert ipredir.strerror(errno.EPERM) == ipredir.strerror(-errno.EPERM)
    e = ipredir.IpredirError(-errno.ESHUTDOWN, "ipr_recv")
    assert e.errno == errno.ESHUTDOWN and str(e).startswith(
        "[Errno 108] ipr_recv: ")
