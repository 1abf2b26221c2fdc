# SPDX-License-Identifier: LGPL-2.1-or-later
"""examples/python/*.py on real traffic in the test namespaces."""

import os
import re
import signal

from nsutil import ROOT, udp_exchange

EX = os.path.join(ROOT, "examples", "python")
PY = "/usr/bin/python3"


def test_firewall(pair):
    port = 22001
    fw = pair.start(pair.b, [PY, os.path.join(EX, "firewall.py"), pair.A4,
                             pair.A6], compat=True)
    assert fw.wait_line("firewall: blocking", 10), repr(fw)
    for dst in (pair.B4, pair.B6):
        assert udp_exchange(pair, pair.a, pair.b, dst, port, [b"x", b"y"],
                            want=0, quiet=0.4) == []
    # (it blocks all that A sends: in a slow guest the neighbour entry
    # can go stale during the test, and A's neighbour solicitation is
    # blocked and reported too)
    blocked = [ln for ln in fw.lines() if ln.startswith("blocked udp")]
    assert blocked == [f"blocked udp {pair.A4} -> {pair.B4} port {port}"] * 2 \
        + [f"blocked udp {pair.A6} -> {pair.B6} port {port}"] * 2, repr(fw)
    fw.stop(signal.SIGINT)
    assert fw.p.returncode == 0, repr(fw)
    assert pair.tables(pair.b) == []
    got = udp_exchange(pair, pair.a, pair.b, pair.B4, port, [b"free"])
    assert [g[0] for g in got] == [b"free"]


def test_firewall_bad_address(pair):
    fw = pair.start(pair.b, [PY, os.path.join(EX, "firewall.py"),
                             "198.18.1.300"], compat=True)
    assert fw.wait(10) == 1
    assert "'198.18.1.300'" in fw.errtext()


def test_logger(pair):
    port = 22002
    lg = pair.start(pair.b, [PY, os.path.join(EX, "logger.py"), "-c", "4",
                             f"udp.DstPort == {port}"])
    assert lg.wait_line("logger:", 10), repr(lg)
    sent = [b"log %d" % i for i in range(4)]
    got = udp_exchange(pair, pair.a, pair.b, pair.B6, port, sent)
    assert [g[0] for g in got] == sent      # a sniffer holds nothing back
    assert lg.wait(10) == 0, repr(lg)
    lines = lg.lines()[1:]
    assert len(lines) == 4, repr(lg)
    for ln in lines:
        assert re.fullmatch(
            r"\d\d:\d\d:\d\d\.\d{6} inbound  if=%d udp \[%s\]:\d+ > "
            r"\[%s\]:%d len=53 payload=5" % (pair.ifidx[pair.b], pair.A6,
                                             pair.B6, port), ln), ln
    assert pair.tables(pair.b) == []


def test_rewriter(pair):
    port = 22003
    rw = pair.start(pair.b, [PY, os.path.join(EX, "rewriter.py"),
                             f"inbound and udp.DstPort == {port}", "hello",
                             "HELLO, WORLD"])
    assert rw.wait_line("rewriter:", 10), repr(rw)
    got = udp_exchange(pair, pair.a, pair.b, pair.B4, port,
                       [b"hello 1", b"bye", b"hello hello"])
    assert [g[0] for g in got] == [b"HELLO, WORLD 1", b"bye",
                                   b"HELLO, WORLD HELLO, WORLD"]
    rw.stop(signal.SIGINT)
    assert rw.p.returncode == 0, repr(rw)
    assert rw.wait_line("rewriter: 2 packets rewritten", 1), repr(rw)
