#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""logger.py [-c COUNT] [FILTER] - one line per packet the filter selects,
with ipredir's asyncio interface.  The handle sniffs (Flag.SNIFF): the
program gets a copy and the packet is never held, so logging never slows
the traffic down or loses it.

    sudo PYTHONPATH=python examples/python/logger.py 'tcp.DstPort == 22'
"""
import argparse
import asyncio
import datetime

import ipredir


def line(p):
    t = datetime.datetime.fromtimestamp(p.timestamp / 1e9)
    proto = "tcp" if p.tcp else "udp" if p.udp else \
        "icmp" if p.icmp else f"proto {p.protocol[0]}"
    src, dst = p.src_addr, p.dst_addr
    if p.src_port is not None:
        if p.ipv6:
            src, dst = f"[{src}]", f"[{dst}]"
        src, dst = f"{src}:{p.src_port}", f"{dst}:{p.dst_port}"
    flags = f" [{p.tcp.flag_names}]" if p.tcp else ""
    return (f"{t:%H:%M:%S.%f} {p.direction.name.lower():8} if={p.if_idx} "
            f"{proto} {src} > {dst}{flags} len={len(p)} "
            f"payload={len(p.payload)}")


async def log(filter_text, count):
    with ipredir.Handle(filter_text, flags=ipredir.Flag.SNIFF) as h:
        print(f"logger: {ipredir.format_filter(filter_text)}", flush=True)
        n = 0
        async for p in h:
            print(line(p), flush=True)
            n += 1
            if n == count:
                break


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-c", "--count", type=int, default=0,
                    help="stop after COUNT packets")
    ap.add_argument("filter", nargs="?", default="true")
    a = ap.parse_args()
    try:
        asyncio.run(log(a.filter, a.count))
    except ipredir.FilterError as e:
        ap.exit(2, f"logger: {e}\n")
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
