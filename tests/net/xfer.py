#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""xfer.py - traffic for the namespace tests: TCP streams and UDP datagrams
of deterministic pseudo-random data, checked on the receiving end.

Both ends derive the data from --seed, so each side knows what it must get:
a TCP end prints the SHA-256 of what it sent and received and compares the
received bytes with the expected ones; a UDP receiver checks every datagram.
Every mode stops within --timeout seconds; the exit status is 0 only when
everything that had to arrive arrived intact.

  tcp-server --bind A --port P --send N --recv M [--seed S]
  tcp-client --connect A --port P --send N --recv M [--seed S] [--rate B/s]
  udp-send   --connect A --port P --count N --size S [--seed S] [--pps R]
             [--first K] [--text STR]
  udp-recv   --bind A --port P --count N --size S [--seed S] [--xor K]
             [--min N] [--idle T] [--print]
"""
import argparse
import hashlib
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

CHUNK = 64 * 1024


def out(*args):
    print(*args, flush=True)


def die_on_alarm(timeout, what):
    """Bound the whole run: print why and leave with status 3."""
    def handler(_sig, _frm):
        out(f"{what}: TIMEOUT after {timeout}s")
        os._exit(3)
    signal.signal(signal.SIGALRM, handler)
    signal.alarm(max(1, int(timeout)))


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def stream(seed, tag, n):
    """n bytes that depend only on (seed, tag)."""
    return random.Random(f"{seed}:{tag}").randbytes(n)


def datagram(seed, seq, size):
    """Datagram seq: 8-byte big-endian sequence number, then data that
    depends only on (seed, seq)."""
    body = random.Random(seed * 1000003 + seq).randbytes(max(0, size - 8))
    return (struct.pack(">Q", seq) + body)[:size]


# ---------------------------------------------------------------- TCP ---

def tcp_run(sock, role, args):
    """Send args.send bytes while receiving args.recv bytes on sock; return
    True when what came is what the peer must have sent."""
    mine, theirs = ("c2s", "s2c") if role == "client" else ("s2c", "c2s")
    data = stream(args.seed, mine, args.send)
    expected = hashlib.sha256(stream(args.seed, theirs, args.recv)).hexdigest()
    send_err = []

    def sender():
        try:
            view = memoryview(data)
            start = time.monotonic()
            off = 0
            while off < len(view):
                n = sock.send(view[off:off + CHUNK])
                off += n
                if args.rate:
                    ahead = off / args.rate - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            send_err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    h = hashlib.sha256()
    got = 0
    while True:
        try:
            b = sock.recv(1 << 20)
        except OSError as e:
            out(f"tcp-{role}: recv error: {e}")
            break
        if not b:
            break
        h.update(b)
        got += len(b)
    t.join()
    digest = h.hexdigest()
    ok = not send_err and got == args.recv and digest == expected
    out(f"tcp-{role} sent bytes={len(data)} "
        f"sha256={hashlib.sha256(data).hexdigest()}"
        + (f" error={send_err[0]}" if send_err else ""))
    out(f"tcp-{role} recv bytes={got} sha256={digest} expected={expected} "
        + ("ok" if ok else "MISMATCH"))
    return ok


def tcp_server(args):
    ls = socket.socket(family(args.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(4)
    out(f"tcp-server listening {args.bind} {args.port}")
    conn, peer = ls.accept()
    ls.close()
    out(f"tcp-server accepted {peer[0]} {peer[1]}")
    return tcp_run(conn, "server", args)


def tcp_client(args):
    s = socket.socket(family(args.connect), socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    t0 = time.monotonic()
    s.connect((args.connect, args.port))
    out(f"tcp-client connected in {1000 * (time.monotonic() - t0):.1f} ms")
    s.settimeout(None)  # the alarm bounds the rest
    ok = tcp_run(s, "client", args)
    # from the connect, without the interpreter's start (seconds under
    # emulation)
    out(f"tcp-client done in {1000 * (time.monotonic() - t0):.1f} ms")
    return ok


# ---------------------------------------------------------------- UDP ---

def udp_send(args):
    s = socket.socket(family(args.connect), socket.SOCK_DGRAM)
    s.connect((args.connect, args.port))
    start = time.monotonic()
    errors = 0
    sent = 0
    for i in range(args.count):
        seq = args.first + i
        if args.text is not None:
            payload = args.text.encode()
        else:
            payload = datagram(args.seed, seq, args.size)
        if args.pps:
            ahead = i / args.pps - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        try:
            s.send(payload)
            sent += 1
        except OSError as e:
            # A netfilter drop of a local packet shows up here as EPERM.
            errors += 1
            if errors == 1:
                out(f"udp-send: send error: {e}")
    out(f"udp-send sent={sent} errors={errors} "
        f"in {time.monotonic() - start:.2f}s")
    return errors == 0


def udp_recv(args):
    s = socket.socket(family(args.bind), socket.SOCK_DGRAM)
    # 8 MiB, past net.core.rmem_max where allowed (root: SO_RCVBUFFORCE):
    # a receiver slower than the sender (Python under emulation) must not
    # lose datagrams in its own socket buffer, which a test would blame on
    # the redirector (6.12 under QEMU: every datagram lost was one of the
    # receiving namespace's UDP RcvbufErrors).
    for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
            break
        except OSError:
            pass
    s.bind((args.bind, args.port))
    out(f"udp-recv listening {args.bind} {args.port}")
    deadline = time.monotonic() + args.timeout - 0.5
    seen = set()
    bad = dup = total = 0
    first_bad = None
    last = None
    while len(seen) < args.count:
        now = time.monotonic()
        wait = deadline - now
        if last is not None:
            wait = min(wait, last + args.idle - now)
        if wait <= 0:
            break
        s.settimeout(wait)
        try:
            b, peer = s.recvfrom(65536)
        except socket.timeout:
            break
        last = time.monotonic()
        total += 1
        if args.xor is not None:
            b = bytes(x ^ args.xor for x in b)
        if args.print:
            out(f"udp-recv from {peer[0]} {peer[1]} len={len(b)} "
                f"data={b[:80]!r}")
            seen.add(total)
            continue
        if len(b) < 8:
            bad += 1
            first_bad = first_bad or f"short datagram of {len(b)} bytes"
            continue
        seq = struct.unpack(">Q", b[:8])[0]
        if b != datagram(args.seed, seq, args.size):
            bad += 1
            first_bad = first_bad or f"datagram seq={seq} len={len(b)} differs"
        elif seq in seen:
            dup += 1
        else:
            seen.add(seq)
    need = args.count if args.min is None else args.min
    ok = len(seen) >= need and bad == 0 and dup == 0
    seqs = sorted(seen)
    rng = f"{seqs[0]}..{seqs[-1]}" if seqs and not args.print else "-"
    out(f"udp-recv ok={len(seen)} bad={bad} dup={dup} "
        f"lost={max(0, args.count - len(seen))} total={total} seqs={rng} "
        + ("ok" if ok else "MISMATCH"))
    if first_bad:
        out(f"udp-recv first bad: {first_bad}")
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["tcp-server", "tcp-client",
                                    "udp-send", "udp-recv"])
    p.add_argument("--bind")
    p.add_argument("--connect")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--send", type=int, default=0, help="TCP bytes to send")
    p.add_argument("--recv", type=int, default=0, help="TCP bytes to get")
    p.add_argument("--rate", type=float, default=0,
                   help="TCP send pace in bytes/s (0: as fast as it goes)")
    p.add_argument("--count", type=int, default=1, help="UDP datagrams")
    p.add_argument("--size", type=int, default=1200, help="UDP datagram size")
    p.add_argument("--first", type=int, default=0, help="first UDP seq")
    p.add_argument("--pps", type=float, default=2000,
                   help="UDP send pace (0: as fast as it goes)")
    p.add_argument("--text", help="send this text as every datagram")
    p.add_argument("--xor", type=lambda v: int(v, 0),
                   help="receiver: datagrams arrive XOR-ed with this byte")
    p.add_argument("--min", type=int,
                   help="receiver: succeed with this many (default: all)")
    p.add_argument("--idle", type=float, default=2.0,
                   help="receiver: stop this long after the last datagram")
    p.add_argument("--print", action="store_true",
                   help="receiver: print each datagram, do not check it")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    if args.size < 8 and args.text is None:
        p.error("--size must be at least 8")
    if args.mode in ("tcp-server", "udp-recv") and not args.bind:
        p.error("--bind is needed")
    if args.mode in ("tcp-client", "udp-send") and not args.connect:
        p.error("--connect is needed")
    die_on_alarm(args.timeout, args.mode)
    fn = {"tcp-server": tcp_server, "tcp-client": tcp_client,
          "udp-send": udp_send, "udp-recv": udp_recv}[args.mode]
    try:
        ok = fn(args)
    except OSError as e:
        out(f"{args.mode}: error: {e}")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
