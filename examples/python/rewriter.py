#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rewriter.py FILTER OLD NEW - replace the bytes OLD by NEW in the payload
of every packet the filter selects, in batches (recv_batch / send_batch:
one system call each way for up to 64 packets).  Packets without OLD go
back as a verdict only; changed ones with their checksums recomputed.

UDP payloads may change length.  TCP ones should not (the sequence numbers
would no longer match): for TCP, NEW must be as long as OLD.

    sudo PYTHONPATH=python examples/python/rewriter.py \\
        'inbound and udp.DstPort == 5000' hello HELLO
"""
import sys

import ipredir


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: rewriter.py FILTER OLD NEW")
    text, old, new = argv[0], argv[1].encode(), argv[2].encode()
    if not old:
        sys.exit("rewriter: OLD must not be empty")
    try:
        h = ipredir.Handle(text).open()
    except ipredir.FilterError as e:
        sys.exit(f"rewriter: {e}")
    changed = 0
    with h:
        print(f"rewriter: {old!r} -> {new!r} in "
              f"{ipredir.format_filter(text)}", flush=True)
        try:
            while True:
                batch = h.recv_batch()
                for p in batch:
                    pl = p.payload
                    if pl and old in pl:
                        if p.tcp and len(old) != len(new):
                            continue   # would break the TCP stream
                        p.payload = pl.replace(old, new)
                        changed += 1
                        print(f"rewrote {p!r}", flush=True)
                h.send_batch(batch)
        except KeyboardInterrupt:
            pass
        print(f"rewriter: {changed} packets rewritten; {h.stats()}",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
