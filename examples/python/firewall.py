#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""firewall.py ADDR... - drop every packet that comes from ADDR (IPv4 or
IPv6), let the rest through untouched.

Written against pydivert's API: the same script runs on Windows with
pydivert and on Linux with ipredir:

    sudo PYTHONPATH=python:python/compat examples/python/firewall.py 198.18.1.1

Only the blocked traffic leaves the kernel: the filter selects it, and a
packet that is received and not sent is dropped.
"""
import sys

import pydivert


def main(addrs):
    if not addrs:
        sys.exit("usage: firewall.py ADDR...")
    tests = []
    for a in addrs:
        tests.append(f"ipv6.SrcAddr == {a}" if ":" in a
                     else f"ip.SrcAddr == {a}")
    ok, pos, msg = pydivert.WinDivert.check_filter(" or ".join(tests))
    if not ok:
        sys.exit(f"firewall: bad address in {' '.join(addrs)!r}: {msg}")
    with pydivert.WinDivert("inbound and (" + " or ".join(tests) + ")") as w:
        print("firewall: blocking", ", ".join(addrs), flush=True)
        for packet in w:
            what = "tcp" if packet.tcp else "udp" if packet.udp else \
                "icmp" if packet.icmp else f"proto {packet.protocol[0]}"
            port = f" port {packet.dst_port}" if packet.dst_port else ""
            print(f"blocked {what} {packet.src_addr} -> {packet.dst_addr}"
                  f"{port}", flush=True)
            # Not sent: dropped.


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
