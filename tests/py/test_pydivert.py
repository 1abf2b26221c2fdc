# SPDX-License-Identifier: LGPL-2.1-or-later
"""ipredir.pydivert: pydivert's API without the network (names, values,
Packet, what Linux refuses), then pydivert-style programs in the manner of
pydivert's README run unchanged (`import pydivert`) in test namespaces."""

import signal
import subprocess

import pytest

import ipredir
import ipredir.pydivert as pydivert
from ipredir.pydivert.packet import Packet

import nsutil
import pkts
from nsutil import udp_exchange

TCP80 = pkts.ipv4(6, pkts.tcp(dport=80, flags=0x02))


def test_import_as_pydivert():
    code = ("import pydivert, ipredir.pydivert as m\n"
            "from pydivert.packet import Packet\n"
            "from pydivert.packet.tcp import TCPHeader\n"
            "from pydivert.packet.ip import IPv4Header\n"
            "from pydivert.consts import Layer\n"
            "import pydivert.windivert\n"
            "print(pydivert is m, Packet is m.Packet, TCPHeader is "
            "m.packet.tcp.TCPHeader, Layer is m.Layer,"
            " pydivert.windivert.WinDivert is m.WinDivert)\n")
    env = nsutil.Pair.env(None, compat=True)
    r = subprocess.run([nsutil.PY, "-c", code], capture_output=True,
                       text=True, env=env, timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True"] * 5


@pytest.mark.parametrize("enum,values", [
    (pydivert.Layer, dict(NETWORK=0, NETWORK_FORWARD=1, FLOW=2, SOCKET=3,
                          REFLECT=4)),
    (pydivert.Flag, dict(DEFAULT=0, SNIFF=1, DROP=2, RECV_ONLY=4,
                         SEND_ONLY=8, NO_INSTALL=16, FRAGMENTS=32)),
    (pydivert.Param, dict(QUEUE_LEN=0, QUEUE_TIME=1, QUEUE_SIZE=2)),
    (pydivert.Direction, dict(OUTBOUND=0, INBOUND=1)),
    (pydivert.CalcChecksumsOption, dict(
        NO_IP_CHECKSUM=1, NO_ICMP_CHECKSUM=2, NO_ICMPV6_CHECKSUM=4,
        NO_TCP_CHECKSUM=8, NO_UDP_CHECKSUM=16, NO_REPLACE=2048)),
    (pydivert.Protocol, dict(HOPOPT=0, ICMP=1, TCP=6, UDP=17, ROUTING=43,
                             FRAGMENT=44, AH=51, ICMPV6=58, NONE=59,
                             DSTOPTS=60)),
    (pydivert.RecvFlag, dict(DEFAULT=0, NO_BLOCK=1)),
], ids=lambda x: getattr(x, "__name__", ""))
def test_constants(enum, values):
    for name, v in values.items():
        assert enum[name] == v


@pytest.mark.parametrize("layer", ["FLOW", "SOCKET", "REFLECT"])
def test_windows_layers_refused(layer):
    with pytest.raises(NotImplementedError, match="only Windows"):
        pydivert.WinDivert("true", pydivert.Layer[layer])
    ok, pos, msg = pydivert.WinDivert.check_filter("true",
                                                   pydivert.Layer[layer])
    assert not ok and "only Windows" in msg


def test_windows_only_parts_refused():
    with pytest.raises(ipredir.UnsupportedError, match="FRAGMENTS"):
        pydivert.WinDivert("true", flags=pydivert.Flag.FRAGMENTS)
    w = pydivert.WinDivert("tcp", flags=pydivert.Flag.NO_INSTALL)
    with pytest.raises(ipredir.UnsupportedError, match="overlapped"):
        w.send_ex(Packet(TCP80), overlapped=object())
    p = Packet(TCP80)
    with pytest.raises(ipredir.UnsupportedError, match="WINDIVERT_ADDRESS"):
        p.wd_addr  # noqa: B018
    with pytest.raises(ipredir.UnsupportedError, match="NO_REPLACE"):
        p.recalculate_checksums(pydivert.CalcChecksumsOption.NO_REPLACE)


def test_handle_state_errors():
    w = pydivert.WinDivert("tcp.DstPort == 80")
    assert not w.is_open
    assert 'state="closed"' in repr(w) and 'filter="tcp.DstPort == 80"' \
        in repr(w)
    for call in (w.close, w.recv, lambda: w.send(Packet(TCP80)),
                 lambda: w.get_param(pydivert.Param.QUEUE_LEN)):
        with pytest.raises(RuntimeError, match="not open"):
            call()


def test_check_filter():
    assert pydivert.WinDivert.check_filter("tcp.DstPort == 80") == \
        (True, 0, "")
    ok, pos, msg = pydivert.WinDivert.check_filter("tcp.DstPort == 80 and")
    assert (ok, pos) == (False, 21) and msg


def test_packet_like_pydivert():
    p = Packet(TCP80, (5, 0), pydivert.Direction.INBOUND)
    assert p.interface == (5, 0) and p.direction == pydivert.Direction.INBOUND
    assert p.is_inbound and not p.is_outbound and not p.is_loopback
    assert not p.is_impostor and not p.is_sniffed
    assert (p.src_addr, p.dst_addr, p.src_port, p.dst_port) == \
        (pkts.A4, pkts.B4, 1234, 80)
    assert p.ipv4 and p.tcp and p.ipv6 is None and p.udp is None
    assert isinstance(p.raw, memoryview) and bytes(p.raw) == TCP80
    assert p.protocol == (6, 20) and p.payload == b""
    assert p.recalculate_checksums() == 2 and p.is_checksum_valid
    assert p.matches("inbound and tcp.Syn and ifIdx == 5")
    assert not p.matches("outbound")
    p.dst_port = 8080
    assert p.tcp.dst_port == 8080 and not p.is_checksum_valid
    # pydivert's option numbers, not ipredir's.
    q = Packet(TCP80)
    assert q.recalculate_checksums(
        pydivert.CalcChecksumsOption.NO_TCP_CHECKSUM) == 1
    assert q.tcp.cksum == 0 and q.ipv4.cksum != 0


def test_packet_pattern_matching():
    from ipredir.pydivert.packet.tcp import TCPHeader
    from ipredir.pydivert.packet.udp import UDPHeader

    def kind(p):
        match p:
            case Packet(tcp=TCPHeader(dst_port=80)):
                return "http"
            case Packet(tcp=TCPHeader(dst_port=443)):
                return "https"
            case Packet(udp=UDPHeader(dst_port=53)):
                return "dns"
        return "other"
    assert kind(Packet(TCP80)) == "http"
    assert kind(Packet(pkts.ipv4(6, pkts.tcp(dport=443)))) == "https"
    assert kind(Packet(pkts.ipv6(17, pkts.udp(dport=53)))) == "dns"
    assert kind(Packet(pkts.ipv4(1, pkts.icmp()))) == "other"


def test_icmp_payload_as_pydivert():
    # pydivert's ICMP header is 4 bytes: the rest of the header is payload.
    p = Packet(pkts.ipv4(1, pkts.icmp(body=0x01020304, payload=b"ping")))
    assert p.icmpv4.header_len == 4
    assert p.payload == b"\x01\x02\x03\x04ping"
    p.payload = b"\x01\x02\x03\x04pong!"
    assert p.ipv4.packet_len == 20 + 4 + 9


# ------------------------------------------------- programs, in namespaces

# The shapes of pydivert's README examples, as scripts (`import pydivert`).
CAPTURE = r"""
import pydivert
with pydivert.WinDivert("tcp.DstPort == 80") as w:
    print("ready", flush=True)
    for packet in w:
        print("captured", packet.dst_addr, packet.dst_port, flush=True)
        w.send(packet)
"""

MATCH = r"""
import pydivert
from pydivert.packet import Packet
from pydivert.packet.tcp import TCPHeader
with pydivert.WinDivert("tcp") as w:
    print("ready", flush=True)
    for packet in w:
        match packet:
            case Packet(tcp=TCPHeader(dst_port=80)):
                print("HTTP Traffic", flush=True)
            case Packet(tcp=TCPHeader(dst_port=443)):
                print("HTTPS Traffic", flush=True)
        w.send(packet)
"""

REDACT = r"""
import sys
import pydivert
with pydivert.WinDivert("udp.PayloadLength > 0 and udp.DstPort == " +
                        sys.argv[1]) as w:
    print("ready", flush=True)
    for packet in w:
        if b"secret-token" in packet.payload:
            packet.payload = packet.payload.replace(b"secret-token",
                                                    b"REDACTED")
        w.send(packet)
"""

ASYNC = r"""
import asyncio
import pydivert
async def main():
    async with pydivert.WinDivert("tcp.DstPort == 80") as w:
        print("ready", flush=True)
        async for packet in w:
            print("async", packet.dst_port, flush=True)
            await w.send_async(packet)
asyncio.run(main())
"""

EXTRAS = r"""
import json, sys
import pydivert
with pydivert.WinDivert("udp.DstPort == " + sys.argv[1]) as w:
    w.set_param(pydivert.Param.QUEUE_LEN, 1024)
    w.set_param(pydivert.Param.QUEUE_TIME, 1000)
    out = dict(qlen=w.get_param(pydivert.Param.QUEUE_LEN),
               qtime=w.get_param(pydivert.Param.QUEUE_TIME),
               major=w.get_param(pydivert.Param.VERSION_MAJOR),
               empty=w.recv_ex(flags=pydivert.RecvFlag.NO_BLOCK) is None)
    print("ready", flush=True)
    p = w.recv()
    out["payload"] = p.payload.decode()
    out["sent"] = w.send(p)
    # Sending it again injects a copy, as WinDivert does.
    out["again"] = w.send(p)
    print("result " + json.dumps(out), flush=True)
"""


def http_exchange(pair, port=80):
    from test_net import TCP_CLIENT, TCP_SERVER
    srv = pair.start_py(pair.b, TCP_SERVER, pair.B4, port)
    assert srv.wait_line("ready", 10), repr(srv)
    msg = b"GET / HTTP/1.0\r\n\r\n"
    rc, cli = pair.run_py(pair.a, TCP_CLIENT, pair.B4, port, msg.hex())
    assert rc == 0, repr(cli)
    assert srv.wait(20) == 0, repr(srv)
    assert bytes.fromhex(srv.json()) == msg
    assert cli.json() == f"got {len(msg)}"


def stop(pair, p, ns):
    """SIGINT ends the script's loop (KeyboardInterrupt); its rules go."""
    p.stop(signal.SIGINT, 10)
    assert pair.tables(ns) == []


def test_readme_capture_and_reinject(pair):
    p = pair.start_py(pair.a, CAPTURE, compat=True)
    assert p.wait_line("ready", 10), repr(p)
    http_exchange(pair)
    lines = [ln for ln in p.lines() if ln.startswith("captured")]
    assert len(lines) >= 3 and set(lines) == {f"captured {pair.B4} 80"}
    stop(pair, p, pair.a)


def test_readme_pattern_matching(pair):
    p = pair.start_py(pair.a, MATCH, compat=True)
    assert p.wait_line("ready", 10), repr(p)
    http_exchange(pair)
    assert p.wait_line("HTTP Traffic", 5), repr(p)
    assert "HTTPS Traffic" not in p.text()
    stop(pair, p, pair.a)


@pytest.mark.parametrize("fam", [4, 6])
def test_readme_payload_redaction(pair, fam):
    port = 21000 + fam
    p = pair.start_py(pair.b, REDACT, port, compat=True)
    assert p.wait_line("ready", 10), repr(p)
    dst = pair.B4 if fam == 4 else pair.B6
    got = udp_exchange(pair, pair.a, pair.b, dst, port,
                       [b"user=x secret-token=42", b"nothing to hide"])
    assert [g[0] for g in got] == [b"user=x REDACTED=42", b"nothing to hide"]
    stop(pair, p, pair.b)


def test_readme_asyncio(pair):
    p = pair.start_py(pair.a, ASYNC, compat=True)
    assert p.wait_line("ready", 10), repr(p)
    http_exchange(pair)
    assert p.wait_line("async 80", 5), repr(p)
    stop(pair, p, pair.a)


def test_params_recv_ex_and_send_twice(pair):
    port = 21010
    p = pair.start_py(pair.b, EXTRAS, port, compat=True)
    assert p.wait_line("ready", 10), repr(p)
    got = udp_exchange(pair, pair.a, pair.b, pair.B4, port, [b"twice"],
                       want=2)
    assert p.wait(10) == 0, repr(p)
    r = p.json()
    assert r == dict(qlen=1024, qtime=1000, major=0, empty=True,
                     payload="twice", sent=33, again=33)
    assert [g[0] for g in got] == [b"twice", b"twice"]


FIREWALL_DROP = r"""
import sys
import pydivert
with pydivert.WinDivert("inbound and udp.DstPort == " + sys.argv[1]) as w:
    print("ready", flush=True)
    for packet in w:
        # The one before this one is gone: dropped by the kernel already.
        print("blocked", packet.src_addr,
              w._h.stats().dropped_verdict, flush=True)
"""


def test_firewall_by_not_sending(pair):
    # Packets the script lets go of are dropped at once (not held until
    # the queue time): the stats show verdict drops, no timeouts.
    port = 21020
    p = pair.start_py(pair.b, FIREWALL_DROP, port, compat=True)
    assert p.wait_line("ready", 10), repr(p)
    got = udp_exchange(pair, pair.a, pair.b, pair.B6, port,
                       [b"a", b"b", b"c"], want=0, quiet=0.5)
    assert got == []
    assert [ln for ln in p.lines() if ln.startswith("blocked")] == \
        [f"blocked {pair.A6} {n}" for n in range(3)]
    stop(pair, p, pair.b)
    # Once the script is gone, the traffic flows again.
    got = udp_exchange(pair, pair.a, pair.b, pair.B6, port, [b"d"])
    assert [g[0] for g in got] == [b"d"]


@pytest.mark.parametrize("text", ["tcp.DstPort == 80", "tcp",
                                  "ip.SrcAddr == 1.2.3.4",
                                  "tcp.PayloadLength > 0", "true", "false"])
def test_readme_filters_compile(text):
    # The filters pydivert's README uses (not run on traffic when they
    # name addresses outside the test ranges).
    assert pydivert.WinDivert.check_filter(text) == (True, 0, "")
