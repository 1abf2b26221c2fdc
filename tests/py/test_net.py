# SPDX-License-Identifier: LGPL-2.1-or-later
"""The binding on real traffic, in test namespaces: capture, modify, drop
and inject through Python, both directions, IPv4 and IPv6, single and
batch calls, asyncio; and the errors of a failed open."""

import errno
import shutil
import time

import pytest

from nsutil import udp_exchange

# Program under test: divert N datagrams, record what each one looked like,
# then pass / modify / drop it; prints "result [records]".
DIVERT = r"""
import json, sys, ipredir
filt, n, mode, action = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = []
with ipredir.Handle(filt) as h:
    print("ready", flush=True)
    while len(out) < n:
        if mode == "batch":
            b = h.recv_batch(timeout=10000)
            if not len(b):
                break
            pkts = list(b)
        else:
            pkts = [h.recv()]
        for p in pkts:
            rec = dict(dir=p.direction.name, src=p.src_addr, dst=p.dst_addr,
                       sport=p.src_port, dport=p.dst_port,
                       payload=p.payload.hex(), if_idx=p.if_idx,
                       v6=p.ipv6 is not None, udp=p.udp is not None,
                       tcp=p.tcp is not None)
            seq = p.payload[-1:]
            if action == "modify":
                p.payload = p.payload.replace(b"hello", b"HELLO-MODIFIED")
            elif action == "tcpmodify":
                p.payload = p.payload.replace(b"secret", b"SECRET")
            elif action == "drop-odd" and seq in b"13579":
                if mode == "batch":
                    p.verdict = ipredir.Verdict.DROP
                else:
                    h.drop(p)
            if mode == "single" and p.verdict is None:
                h.send(p)
            rec["modified"] = p.modified
            out.append(rec)
        if mode == "batch":
            h.send_batch(b)
        # What went out: checksums recomputed by send / send_batch.
        for rec, p in zip(out[-len(pkts):], pkts):
            rec["csum_ok"] = p.checksums_valid
    st = h.stats()
print("result " + json.dumps(out), flush=True)
print("stats " + json.dumps(st._asdict()), flush=True)
"""

# TCP: a server that prints what it received, a client that sends a line.
TCP_SERVER = r"""
import json, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(15)
print("ready", flush=True)
c, _ = s.accept()
c.settimeout(15)
data = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    data += d
c.sendall(b"got " + str(len(data)).encode())
c.close()
print("result " + json.dumps(data.hex()), flush=True)
"""

TCP_CLIENT = r"""
import json, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=15)
c.sendall(bytes.fromhex(sys.argv[3]))
c.shutdown(socket.SHUT_WR)
print("result " + json.dumps(c.recv(100).decode()), flush=True)
"""

_port = [20000]


def next_port():
    _port[0] += 1
    return _port[0]


def addrs(pair, fam):
    return (pair.A4, pair.B4) if fam == 4 else (pair.A6, pair.B6)


def setup_divert(pair, fam, direction, mode, action, n, proto="udp",
                 extra=""):
    """Start DIVERT where @direction applies to traffic from A to B."""
    port = next_port()
    ns = pair.b if direction == "in" else pair.a
    filt = (f"{'inbound' if direction == 'in' else 'outbound'} and "
            f"{'ip' if fam == 4 else 'ipv6'} and {proto}.DstPort == {port}"
            f"{extra}")
    d = pair.start_py(ns, DIVERT, filt, n, mode, action)
    assert d.wait_line("ready", 10), repr(d)
    return port, ns, d


def check_records(pair, recs, fam, direction, ns, port):
    a, b = addrs(pair, fam)
    for r in recs:
        assert r["dir"] == ("INBOUND" if direction == "in" else "OUTBOUND")
        assert (r["src"], r["dst"], r["dport"]) == (a, b, port)
        assert r["v6"] == (fam == 6)
        assert r["if_idx"] == pair.ifidx[ns]


CASES = [(4, "in", "single"), (6, "out", "batch"), (4, "out", "batch"),
         (6, "in", "single")]


def ids(c):
    return f"ipv{c[0]}-{c[1]}bound-{c[2]}"


@pytest.mark.parametrize("fam,direction,mode", CASES, ids=map(ids, CASES))
def test_capture_pass(pair, fam, direction, mode):
    n = 6
    port, ns, d = setup_divert(pair, fam, direction, mode, "pass", n)
    a, b = addrs(pair, fam)
    sent = [b"hello %d" % i for i in range(n)]
    got = udp_exchange(pair, pair.a, pair.b, b, port, sent)
    assert d.wait(20) == 0, repr(d)
    recs = d.json()
    assert [bytes.fromhex(r["payload"]) for r in recs] == sent, repr(d)
    check_records(pair, recs, fam, direction, ns, port)
    assert not any(r["modified"] for r in recs)
    assert [g[0] for g in got] == sent
    assert pair.tables(ns) == [], "rules left behind after close"


MOD_CASES = [(4, "in", "batch"), (6, "out", "single"), (6, "in", "batch"),
             (4, "out", "single")]


@pytest.mark.parametrize("fam,direction,mode", MOD_CASES,
                         ids=map(ids, MOD_CASES))
def test_modify_payload_length(pair, fam, direction, mode):
    n = 4
    port, ns, d = setup_divert(pair, fam, direction, mode, "modify", n)
    a, b = addrs(pair, fam)
    sent = [b"hello %d" % i for i in range(n)]
    got = udp_exchange(pair, pair.a, pair.b, b, port, sent)
    assert d.wait(20) == 0, repr(d)
    recs = d.json()
    assert all(r["modified"] and r["csum_ok"] for r in recs), recs
    assert [g[0] for g in got] == [b"HELLO-MODIFIED %d" % i
                                   for i in range(n)]


@pytest.mark.parametrize("fam,mode", [(4, "batch"), (6, "single")])
def test_modify_tcp(pair, fam, mode):
    port = next_port()
    a, b = addrs(pair, fam)
    filt = (f"inbound and tcp.DstPort == {port} and tcp.PayloadLength > 0")
    d = pair.start_py(pair.b, DIVERT, filt, 1, mode, "tcpmodify")
    assert d.wait_line("ready", 10), repr(d)
    srv = pair.start_py(pair.b, TCP_SERVER, b, port)
    assert srv.wait_line("ready", 10), repr(srv)
    msg = b"the secret is here, secret twice"
    rc, cli = pair.run_py(pair.a, TCP_CLIENT, b, port, msg.hex())
    assert rc == 0, repr(cli)
    assert srv.wait(20) == 0, repr(srv)
    assert bytes.fromhex(srv.json()) == msg.replace(b"secret", b"SECRET")
    assert cli.json() == f"got {len(msg)}"
    assert d.wait(20) == 0, repr(d)
    r = d.json()[0]
    assert r["tcp"] and r["modified"] and r["csum_ok"]


@pytest.mark.parametrize("fam,direction,mode",
                         [(4, "in", "batch"), (6, "out", "single")],
                         ids=["ipv4-inbound-batch", "ipv6-outbound-single"])
def test_drop(pair, fam, direction, mode):
    n = 6
    port, ns, d = setup_divert(pair, fam, direction, mode, "drop-odd", n)
    a, b = addrs(pair, fam)
    sent = [b"hello %d" % i for i in range(n)]
    got = udp_exchange(pair, pair.a, pair.b, b, port, sent, quiet=0.5,
                       want=n // 2)
    assert d.wait(20) == 0, repr(d)
    assert [g[0] for g in got] == sent[0::2]
    st = d.json("stats ")
    assert st["dropped_verdict"] == n // 2, st


INJECT = r"""
import sys, ipredir
fam, outbound, src, dst, sport, dport, payload = sys.argv[1:]
ulen = 8 + len(payload)
if fam == "4":
    raw = bytes([0x45, 0, 0, 20 + ulen, 0, 0, 0x40, 0, 64, 17]) + bytes(10)
else:
    raw = bytes([0x60, 0, 0, 0, 0, ulen, 17, 64]) + bytes(32)
p = ipredir.Packet(raw + bytes(8), outbound=outbound == "1")
p.src_addr, p.dst_addr = src, dst
p.udp.src_port, p.udp.dst_port, p.udp.length = int(sport), int(dport), 8
p.payload = payload.encode()          # lengths follow
# No recalculate_checksums(): send computes them for a new packet (the
# receiver drops an IPv6 UDP datagram with a zero checksum: with
# checksums=False the ipv6 case fails).
with ipredir.Handle("false", flags=ipredir.Flag.SEND_ONLY) as h:
    print("sent", h.send(p), flush=True)
"""


@pytest.mark.parametrize("fam,direction", [(4, "in"), (6, "out")],
                         ids=["ipv4-inbound", "ipv6-outbound"])
def test_inject(pair, fam, direction):
    from nsutil import UDP_RECV
    port = next_port()
    a, b = addrs(pair, fam)
    r = pair.start_py(pair.b, UDP_RECV, b, port, 1, 0.2)
    assert r.wait_line("ready", 10), repr(r)
    ns = pair.b if direction == "in" else pair.a
    rc, p = pair.run_py(ns, INJECT, fam, int(direction == "out"), a, b,
                        4321, port, "injected!")
    assert rc == 0, repr(p)
    assert p.lines()[-1] == f"sent {(20 if fam == 4 else 40) + 8 + 9}"
    assert r.wait(20) == 0, repr(r)
    assert r.json() == [[b"injected!".hex(), a, 4321]]


ASYNC = r"""
import asyncio, json, sys, threading, ipredir
filt, want = sys.argv[1], int(sys.argv[2])
async def main():
    async with ipredir.Handle(filt) as h:
        print("ready", flush=True)
        n, threads = 0, 0
        async for p in h:
            await h.send_async(p)
            n += 1
            threads = max(threads, threading.active_count())
            if n == want:
                break
        async def stop():
            await asyncio.sleep(0.3)
            h.shutdown()
        t = asyncio.create_task(stop())
        extra = [p async for p in h]   # ends at the shutdown
        await t
    print("result " + json.dumps(dict(n=n, threads=threads,
                                      extra=len(extra))), flush=True)
asyncio.run(main())
"""


@pytest.mark.parametrize("fam", [4, 6])
def test_asyncio(pair, fam):
    port = next_port()
    a, b = addrs(pair, fam)
    d = pair.start_py(pair.b, ASYNC, f"inbound and udp.DstPort == {port}", 5)
    assert d.wait_line("ready", 10), repr(d)
    sent = [b"async %d" % i for i in range(5)]
    got = udp_exchange(pair, pair.a, pair.b, b, port, sent)
    assert d.wait(20) == 0, repr(d)
    assert d.json() == {"n": 5, "threads": 1, "extra": 0}
    assert [g[0] for g in got] == sent


ASYNC_IDLE = r"""
import asyncio, sys, time, ipredir
async def main():
    h = ipredir.Handle(sys.argv[1], flags=ipredir.Flag.FAIL_CLOSED, queues=1,
                       hang_time=1000)
    async with h:
        print("ready", flush=True)
        ms = h.timeout()
        n = 0
        async for p in h:
            await h.send_async(p)
            n += 1
            print("got", n, bytes(p.payload), flush=True)
            if n == int(sys.argv[2]):
                break
        print("result", n, h.stats().hung_packets, 0 <= ms <= 250, flush=True)
asyncio.run(main())
"""


def test_asyncio_idle(pair):
    """An asyncio program that waits 3 s for its first packet (3 hang
    times) is still in the path: fail-closed, the datagrams reach the
    receiver through it, and the kernel's switch passed nothing by."""
    port = next_port()
    a, b = addrs(pair, 4)
    d = pair.start_py(pair.b, ASYNC_IDLE, f"inbound and udp.DstPort == {port}", 3)
    assert d.wait_line("ready", 10), repr(d)
    time.sleep(3)
    sent = [b"idle %d" % i for i in range(3)]
    got = udp_exchange(pair, pair.a, pair.b, b, port, sent)
    assert d.wait(20) == 0, repr(d)
    assert d.lines()[-1] == "result 3 0 True", repr(d)
    assert [g[0] for g in got] == sent


SHUTDOWN_THREAD = r"""
import threading, time, ipredir
h = ipredir.Handle("udp.DstPort == 9").open()
res = []
t = threading.Thread(target=lambda: res.append(list(h)))
t.start()
time.sleep(0.3)
t0 = time.monotonic()
h.shutdown()
t.join(5)
print("result", not t.is_alive(), res == [[]], time.monotonic() - t0 < 2)
h.close()
"""


def test_shutdown_wakes_blocked_recv(pair):
    rc, p = pair.run_py(pair.b, SHUTDOWN_THREAD)
    assert rc == 0, repr(p)
    assert p.lines()[-1] == "result True True True"


OPEN_ERR = r"""
import sys, ipredir
try:
    ipredir.Handle(sys.argv[1]).open()
except ipredir.IpredirError as e:
    print("error", type(e).__name__, e.errno, getattr(e, "pos", -1), e)
"""


def test_open_bad_filter(pair):
    rc, p = pair.run_py(pair.b, OPEN_ERR, "tcp.DstPort == 80 and udp.Foo")
    assert rc == 0, repr(p)
    ln = p.lines()[-1]
    assert ln.startswith("error FilterError 22 22 "), ln
    assert "'tcp.DstPort == 80 and udp.Foo'" in ln
    assert pair.tables(pair.b) == []


def test_open_too_deep_for_the_kernel(pair):
    """A filter beyond the kernel's nesting limit: FilterError with E2BIG,
    the position of the term, and no table left."""
    text = "&&".join(f"tcp.SrcPort>{i}" for i in range(1, 901))
    rc, p = pair.run_py(pair.b, OPEN_ERR, text)
    assert rc == 0, repr(p)
    ln = p.lines()[-1]
    words = ln.split()
    assert words[:3] == ["error", "FilterError", str(errno.E2BIG)], ln
    pos = int(words[3])
    assert text[pos:].startswith("tcp.SrcPort>") and "nested" in ln, ln
    assert pair.tables(pair.b) == []


def test_open_block_list(pair):
    """A 2,000-address list (one set lookup in the kernel) opens."""
    text = " or ".join(f"ip.DstAddr == 198.19.{i >> 8}.{i & 255}"
                       for i in range(2000))
    rc, p = pair.run_py(pair.b, OPEN_OK, text)
    assert rc == 0 and p.lines()[-1] == "open", repr(p)


OPEN_OK = r"""
import sys, ipredir
with ipredir.Handle(sys.argv[1], flags=ipredir.Flag.DROP) as h:
    print("open")
"""


def test_open_needs_privilege(pair):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) missing")
    p = pair.start(pair.b, ["setpriv", "--reuid=65534", "--regid=65534",
                            "--clear-groups", "--inh-caps=-all",
                            "/usr/bin/python3", "-c", OPEN_ERR, "tcp"])
    assert p.wait(20) == 0, repr(p)
    ln = p.lines()[-1]
    assert ln.startswith("error IpredirError 1 "), ln
    assert "CAP_NET_ADMIN" in ln


MIXED = r"""
import json, sys, time, ipredir
# (a hang time well above the wait: a program away from its queue for
# the hang time is taken for hung, and the kernel passes the rest by)
def wait_queued(want, limit=15.0):
    # until the kernel holds @want packets for us (the sender may start
    # late: a slow guest's interpreter), so that one receive takes them
    end = time.monotonic() + limit
    while time.monotonic() < end:
        with open("/proc/self/net/netfilter/nfnetlink_queue") as f:
            if sum(int(l.split()[2]) for l in f) >= want:
                return
        time.sleep(0.02)
n, pk, again, sent = 0, [], None, None
with ipredir.Handle(sys.argv[1], hang_time=30000) as h:
    print("ready", flush=True)
    wait_queued(4)               # let all of them queue: one batch
    b = h.recv_batch(timeout=5000)
    n = len(b)
    if n == 4:
        h.send(b[0])                       # answered on its own first
        b[1].verdict = ipredir.Verdict.DROP
        b[2].payload = b"changed in the batch"
        h.send_batch(b)                    # b[3] as it came
        try:
            h.send_batch(b)
            again = "accepted"
        except ValueError as e:
            again = str(e)
    # A list of packets from a second batch, one of them dropped.
    wait_queued(2)
    b2 = h.recv_batch(timeout=5000)
    pk = list(b2)
    if len(pk) == 2:
        pk[0].verdict = ipredir.Verdict.DROP
        pk[1].payload = b"changed in a list"
        sent = h.send_batch(pk)
    st = h.stats()
print("result " + json.dumps(dict(n=n, n2=len(pk), again=again, sent=sent,
                                  dropped=st.dropped_verdict)), flush=True)
"""

SEND_TWO_ROUNDS = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(4):
    s.sendto(b"first %d" % i, (sys.argv[1], int(sys.argv[2])))
time.sleep(1.2)
for i in range(2):
    s.sendto(b"second %d" % i, (sys.argv[1], int(sys.argv[2])))
"""


def test_batch_mixed_answers(pair):
    from nsutil import UDP_RECV
    port = next_port()
    d = pair.start_py(pair.b, MIXED, f"inbound and udp.DstPort == {port}")
    assert d.wait_line("ready", 10), repr(d)
    r = pair.start_py(pair.b, UDP_RECV, pair.B4, port, 4, 0.5)
    assert r.wait_line("ready", 10), repr(r)
    rc, s = pair.run_py(pair.a, SEND_TWO_ROUNDS, pair.B4, port)
    assert rc == 0, repr(s)
    assert d.wait(20) == 0, repr(d)
    assert d.json() == dict(n=4, n2=2, again="batch was answered already",
                            sent=2, dropped=2)
    assert r.wait(20) == 0, repr(r)
    assert [bytes.fromhex(x[0]) for x in r.json()] == [
        b"first 0", b"changed in the batch", b"first 3", b"changed in a list"]
