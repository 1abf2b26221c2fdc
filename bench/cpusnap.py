#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/cpusnap.py FILE - a CPU snapshot for bench/run, as JSON in FILE:

  cpu      the machine's /proc/stat 'cpu' line (clock ticks)
  foreign  {pid: utime+stime} of every user process NOT in one of our
           namespaces (their inodes in $IPRB_NETNS): the other work on the
           machine, taken out of the cpu-1g figure and reported per
           measurement
  ours     the same for the processes in our namespaces

Standard library only, and few imports: it runs twice per measurement.
"""
import json
import os
import sys

PF_KTHREAD = 0x00200000


def main(path):
    ours = set(os.environ.get("IPRB_NETNS", "").split())
    procs, mine = {}, {}
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="utf-8", errors="replace") as f:
                st = f.read()
            ns = os.readlink(f"/proc/{d}/ns/net")
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        # rest[0] is field 3 (state): flags = field 9, utime/stime 14/15
        flags, ut, stm = int(rest[6]), int(rest[11]), int(rest[12])
        if flags & PF_KTHREAD:
            continue
        ino = ns[ns.find("[") + 1:-1]
        if ino in ours:
            mine[d] = ut + stm
        else:
            procs[d] = ut + stm
    with open("/proc/stat", encoding="utf-8") as f:
        cpu = f.readline().split()
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"cpu": [int(x) for x in cpu[1:]], "foreign": procs,
                   "ours": mine}, f)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: cpusnap.py FILE\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
