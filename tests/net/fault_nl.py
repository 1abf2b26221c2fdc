#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""fault_nl.py - netfilter netlink seen from outside libipredir, for the
fault tests: which queues a process holds, and a neighbour that binds queue
numbers of its own with raw netlink (never through our library).

  owned PID          queues (one "QNUM PORTID" line each) bound by a
                     NETLINK_NETFILTER socket of process PID in the current
                     namespace
  portids PID        the portids of PID's NETLINK_NETFILTER sockets
  queues             every bound queue here: "QNUM PORTID"
  bind Q [Q...]      bind these queue numbers (ranges A-B allowed) on one
                     socket, print "bound Q PORTID" (or "busy Q ERRNO") for
                     each, then "ready", and hold them until SIGTERM

Run it inside the namespace of interest (ip netns exec NS ...): both /proc
files it reads are per namespace.
"""
import os
import signal
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_CONFIG = 2
NFQA_CFG_CMD = 1
NFQNL_CFG_CMD_BIND = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2


def queues():
    """[(qnum, portid)] from /proc/net/netfilter/nfnetlink_queue."""
    out = []
    try:
        with open("/proc/net/netfilter/nfnetlink_queue") as f:
            for line in f:
                v = line.split()
                if len(v) >= 2:
                    out.append((int(v[0]), int(v[1])))
    except FileNotFoundError:
        pass
    return out


def socket_inodes(pid):
    inodes = set()
    d = f"/proc/{pid}/fd"
    for fd in os.listdir(d):
        try:
            t = os.readlink(f"{d}/{fd}")
        except OSError:
            continue
        if t.startswith("socket:["):
            inodes.add(int(t[8:-1]))
    return inodes


def portids(pid):
    """Portids of pid's NETLINK_NETFILTER sockets, from /proc/net/netlink
    (columns: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode)."""
    inodes = socket_inodes(pid)
    out = set()
    with open("/proc/net/netlink") as f:
        next(f)
        for line in f:
            v = line.split()
            if len(v) >= 10 and int(v[1]) == NETLINK_NETFILTER and \
                    int(v[9]) in inodes:
                out.add(int(v[2]))
    return out


def parse_nums(args):
    nums = []
    for a in args:
        if "-" in a:
            lo, hi = a.split("-", 1)
            nums.extend(range(int(lo, 0), int(hi, 0) + 1))
        else:
            nums.append(int(a, 0))
    return nums


def bind_msg(qnum, seq):
    # struct nfqnl_msg_config_cmd { u8 command; u8 pad; be16 pf; }
    cmd = struct.pack("=BBH", NFQNL_CFG_CMD_BIND, 0, 0)
    attr = struct.pack("=HH", 4 + len(cmd), NFQA_CFG_CMD) + cmd
    nfgen = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack(">H", qnum)
    body = nfgen + attr
    hdr = struct.pack("=IHHII", 16 + len(body),
                      (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG,
                      NLM_F_REQUEST | NLM_F_ACK, seq, 0)
    return hdr + body


def ack(sock, seq):
    """The error code of the ack for seq (0 = success)."""
    while True:
        data = sock.recv(65536)
        off = 0
        while off + 16 <= len(data):
            ln, typ, _fl, _sq, _pid = struct.unpack_from("=IHHII", data, off)
            if typ == NLMSG_ERROR:
                err = struct.unpack_from("=i", data, off + 16)[0]
                oseq = struct.unpack_from("=I", data, off + 16 + 4 + 8)[0]
                if oseq == seq:
                    return -err
            off += (ln + 3) & ~3
            if ln == 0:
                break


def cmd_bind(nums):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    portid = s.getsockname()[0]
    n_ok = 0
    for i, q in enumerate(nums):
        seq = 1000 + i
        s.send(bind_msg(q, seq))
        err = ack(s, seq)
        if err == 0:
            n_ok += 1
            print(f"bound {q} {portid}")
        else:
            print(f"busy {q} {err}")
    print(f"ready portid={portid} bound={n_ok}", flush=True)
    done = []
    signal.signal(signal.SIGTERM, lambda *_: done.append(1))
    # Hold until told to stop; packets (none expected) are read and left
    # unanswered, as a careless neighbour would.
    s.settimeout(0.2)
    while not done:
        try:
            s.recv(65536)
        except socket.timeout:
            pass
        except InterruptedError:
            pass
    print("released", flush=True)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "queues":
        for q, p in queues():
            print(q, p)
    elif cmd == "portids":
        for p in sorted(portids(int(args[0]))):
            print(p)
    elif cmd == "owned":
        mine = portids(int(args[0]))
        for q, p in queues():
            if p in mine:
                print(q, p)
    elif cmd == "bind":
        cmd_bind(parse_nums(args))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
