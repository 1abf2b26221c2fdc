#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""py_passthru.py [--batch N] [--touch] [FILTER] - the `python` scenario of
bench/run: the Python binding's passthru.  One queue, one thread:
recv_batch, a Packet view per packet (the cost any program that looks at
its packets pays), send_batch of the whole batch (one verdict message).
--touch also reads each packet's destination port (parses its headers);
--fail-closed drops what the program cannot take, so that a receiver
counts only what went through Python.  The summary's pps is the program's
own rate, between its first and last batch (fail-open, the default, lets
what it cannot take bypass it, and a receiver counts those too).
Prints "ready" once the rules are in, a summary on SIGINT/SIGTERM."""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "python"))
import ipredir  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--touch", action="store_true")
    ap.add_argument("--fail-closed", action="store_true",
                    help="drop what the program cannot take (then what the "
                    "receiver counts went through Python)")
    ap.add_argument("filter", nargs="?", default="true")
    a = ap.parse_args()
    # bench/run starts it in the background of a script, where SIGINT is
    # ignored: take both signals back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    n = batches = ports = 0
    flags = ipredir.Flag.FAIL_CLOSED if a.fail_closed else 0
    with ipredir.Handle(a.filter, flags=flags, queues=1) as h:
        b = ipredir.Batch(a.batch)
        print("ready", flush=True)
        t_first = t_last = None
        try:
            while True:
                h.recv_batch(batch=b)
                t_last = time.monotonic()
                if t_first is None:
                    t_first = t_last
                if a.touch:
                    for p in b:
                        ports += p.dst_port is not None
                else:
                    for p in b:
                        pass
                h.send_batch(b)
                n += b.n
                batches += 1
        except KeyboardInterrupt:
            pass
        # The rate between the first and the last batch, as udpblast's
        # receiver takes it: the program's own throughput.
        dt = (t_last - t_first) if t_first is not None else 0
        st = h.stats()
    print(f"py_passthru: total packets={n} batches={batches} "
          f"seconds={dt:.2f} pps={n / dt if dt else 0:.0f} "
          f"bypassed={st.kernel_bypassed} errors={st.errors}",
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
