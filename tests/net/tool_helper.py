#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""tool_helper.py - small programs for the tool_*.sh namespace tests.

  pcap-check FILE --count N --size S --seed S [--seed S...]
        read a pcap written by `ipredir monitor -w`: its link type must be
        raw IP (101), and it must hold exactly N UDP datagrams, each one
        that xfer.py udp-send makes with one of the seeds, none twice
  connect-time --connect A --port P [--timeout T]
        one TCP connect: "connect result=ECONNREFUSED ms=0.4"
  udp-refused --connect A --port P [--timeout T]
        a datagram on a connected UDP socket, then wait for the ICMP error:
        "udp result=ECONNREFUSED ms=0.3"
  text-server --bind A --port P --text T [--count N]
        accept N connections, send each "T <bound port> <peer addr> <port>"
  text-client --connect A --port P
        "peer-before A P", the server's line, "peer-after A P"
  sink --bind A --port P --bytes N
        receive N bytes on one connection: "sink bytes=N seconds=S mbit=R"
        (from the first byte to the last)
  source --connect A --port P --bytes N
"""
import argparse
import errno
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xfer  # noqa: E402  (the datagrams of xfer.py udp-send)


def out(*a):
    print(*a, flush=True)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def pcap_check(a):
    with open(a.file, "rb") as f:
        data = f.read()
    if len(data) < 24:
        out("pcap too short")
        return False
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off, n, good, seen, bad = 24, 0, 0, set(), None
    while off + 16 <= len(data):
        _s, _u, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        n += 1
        v = pkt[0] >> 4
        if v == 4:
            ihl = (pkt[0] & 15) * 4
            proto, l4 = pkt[9], pkt[ihl:]
        elif v == 6:
            proto, l4 = pkt[6], pkt[40:]
        else:
            bad = bad or f"record {n}: not IP"
            continue
        if proto != 17 or len(l4) < 8:
            bad = bad or f"record {n}: not UDP"
            continue
        payload = l4[8:]
        seq = struct.unpack(">Q", payload[:8])[0] if len(payload) >= 8 else -1
        seed = next((s for s in a.seed
                     if payload == xfer.datagram(s, seq, a.size)), None)
        if seed is None:
            bad = bad or f"record {n}: payload differs (seq {seq})"
        elif (seed, seq) in seen:
            bad = bad or f"record {n}: seq {seq} twice"
        elif orig != len(pkt):
            bad = bad or f"record {n}: length {orig} != captured {len(pkt)}"
        else:
            seen.add((seed, seq))
            good += 1
    ok = linktype == 101 and n == a.count and good == a.count
    out(f"pcap linktype={linktype} records={n} good={good} "
        + ("ok" if ok else f"MISMATCH {bad or ''}"))
    return ok


def connect_time(a):
    s = socket.socket(family(a.connect), socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        s.connect((a.connect, a.port))
        res = "connected"
    except socket.timeout:
        res = "TIMEOUT"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    out(f"connect result={res} ms={1000 * (time.monotonic() - t0):.1f}")
    return True


def udp_refused(a):
    s = socket.socket(family(a.connect), socket.SOCK_DGRAM)
    s.connect((a.connect, a.port))
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        s.send(b"are you there?")
        s.recv(100)
        res = "answered"
    except socket.timeout:
        res = "TIMEOUT"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    out(f"udp result={res} ms={1000 * (time.monotonic() - t0):.1f}")
    return True


def text_server(a):
    ls = socket.socket(family(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(8)
    ls.settimeout(a.timeout)
    out(f"text-server listening {a.bind} {a.port}")
    for _ in range(a.count):
        c, peer = ls.accept()
        c.sendall(f"{a.text} {c.getsockname()[1]} {peer[0]} {peer[1]}\n"
                  .encode())
        c.close()
        out(f"text-server served {peer[0]} {peer[1]}")
    return True


def text_client(a):
    s = socket.socket(family(a.connect), socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    s.connect((a.connect, a.port))
    p = s.getpeername()
    out(f"peer-before {p[0]} {p[1]}")
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
    out(f"got {got.decode(errors='replace').strip()}")
    p = s.getpeername() if got else ("-", 0)
    out(f"peer-after {p[0]} {p[1]}")
    return bool(got)


def sink(a):
    ls = socket.socket(family(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    out(f"sink listening {a.bind} {a.port}")
    c, _ = ls.accept()
    c.settimeout(a.timeout)
    got, first, last = 0, None, None
    while got < a.bytes:
        b = c.recv(1 << 20)
        if not b:
            break
        last = time.monotonic()
        if first is None:
            first = last
            first_len = len(b)
        got += len(b)
    # The first read's bytes arrived before the clock started.
    secs = (last - first) if first is not None else 0
    mbit = (got - first_len) * 8 / secs / 1e6 if secs > 0 else 0
    out(f"sink bytes={got} seconds={secs:.3f} mbit={mbit:.3f}")
    return got == a.bytes


def source(a):
    s = socket.socket(family(a.connect), socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    s.connect((a.connect, a.port))
    buf = os.urandom(1 << 16)
    left = a.bytes
    while left > 0:
        n = s.send(buf[:min(left, len(buf))])
        left -= n
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    out(f"source sent={a.bytes}")
    return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["pcap-check", "connect-time",
                                    "udp-refused", "text-server",
                                    "text-client", "sink", "source"])
    p.add_argument("file", nargs="?")
    p.add_argument("--bind")
    p.add_argument("--connect")
    p.add_argument("--port", type=int)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--size", type=int, default=1200)
    p.add_argument("--seed", type=int, action="append", default=[])
    p.add_argument("--text", default="hello")
    p.add_argument("--bytes", type=int, default=0)
    p.add_argument("--timeout", type=float, default=10)
    a = p.parse_args()
    fn = {"pcap-check": pcap_check, "connect-time": connect_time,
          "udp-refused": udp_refused, "text-server": text_server,
          "text-client": text_client, "sink": sink, "source": source}
    try:
        ok = fn[a.mode](a)
    except OSError as e:
        out(f"{a.mode}: error {e}")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
