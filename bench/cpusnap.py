#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/cpusnap.py FILE - a CPU snapshot for bench/run, as JSON in FILE:

  cpu      the machine's /proc/stat 'cpu' line (clock ticks)
  foreign  {pid: utime+stime} of every user process NOT in one of our
           namespaces (their inodes in $IPRB_NETNS): the other work on the
           machine, taken out of the cpu-1g figure and reported per
           measurement
  ours     the same for the processes in our namespaces
  prog     {tid: {ticks, cpu, mig, sw, invol}} of each thread of the program
           under test ($IPRB_PROG_PID): CPU time, the CPU it ran on last,
           and the scheduler's migration and switch counts
           (/proc/PID/task/TID/sched), to tell one placement from another

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
                   "ours": mine,
                   "prog": threads(os.environ.get("IPRB_PROG_PID", ""))}, f)
    return 0


SCHED_KEYS = {"se.nr_migrations": "mig", "nr_switches": "sw",
              "nr_involuntary_switches": "invol"}


def threads(pid):
    out = {}
    if not pid.isdigit():
        return out
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tids:
        base = f"/proc/{pid}/task/{t}"
        try:
            with open(base + "/stat", encoding="utf-8", errors="replace") as f:
                st = f.read()
            rest = st[st.rfind(")") + 2:].split()
            # field n of stat is rest[n - 3]: utime 14, stime 15, processor 39
            e = {"ticks": int(rest[11]) + int(rest[12]), "cpu": int(rest[36])}
            with open(base + "/sched", encoding="utf-8") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k.strip() in SCHED_KEYS:
                        e[SCHED_KEYS[k.strip()]] = int(float(v))
        except (OSError, ValueError, IndexError):
            continue
        out[t] = e
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: cpusnap.py FILE\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
