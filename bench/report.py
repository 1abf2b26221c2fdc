#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/report.py - the measuring and reporting half of bench/run.

    report.py ingest DIR          one measurement directory -> one JSON line
                                  on stdout, a progress line on stderr
    report.py summarize RAW.jsonl [--out DIR] ...
                                  statistics, the table, the target check,
                                  results/latest.json (+ a dated copy),
                                  results/latest.svg, tcp8-timeseries.svg
    report.py check FILE [--strict]
                                  the target check of a saved results file
    report.py rebuild FILE [--unstable PCT]
                                  statistics, table, check and charts again
                                  from the measurements kept in FILE (FILE
                                  is rewritten, the charts go next to it:
                                  latest.svg for latest.json, else
                                  STEM.svg and STEM-tcp8-timeseries.svg)

(CPU snapshots are taken by bench/cpusnap.py, kept apart so that it starts
fast.)

Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys

# ---------------------------------------------------------------------------
# what is measured

WORKLOADS = {
    # name: unit, which way is better, what the value is
    "tcp-3x3": ("Gbit/s", "higher", "3 TCP streams each way at once, sum"),
    "tcp-8": ("Gbit/s", "higher", "8 TCP streams one way, aggregate"),
    "udp64": ("kpps", "higher", "64-byte UDP datagrams delivered per second"),
    "udp-singles": ("kpps", "higher",
                    "64-byte UDP datagrams, one per send call, 2 flows, "
                    "delivered per second"),
    "tcp-1way": ("Gbit/s", "higher", "3 TCP streams one way, sum"),
    "rtt": ("us", "lower", "UDP request/response round trip, median"),
    "cpu-1g": ("% busy", "lower",
               "machine CPU busy at 1 Gbit/s of 1400-byte UDP, paced"),
    "idle": ("% CPU", "lower",
             "the program's CPU time with no traffic, in % of one CPU"),
}
WORKLOAD_ORDER = list(WORKLOADS)
SCENARIO_ORDER = ["none", "idle-rules", "passthru", "headers", "rewrite",
                  "excluded", "blocklist",
                  "sniff", "none-routed", "forward", "python"]
# A sample is "disturbed" when processes outside the bench used more than
# this share of the machine while it was taken.
DISTURBED_PCT = 20.0

BASELINE_OF = {"forward": "none-routed", "none": None, "none-routed": None}

TARGETS = [
    # scenario, workload, figure, comparison, limit
    # issue 16: traffic as applications send it, with passthru's defaults
    ("passthru", "udp-singles", "ratio", ">=", 0.55),
    ("passthru", "tcp-1way", "ratio", ">=", 0.65),
    ("passthru", "tcp-3x3", "ratio", ">=", 0.85),
    ("passthru", "rtt", "added_us", "<=", 25.0),
    ("passthru", "cpu-1g", "cpu_added_pct", "<=", 10.0),
    ("passthru", "idle", "value", "<=", 0.5),
    # kept from issue 5
    ("rewrite", "tcp-3x3", "ratio", ">=", 0.60),
    ("passthru", "udp64", "ratio", ">=", 0.50),
    ("excluded", "tcp-3x3", "ratio", ">=", 0.95),
    ("blocklist", "tcp-3x3", "ratio", ">=", 0.95),
]

COLORS = {
    "idle-rules": "#8c8c8c", "passthru": "#1f77b4", "headers": "#17becf",
    "rewrite": "#d62728",
    "excluded": "#2ca02c", "blocklist": "#8c564b", "sniff": "#9467bd",
    "forward": "#ff7f0e", "none": "#444444", "none-routed": "#777777",
    "python": "#bcbd22",
}


def baseline_of(sc):
    return BASELINE_OF.get(sc, "none")


# ---------------------------------------------------------------------------
# helpers

def read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def last_json(path):
    """The last line of a file that parses as a JSON object."""
    for line in reversed(read(path).splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def load_json(path):
    txt = read(path)
    if not txt.strip():
        return None
    try:
        return json.loads(txt)
    except ValueError:
        return None


def ticks_delta(fa, fb):
    return sum(max(0, t - fa[pid]) if pid in fa else t for pid, t in fb.items())


def cpu_window(p0, p1):
    """(machine busy %, other work's %, ours %, our processes' %) between
    two cpusnap files."""
    a, b = load_json(p0), load_json(p1)
    if not a or not b:
        return None, None, None, None
    d = [y - x for x, y in zip(a["cpu"], b["cpu"])]
    d += [0] * (8 - len(d))
    user, nice, system, idle, iowait, irq, softirq, steal = d[:8]
    total = user + nice + system + idle + iowait + irq + softirq + steal
    if total <= 0:
        return None, None, None, None
    busy = user + nice + system + irq + softirq
    foreign = min(ticks_delta(a["foreign"], b["foreign"]), busy)
    procs = ticks_delta(a.get("ours", {}), b.get("ours", {}))
    return (100.0 * busy / total, 100.0 * foreign / total,
            100.0 * (busy - foreign) / total, 100.0 * procs / total)


def prog_threads(p0, p1):
    """The program's threads between two cpusnap files, busiest first:
    cpu_pct (of one CPU), migrations and context switches in the window,
    and the CPU each was on at the end.  Threads that did nothing are left
    out."""
    a, b = load_json(p0), load_json(p1)
    if not a or not b or not b.get("prog"):
        return None
    total = sum(y - x for x, y in zip(a["cpu"], b["cpu"]))
    one_cpu = total / (os.cpu_count() or 1)
    out = []
    for tid, e1 in b["prog"].items():
        e0 = a.get("prog", {}).get(tid)
        if not e0:
            continue
        t = {"tid": int(tid), "last_cpu": e1.get("cpu")}
        t["cpu_pct"] = round(100.0 * (e1["ticks"] - e0["ticks"]) / one_cpu, 1) \
            if one_cpu > 0 else None
        for k, name in (("mig", "migrations"), ("sw", "switches"),
                        ("invol", "involuntary")):
            if k in e0 and k in e1:
                t[name] = e1[k] - e0[k]
        if t["cpu_pct"] or t.get("switches"):
            out.append(t)
    out.sort(key=lambda t: -(t["cpu_pct"] or 0))
    return out


def kv_line(text, prefix):
    """key=value pairs of the last line that starts with prefix."""
    found = None
    for line in text.splitlines():
        if line.startswith(prefix):
            found = line
    if found is None:
        return None
    out = {}
    for k, v in re.findall(r"(\w+)=(\S+)", found):
        try:
            out[k] = float(v) if "." in v else int(v)
        except ValueError:
            out[k] = v
    return out


def iperf_result(path):
    """(bits/s received, retransmits, error) of an iperf3 -J file."""
    j = load_json(path)
    if j is None:
        err = read(path + ".err").strip() or "no output"
        return None, None, "iperf3: " + err[:200]
    if j.get("error"):
        return None, None, "iperf3: " + str(j["error"])[:200]
    end = j.get("end", {})
    try:
        bps = float(end["sum_received"]["bits_per_second"])
    except (KeyError, TypeError, ValueError):
        return None, None, "iperf3: no end.sum_received"
    retr = end.get("sum_sent", {}).get("retransmits")
    return bps, retr, None


def iperf_udp_pps(path, size):
    """(datagrams/s the receiver got, datagrams/s sent, loss %, error) of
    an iperf3 -u -J file."""
    j = load_json(path)
    if j is None:
        err = read(path + ".err").strip() or "no output"
        return None, None, None, "iperf3: " + err[:200]
    if j.get("error"):
        return None, None, None, "iperf3: " + str(j["error"])[:200]
    end = j.get("end", {})
    try:
        rx = end["sum_received"]
        tx = end["sum_sent"]
        got = float(rx["bytes"]) / size / float(rx["seconds"])
        sent = float(tx["bytes"]) / size / float(tx["seconds"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None, None, None, "iperf3: no end.sum_received"
    return got, sent, (100.0 * (1 - got / sent) if sent else None), None


def iperf_series(path):
    j = load_json(path) or {}
    out = []
    for iv in j.get("intervals", []):
        s = iv.get("sum", {})
        if "end" in s and "bits_per_second" in s:
            if s.get("omitted"):
                continue
            out.append([round(float(s["end"]), 3),
                        round(float(s["bits_per_second"]) / 1e9, 3)])
    return out


def median(xs):
    return statistics.median(xs) if xs else None


def fmt(v, nd=2):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.{nd}f}"


# ---------------------------------------------------------------------------
# ingest: one measurement directory -> one record

def ingest(d):
    meta = {}
    for line in read(os.path.join(d, "meta")).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            meta[k] = v
    sc, wl = meta.get("scenario"), meta.get("workload")
    rec = {
        "scenario": sc, "workload": wl, "rep": int(meta.get("rep", 0)),
        "topology": meta.get("topology"), "seconds": int(meta.get("seconds", 0)),
        "duration": float(meta.get("duration", 0) or 0), "ok": False,
        "error": None, "value": None, "unit": WORKLOADS.get(wl, ("?",))[0],
        "cpu_busy_pct": None, "other_work_pct": None,
        "extra": {}, "prog": None,
    }
    busy, foreign, _, _ = cpu_window(os.path.join(d, "cpu0"), os.path.join(d, "cpu1"))
    if busy is not None:
        rec["cpu_busy_pct"] = round(busy, 2)
        rec["other_work_pct"] = round(foreign, 2)
    errors = [e for e in read(os.path.join(d, "error")).splitlines() if e]
    x = rec["extra"]
    sent = None

    def p(name):
        return os.path.join(d, name)

    if not errors:
        if wl == "tcp-3x3":
            a, ra, ea = iperf_result(p("iperf1.json"))
            b, rb, eb = iperf_result(p("iperf2.json"))
            if ea or eb:
                errors.append(ea or eb)
            else:
                rec["value"] = (a + b) / 1e9
                x["forward_gbps"] = round(a / 1e9, 3)
                x["reverse_gbps"] = round(b / 1e9, 3)
                x["retransmits"] = (ra or 0) + (rb or 0)
        elif wl == "udp-singles":
            got, snt, loss, e = iperf_udp_pps(p("iperf1.json"), 64)
            if e:
                errors.append(e)
            else:
                rec["value"] = got / 1e3
                x["delivered_pps"] = round(got, 1)
                x["sent_pps"] = round(snt, 1)
                x["loss_pct"] = round(loss, 3) if loss is not None else None
                j = load_json(p("iperf1.json")) or {}
                sent = j.get("end", {}).get("sum_sent", {}).get("packets")
        elif wl == "idle":
            th = prog_threads(p("cpu0"), p("cpu1"))
            if th is None and os.path.exists(p("prog.cmd")):
                errors.append("no per-thread CPU figures of the program")
            else:
                rec["value"] = round(sum(t["cpu_pct"] or 0 for t in th or []), 3)
        elif wl in ("tcp-8", "tcp-1way"):
            a, ra, ea = iperf_result(p("iperf1.json"))
            if ea:
                errors.append(ea)
            else:
                rec["value"] = a / 1e9
                x["retransmits"] = ra
                if wl == "tcp-8":
                    x["series"] = iperf_series(p("iperf1.json"))
        elif wl in ("udp64", "cpu-1g"):
            r, s = last_json(p("recv.json")), last_json(p("send.json"))
            if not r or not s:
                errors.append("udp sender/receiver gave no result: " +
                              (read(p("send.err")) + read(p("recv.err")))[:200])
            elif not r.get("packets"):
                errors.append("receiver got no datagram")
            else:
                sent = s.get("sent")
                x["received"] = r["packets"]
                x["sent"] = sent
                x["delivered_pps"] = round(r["pps"], 1)
                x["sent_pps"] = round(s["pps"], 1)
                x["loss_pct"] = round(100.0 * (1 - r["packets"] / sent), 3) \
                    if sent else None
                if wl == "udp64":
                    rec["value"] = r["pps"] / 1e3
                else:
                    x["offered_pps"] = round(s["pps"], 1)
                    x["offered_gbps"] = round(s["pps"] * 1400 * 8 / 1e9, 3)
                    x["late_max_us"] = s.get("late_max_us")
                    busy, foreign, ours, procs = cpu_window(p("cpuw0"), p("cpuw1"))
                    if busy is None:
                        errors.append("no CPU window")
                    else:
                        # the machine's busy time minus the CPU time of
                        # processes outside our namespaces
                        rec["value"] = ours
                        x["machine_busy_pct"] = round(busy, 2)
                        x["other_work_pct"] = round(foreign, 2)
                        # user+system time of the processes in our
                        # namespaces only (softirq work is not in it)
                        x["our_processes_pct"] = round(procs, 2)
        elif wl == "rtt":
            r = last_json(p("rtt.json"))
            if not r or not r.get("n"):
                errors.append("rtt client gave no result: " +
                              read(p("rtt.err"))[:200])
            else:
                rec["value"] = r["median_us"]
                for k in ("p90_us", "p99_us", "mean_us", "min_us", "max_us",
                          "n", "lost"):
                    x[k] = r.get(k)
        else:
            errors.append("unknown workload")

    # the program under test
    if os.path.exists(p("prog.cmd")):
        prog = {"command": read(p("prog.cmd")).strip(),
                "exit": read(p("prog.rc")).strip() or None}
        summ = kv_line(read(p("prog.err")), "passthru: total") or \
            kv_line(read(p("prog.err")), "py_passthru: total")
        if summ:
            prog.update(summ)
        js = last_json(p("prog.out"))
        if js:
            prog.update(js)
        th = prog_threads(p("cpu0"), p("cpu1"))
        if th is not None:
            prog["threads"] = th
        if prog["exit"] not in (None, "0"):
            errors.append(f"program exit status {prog['exit']}: " +
                          read(p("prog.err")).strip()[-200:])
        pk = prog.get("packets")
        if sent and isinstance(pk, int) and sc in ("passthru", "headers",
                                                    "rewrite", "forward",
                                                    "sniff", "python"):
            # how much of the load went through the program (the rest was
            # let through by fail-open on a full queue, or not copied)
            prog["through_program_pct"] = round(min(100.0, 100.0 * pk / sent), 1)
        rec["prog"] = prog

    if errors:
        rec["error"] = "; ".join(errors)
        rec["value"] = None
    else:
        rec["ok"] = rec["value"] is not None
    # progress
    idx, tot, reps = meta.get("index", "?"), meta.get("total", "?"), meta.get("reps", "?")
    el = int(meta.get("elapsed", 0) or 0)
    if rec["ok"]:
        what = f"{fmt(rec['value'])} {rec['unit']}"
        if wl == "rtt":
            what += f" (p99 {fmt(x.get('p99_us'))} us)"
        if rec["prog"] and "through_program_pct" in rec["prog"]:
            what += f" [{rec['prog']['through_program_pct']:.0f}% via program]"
    else:
        what = "FAILED: " + (rec["error"] or "?")
    cpu, other = rec["cpu_busy_pct"], rec["other_work_pct"]
    if cpu is not None and rec["ok"]:
        what += f"  cpu {cpu:.0f}%"
        if other is not None and other > DISTURBED_PCT:
            what += f" (other work {other:.0f}%: disturbed)"
    sys.stderr.write(f"bench: [{idx:>3}/{tot} {el // 60}:{el % 60:02d}] "
                     f"{sc:<11} {wl:<7} rep {rec['rep']}/{reps}: {what}\n")
    print(json.dumps(rec))
    return 0 if rec["ok"] else 1


# ---------------------------------------------------------------------------
# summarize

def machine_info(root, binpath):
    m = {"hostname": socket.gethostname(), "kernel": platform.release(),
         "arch": platform.machine(), "cores": os.cpu_count()}
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            m["cpu_model"] = line.split(":", 1)[1].strip()
            break
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            m["memory_mb"] = int(line.split()[1]) // 1024
    m["loadavg_at_end"] = read("/proc/loadavg").split()[:3]
    try:
        m["iperf3"] = subprocess.run(["iperf3", "--version"], capture_output=True,
                                     text=True, timeout=5).stdout.split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        pass
    m["python"] = platform.python_version()
    sw = {"binary": binpath}
    if shutil.which("git") and root:
        try:
            r = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"],
                               capture_output=True, text=True, timeout=5)
            if r.returncode == 0:
                sw["commit"] = r.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return m, sw


def summarize_runs(raw, unstable_pct):
    groups = {}
    for r in raw:
        groups.setdefault((r["scenario"], r["workload"]), []).append(r)
    runs = {}
    for (sc, wl), recs in groups.items():
        ok = [r for r in recs if r.get("ok")]
        vals = [r["value"] for r in ok]
        unit, better, _ = WORKLOADS[wl]
        run = {"scenario": sc, "workload": wl,
               "topology": "routed" if sc in ("forward", "none-routed") else "pair",
               "value": median(vals), "unit": unit, "better": better,
               "samples": [round(v, 4) for v in vals],
               "reps": [r["rep"] for r in ok],
               "n": len(vals),
               "failed": sum(1 for r in recs if not r.get("ok") and not r.get("skipped")),
               "skipped": sum(1 for r in recs if r.get("skipped")),
               "errors": sorted({r["error"] for r in recs if r.get("error")}),
               "notes": []}
        if vals:
            lo, hi = min(vals), max(vals)
            run["min"], run["max"] = lo, hi
            med = run["value"]
            run["spread_pct"] = round(100.0 * (hi - lo) / abs(med), 1) if med else None
            run["unstable"] = bool(len(vals) >= 2 and run["spread_pct"] is not None
                                   and run["spread_pct"] > unstable_pct)
        else:
            run["min"] = run["max"] = run["spread_pct"] = None
            run["unstable"] = None
        cpus = [r["cpu_busy_pct"] for r in ok if r.get("cpu_busy_pct") is not None]
        run["cpu_busy_pct"] = round(median(cpus), 1) if cpus else None
        oth = [r["other_work_pct"] for r in ok if r.get("other_work_pct") is not None]
        run["other_work_pct"] = [round(o, 1) for o in oth]
        run["disturbed"] = sum(1 for o in oth if o > DISTURBED_PCT)
        if wl == "rtt" and ok:
            run["p99_us"] = median([r["extra"]["p99_us"] for r in ok])
            run["p99_samples"] = [r["extra"]["p99_us"] for r in ok]
            run["lost"] = sum(r["extra"].get("lost") or 0 for r in ok)
        if wl in ("udp64", "udp-singles", "cpu-1g") and ok:
            run["sent_pps"] = median([r["extra"]["sent_pps"] for r in ok])
            run["delivered_pps"] = median([r["extra"]["delivered_pps"] for r in ok])
            losses = [r["extra"]["loss_pct"] for r in ok if r["extra"].get("loss_pct") is not None]
            run["loss_pct"] = median(losses)
        if wl == "cpu-1g" and ok:
            run["offered_gbps"] = median([r["extra"]["offered_gbps"] for r in ok])
        if wl.startswith("tcp") and ok:
            run["retransmits"] = [r["extra"].get("retransmits") for r in ok]
        if wl == "tcp-8":
            run["series"] = {str(r["rep"]): r["extra"].get("series", []) for r in ok}
        tp = [r["prog"]["through_program_pct"] for r in ok
              if r.get("prog") and "through_program_pct" in r["prog"]]
        if tp:
            run["through_program_pct"] = median(tp)
        progs = [r["prog"] for r in ok if r.get("prog")]
        if progs:
            run["program"] = progs[0].get("command")
            kd = [p.get("kernel_drops") for p in progs if isinstance(p.get("kernel_drops"), int)]
            if kd:
                run["kernel_drops"] = kd
        runs[(sc, wl)] = run
    # ratios against the baseline of the same run
    for (sc, wl), run in runs.items():
        b = baseline_of(sc)
        run["baseline_scenario"] = b
        if wl == "idle":
            # an absolute figure: no traffic, so nothing to compare with
            run["baseline_scenario"] = run["baseline"] = run["ratio"] = None
            continue
        if b is None:
            run["baseline"] = None
            run["ratio"] = 1.0 if run["value"] is not None else None
            continue
        base = runs.get((b, wl))
        bv = base["value"] if base else None
        run["baseline"] = bv
        if bv is None or run["value"] is None:
            run["ratio"] = None
            if bv is None and run["value"] is not None:
                run["notes"].append(f"no {b} baseline")
            continue
        # Each repetition measures the baseline and the scenario seconds
        # apart: the ratio is taken per repetition and the median of those
        # is the figure (it cancels the slow swings of a shared machine);
        # the ratio of the medians is kept too.
        bmap = {r: v for r, v in zip(base["reps"], base["samples"])}
        pr = [round(v / bmap[r], 4) for r, v in zip(run["reps"], run["samples"])
              if bmap.get(r)]
        run["ratio_samples"] = pr
        run["ratio_of_medians"] = round(run["value"] / bv, 4) if bv else None
        if pr:
            rm = median(pr)
            run["ratio"] = round(rm, 4)
            run["ratio_min"], run["ratio_max"] = min(pr), max(pr)
            run["ratio_spread_pct"] = round(100.0 * (max(pr) - min(pr)) / rm, 1) \
                if rm else None
        else:
            run["ratio"] = run["ratio_of_medians"]
            run["ratio_spread_pct"] = None
        if wl == "rtt":
            run["added_us"] = round(run["value"] - bv, 2)
            if base.get("p99_us") is not None and run.get("p99_us") is not None:
                run["added_p99_us"] = round(run["p99_us"] - base["p99_us"], 2)
        if wl == "cpu-1g":
            run["cpu_added_pct"] = round(run["value"] - bv, 2)
    # A figure is unstable when the spread of what it reports is too wide:
    # the per-repetition ratio for throughput against a baseline, the value
    # itself for the baselines, rtt and cpu-1g (whose targets are
    # differences of medians).
    for (sc, wl), run in runs.items():
        if run.get("ratio_spread_pct") is not None and len(run.get("ratio_samples", [])) >= 2 \
                and wl not in ("rtt", "cpu-1g"):
            run["unstable"] = run["ratio_spread_pct"] > unstable_pct
            run["unstable_basis"] = "ratio"
        elif run["unstable"] is not None:
            run["unstable_basis"] = "value"
    # notes
    for (sc, wl), run in runs.items():
        if run["unstable"]:
            run["notes"].append("unstable")
        if run["failed"]:
            why = run["errors"][0] if run["errors"] else "?"
            why = why if len(why) <= 70 else why[:67] + "..."
            run["notes"].append(f"{run['failed']} failed: {why}")
        if run.get("disturbed"):
            run["notes"].append(f"disturbed {run['disturbed']}/{run['n']}")
        if run["skipped"]:
            run["notes"].append(f"{run['skipped']} skipped (time budget)")
        tp = run.get("through_program_pct")
        if tp is not None and tp < 95 and sc in ("passthru", "headers", "rewrite",
                                                 "forward"):
            run["notes"].append(f"only {tp:.0f}% went through the program "
                                "(fail-open let the rest by)")
        if tp is not None and tp < 95 and sc == "sniff":
            run["notes"].append(f"sniffer got {tp:.0f}% of the copies")
        if wl == "cpu-1g" and run.get("offered_gbps") is not None \
                and run["offered_gbps"] < 0.95:
            run["notes"].append(f"offered load only {run['offered_gbps']:.2f} Gbit/s")
        if wl == "cpu-1g" and run.get("loss_pct") is not None and run["loss_pct"] > 1:
            run["notes"].append(f"{run['loss_pct']:.1f}% of the load lost")
        if wl == "rtt" and run.get("lost"):
            run["notes"].append(f"{run['lost']} round trips lost")
    order = {s: i for i, s in enumerate(SCENARIO_ORDER)}
    return sorted(runs.values(), key=lambda r: (WORKLOAD_ORDER.index(r["workload"]),
                                                order.get(r["scenario"], 99)))


def check_targets(runs):
    by = {(r["scenario"], r["workload"]): r for r in runs}
    out = []
    for sc, wl, fig, op, lim in TARGETS:
        r = by.get((sc, wl))
        v = r.get(fig) if r else None
        if v is None:
            status = "n/a"
        else:
            good = v >= lim if op == ">=" else v <= lim
            status = "PASS" if good else "MISS"
        out.append({"scenario": sc, "workload": wl, "figure": fig, "op": op,
                    "target": lim, "value": v, "status": status,
                    "unstable": bool(r and r.get("unstable"))})
    return out


def print_check(check, f=sys.stdout):
    print("\nTargets (figures from this run, against none measured in the same run):", file=f)
    for c in check:
        v = "-" if c["value"] is None else fmt(c["value"])
        unit = {"ratio": "", "added_us": " us", "cpu_added_pct": " pp",
                "value": " %"}[c["figure"]]
        tail = "  (unstable figure)" if c["unstable"] and c["status"] != "n/a" else ""
        if c["status"] == "n/a":
            tail = "  (not measured)"
        print(f"  {c['status']:<4}  {c['scenario'] + '/' + c['workload']:<17} "
              f"{c['figure']:<13} {v:>7}{unit}  target {c['op']} {c['target']:g}{unit}{tail}",
              file=f)
    n = {s: sum(1 for c in check if c["status"] == s) for s in ("PASS", "MISS", "n/a")}
    print(f"  {n['PASS']} pass, {n['MISS']} miss, {n['n/a']} not measured", file=f)


def print_table(runs, f=sys.stdout):
    hdr = ["scenario", "workload", "value", "unit", "ratio", "delta", "spread",
           "r.spread", "n", "cpu%", "notes"]
    rows = []
    for r in runs:
        v = fmt(r["value"])
        if r["workload"] == "idle":
            ratio = "-"
        elif r["baseline_scenario"] is None:
            ratio = "base" if r["value"] is not None else "-"
        else:
            ratio = fmt(r["ratio"])
        delta = ""
        if "added_us" in r:
            delta = f"{r['added_us']:+.1f} us"
        elif "cpu_added_pct" in r:
            delta = f"{r['cpu_added_pct']:+.1f} pp"
        if r["workload"] == "rtt" and r.get("p99_us") is not None:
            v += f" (p99 {fmt(r['p99_us'])})"
        spread = "-" if r["spread_pct"] is None else f"{r['spread_pct']:.1f}%"
        rs = r.get("ratio_spread_pct")
        rspread = "-" if rs is None else f"{rs:.1f}%"
        if r["unstable"]:
            if r.get("unstable_basis") == "ratio":
                rspread += " !"
            else:
                spread += " !"
        rows.append([r["scenario"], r["workload"], v, r["unit"], ratio, delta,
                     spread, rspread, str(r["n"]),
                     "-" if r["cpu_busy_pct"] is None else f"{r['cpu_busy_pct']:.0f}",
                     "; ".join(r["notes"])])
    w = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
         for i, h in enumerate(hdr)]
    right = {2, 4, 5, 6, 7, 8, 9}

    def line(cells):
        return "  ".join(c.rjust(w[i]) if i in right else c.ljust(w[i])
                         for i, c in enumerate(cells)).rstrip()
    print(line(hdr), file=f)
    print(line(["-" * x for x in w]), file=f)
    last = None
    for r, row in zip(runs, rows):
        if last is not None and r["workload"] != last:
            print("", file=f)
        last = r["workload"]
        print(line(row), file=f)
    print("\nratio: scenario / baseline (none; none-routed for forward) of the same "
          "repetition, median over the repetitions.\ndelta: median(scenario) - "
          "median(baseline).  spread: (max - min) / median of the values; r.spread: "
          "the same of the\nper-repetition ratios; '!' = unstable (that spread is "
          "over the limit).  cpu%: machine busy during the\nmeasurement (all work "
          "on it).  disturbed k/n: k samples taken while processes outside the "
          f"bench used more than {DISTURBED_PCT:g}%\nof the machine.", file=f)


# ---------------------------------------------------------------------------
# SVG, by hand

def esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


class Svg:
    def __init__(self, w, h):
        self.w, self.h, self.parts = w, h, []

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, size=12, anchor="start", color="#222", weight="normal",
             rotate=None, halo=False):
        tr = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
        # a white outline under the glyphs keeps a label legible over bars
        h = (' stroke="#fff" stroke-width="3" stroke-linejoin="round" '
             'paint-order="stroke"') if halo else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" '
                 f'text-anchor="{anchor}" fill="{color}" font-weight="{weight}"{tr}{h}>'
                 f'{esc(s)}</text>')

    def line(self, x1, y1, x2, y2, color="#000", width=1, dash=None, opacity=1):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{color}" stroke-width="{width}"{d} opacity="{opacity}"/>')

    def rect(self, x, y, w, h, fill, opacity=1, stroke="none", title=None):
        t = f"<title>{esc(title)}</title>" if title else ""
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" '
                 f'height="{max(h, 0):.1f}" fill="{fill}" fill-opacity="{opacity}" '
                 f'stroke="{stroke}">{t}</rect>')

    def polyline(self, pts, color, width=2, opacity=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.add(f'<polyline points="{p}" fill="none" stroke="{color}" '
                 f'stroke-width="{width}" opacity="{opacity}"{d}/>')

    def render(self):
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" '
                f'height="{self.h}" viewBox="0 0 {self.w} {self.h}" '
                'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">\n'
                f'<rect width="{self.w}" height="{self.h}" fill="#fff"/>\n'
                + "\n".join(self.parts) + "\n</svg>\n")


def nice_max(v):
    if v <= 0:
        return 1.0
    for m in (0.5, 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30,
              40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 1000):
        if v <= m:
            return float(m)
    return float(v)


def ticks(lo, hi, n=5):
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** int(f"{raw:e}".split("e")[1])
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * mag:
            st = step * mag
            break
    out, t = [], (lo // st) * st
    while t <= hi + 1e-9:
        if t >= lo - 1e-9:
            out.append(round(t, 6))
        t += st
    return out


def bar_panel(svg, x0, y0, w, h, title, groups, fig, targets, ylabel, ref=None):
    """groups: [(group label, [(scenario, run)])]; fig: key of the value;
    targets: {(scenario, workload): (op, limit)}."""
    svg.text(x0, y0 - 12, title, size=14, weight="bold")
    vals = []
    for _, items in groups:
        for sc, r in items:
            v = r.get(fig)
            if v is not None:
                vals.append(v)
                if fig == "ratio":
                    vals += [r.get("ratio_min") or v, r.get("ratio_max") or v]
    for (sc, wl), (op, lim) in targets.items():
        vals.append(lim)
    if ref is not None:
        vals.append(ref)
    vmin = min([0.0] + vals)
    vmax = nice_max(max([0.0] + vals) * 1.1)
    if vmin < 0:
        vmin = -nice_max(-vmin * 1.1)
    left = 50
    px0, pw = x0 + left, w - left
    py = lambda v: y0 + h - (v - vmin) / (vmax - vmin) * h  # noqa: E731
    for t in ticks(vmin, vmax):
        svg.line(px0, py(t), px0 + pw, py(t), color="#ddd")
        svg.text(px0 - 6, py(t) + 4, f"{t:g}", size=11, anchor="end", color="#555")
    svg.text(x0 + 12, y0 + h / 2, ylabel, size=11, anchor="middle", color="#555",
             rotate=-90)
    svg.line(px0, py(0), px0 + pw, py(0), color="#333")
    if ref is not None:
        svg.line(px0, py(ref), px0 + pw, py(ref), color="#333", dash="4,3")
    ng = max(1, len(groups))
    gw = pw / ng
    marks = []
    for gi, (glabel, items) in enumerate(groups):
        gx = px0 + gi * gw
        svg.text(gx + gw / 2, y0 + h + 18, glabel, size=12, anchor="middle",
                 weight="bold")
        nb = max(1, len(items))
        bw = min(46.0, (gw - 20) / nb)
        bx0 = gx + (gw - bw * nb) / 2
        for bi, (sc, r) in enumerate(items):
            bx = bx0 + bi * bw
            v = r.get(fig)
            col = COLORS.get(sc, "#555")
            if v is not None:
                top, bot = (py(v), py(0)) if v >= 0 else (py(0), py(v))
                tip = (f"{sc} / {r['workload']}: {fig} {v:.3g}; value "
                       f"{r['value']:.4g} {r['unit']} vs {r.get('baseline') or 0:.4g}; "
                       f"spread {r.get('spread_pct')}%")
                svg.rect(bx + 2, top, bw - 4, bot - top, col,
                         opacity=0.45 if r.get("unstable") else 0.9, title=tip)
                if fig == "ratio" and r.get("ratio_min") is not None:
                    cx = bx + bw / 2
                    svg.line(cx, py(r["ratio_min"]), cx, py(r["ratio_max"]), "#111", 1.2)
                    svg.line(cx - 4, py(r["ratio_min"]), cx + 4, py(r["ratio_min"]), "#111", 1.2)
                    svg.line(cx - 4, py(r["ratio_max"]), cx + 4, py(r["ratio_max"]), "#111", 1.2)
                lab = f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
                if r.get("unstable"):
                    lab += "*"
                ly = min(top, py(r.get("ratio_max") or v) if fig == "ratio" else top) - 4
                svg.text(bx + bw / 2, ly, lab, size=10, anchor="middle", halo=True)
            else:
                svg.text(bx + bw / 2, py(0) - 4, "n/a", size=10, anchor="middle",
                         color="#999")
            svg.text(bx + bw / 2, y0 + h + 32, sc, size=9, anchor="end",
                     color=col, rotate=-35)
            t = targets.get((sc, r["workload"]))
            if t:
                marks.append((bx, bw, t))
    # the targets last, over every bar
    for bx, bw, (op, lim) in marks:
        svg.line(bx - 2, py(lim), bx + bw + 2, py(lim), "#e00000", 3)
        sym = {">=": "\u2265", "<=": "\u2264"}.get(op, op)
        svg.text(bx + bw + 3, py(lim) + 12, f"{sym}{lim:g}", size=10,
                 color="#e00000", weight="bold", halo=True)


def chart_ratios(runs, path, meta):
    by = {(r["scenario"], r["workload"]): r for r in runs}
    tg = {}
    for sc, wl, fig, op, lim in TARGETS:
        tg.setdefault(fig, {})[(sc, wl)] = (op, lim)
    scen = [s for s in SCENARIO_ORDER if s not in ("none", "none-routed")]

    def groups(wls):
        out = []
        for wl in wls:
            items = [(s, by[(s, wl)]) for s in scen if (s, wl) in by]
            if items:
                out.append((wl, items))
        return out
    tput = groups(["tcp-3x3", "tcp-1way", "tcp-8", "udp64", "udp-singles"])
    rtt = groups(["rtt"])
    cpu = groups(["cpu-1g"])
    W = 1000
    svg = Svg(W, 100)
    y = 56
    svg.text(20, 24, "ipredir bench: each scenario against no redirection, same run",
             size=16, weight="bold")
    svg.text(20, 42, meta, size=11, color="#555")
    panels = []
    if tput:
        panels.append(("Throughput ratio to none (median; whiskers: min-max of the "
                       "repetitions; dashed: 1.0)", tput, "ratio",
                       tg.get("ratio", {}), "ratio", 1.0, W - 40))
    if rtt:
        panels.append(("rtt: added latency, us (median round trip minus none's)", rtt,
                       "added_us", tg.get("added_us", {}), "added us", None, 480))
    if cpu:
        panels.append(("cpu-1g: added CPU, percentage points of the machine", cpu,
                       "cpu_added_pct", tg.get("cpu_added_pct", {}), "added pp",
                       None, 480))
    ph = 220
    y += 24
    side = 0
    for i, (title, g, fig, t, yl, ref, pw) in enumerate(panels):
        if pw < W - 40:
            x = 20 + side * 500
            svg_y = y
            bar_panel(svg, x, svg_y, pw - 20, ph, title, g, fig, t, yl, ref)
            side += 1
            if side == 2 or i == len(panels) - 1:
                y += ph + 90
                side = 0
        else:
            bar_panel(svg, 20, y, pw, ph, title, g, fig, t, yl, ref)
            y += ph + 90
    # legend
    lx = 20
    svg.line(lx, y + 2, lx + 24, y + 2, "#e00000", 3)
    svg.text(lx + 30, y + 6, "target", size=11)
    lx += 90
    svg.rect(lx, y - 6, 16, 14, "#1f77b4", opacity=0.45)
    svg.text(lx + 22, y + 6, "* unstable (spread above the limit)", size=11)
    y += 24
    svg.h = int(y)
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg.render())


def chart_series(runs, path, meta):
    by = {(r["scenario"], r["workload"]): r for r in runs}
    lines = []
    for sc, col in (("none", "#444444"), ("passthru", "#1f77b4")):
        r = by.get((sc, "tcp-8"))
        if not r:
            continue
        for rep, pts in sorted(r.get("series", {}).items()):
            if pts:
                lines.append((sc, rep, col, pts))
    W, H = 960, 420
    svg = Svg(W, H)
    svg.text(20, 24, "tcp-8: 8-stream aggregate over time, none vs passthru",
             size=16, weight="bold")
    svg.text(20, 42, meta, size=11, color="#555")
    x0, y0, pw, ph = 80, 70, W - 370, H - 140
    if not lines:
        svg.text(W / 2, H / 2, "no tcp-8 samples for none or passthru", size=14,
                 anchor="middle")
    else:
        tmax = max(p[0] for _, _, _, pts in lines for p in pts)
        vmax = nice_max(max(p[1] for _, _, _, pts in lines for p in pts) * 1.1)
        px = lambda t: x0 + t / tmax * pw  # noqa: E731
        py = lambda v: y0 + ph - v / vmax * ph  # noqa: E731
        for t in ticks(0, vmax):
            svg.line(x0, py(t), x0 + pw, py(t), "#ddd")
            svg.text(x0 - 6, py(t) + 4, f"{t:g}", size=11, anchor="end", color="#555")
        for t in ticks(0, tmax):
            svg.line(px(t), y0 + ph, px(t), y0 + ph + 4, "#333")
            svg.text(px(t), y0 + ph + 18, f"{t:g}", size=11, anchor="middle",
                     color="#555")
        svg.line(x0, y0 + ph, x0 + pw, y0 + ph, "#333")
        svg.line(x0, y0, x0, y0 + ph, "#333")
        svg.text(x0 + pw / 2, y0 + ph + 38, "seconds into the run", size=12,
                 anchor="middle")
        svg.text(24, y0 + ph / 2, "Gbit/s", size=12, anchor="middle", rotate=-90)
        dashes = [None, "6,3", "2,3", "8,3,2,3", "1,2"]
        ly = y0 + 10
        for i, (sc, rep, col, pts) in enumerate(lines):
            # each interval's rate drawn as a step over that interval
            steps, prev = [], 0.0
            for t, v in pts:
                steps += [(px(prev), py(v)), (px(t), py(v))]
                prev = t
            dash = dashes[(int(rep) - 1) % len(dashes)] if rep.isdigit() else None
            svg.polyline(steps, col, 2, 0.9, dash)
            svg.line(x0 + pw + 20, ly, x0 + pw + 50, ly, col, 2, dash)
            avg = sum(v for _, v in pts) / len(pts)
            svg.text(x0 + pw + 56, ly + 4, f"{sc} rep {rep} ({avg:.1f})", size=11)
            ly += 18
        for sc in ("none", "passthru"):
            r = by.get((sc, "tcp-8"))
            if r and r["value"] is not None:
                extra = f", ratio {r['ratio']:.2f}" if sc != "none" and r.get("ratio") else ""
                svg.text(x0 + pw + 20, ly + 14, f"{sc}: median {r['value']:.2f} Gbit/s{extra}",
                         size=11, weight="bold")
                ly += 18
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg.render())


# ---------------------------------------------------------------------------

def cmd_summarize(a):
    raw = []
    for line in read(a.raw).splitlines():
        line = line.strip()
        if line:
            try:
                raw.append(json.loads(line))
            except ValueError:
                pass
    measured = [r for r in raw if not r.get("skipped")]
    runs = summarize_runs(raw, a.unstable)
    check = check_targets(runs)
    now = datetime.datetime.now().astimezone()
    machine, software = machine_info(a.root, a.bin)
    try:
        machine["busy_before_pct"] = float(a.background_busy)
    except ValueError:
        machine["busy_before_pct"] = None
    doc = {
        "machine": machine, "software": software,
        "date": now.isoformat(timespec="seconds"), "command": a.command,
        "options": {"quick": a.quick, "reps": a.reps, "seconds": a.seconds,
                    "unstable_pct": a.unstable,
                    "passthru_options": a.passthru_opts},
        "elapsed_s": a.elapsed,
        "targets": [{"scenario": s, "workload": w, "figure": f, "op": o, "target": t}
                    for s, w, f, o, t in TARGETS],
        "check": check,
        "runs": runs,
        "measurements": raw,
    }
    print()
    print(f"ipredir bench, {now:%Y-%m-%d %H:%M}, {machine.get('cpu_model', '?')}, "
          f"{machine['cores']} cores, kernel {machine['kernel']}; {a.reps} rep(s) x "
          f"{a.seconds}s; {len(measured)} measurements in {a.elapsed}s")
    bb = machine.get("busy_before_pct")
    if bb is not None and bb > 10:
        print(f"WARNING: the machine was {bb:.0f}% busy with other work before the "
              "bench started: figures are noisy, CPU figures skewed.")
    print()
    print_table(runs)
    print_check(check)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        stamp = now.strftime("%Y-%m-%dT%H%M%S")
        body = json.dumps(doc, indent=1) + "\n"
        for name in ("latest.json", f"{stamp}.json"):
            with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
                f.write(body)
        meta = chart_meta(doc)
        chart_ratios(runs, os.path.join(a.out, "latest.svg"), meta)
        chart_series(runs, os.path.join(a.out, "tcp8-timeseries.svg"), meta)
        print(f"\nresults: {os.path.join(a.out, 'latest.json')} (and {stamp}.json), "
              f"latest.svg, tcp8-timeseries.svg")
    failed = sum(1 for r in measured if not r.get("ok"))
    if failed:
        print(f"\n{failed} measurement(s) failed; see 'errors' in the JSON",
              file=sys.stderr)
        return 1
    if not measured:
        print("no measurement was made", file=sys.stderr)
        return 1
    if a.strict and any(c["status"] == "MISS" for c in check):
        return 4
    return 0


def chart_meta(doc):
    m = doc.get("machine", {})
    o = doc.get("options", {})
    try:
        d = datetime.datetime.fromisoformat(doc["date"]).strftime("%Y-%m-%d %H:%M")
    except (KeyError, ValueError):
        d = "?"
    return (f"{d} | {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores | "
            f"kernel {m.get('kernel', '?')} | {o.get('reps', '?')} rep(s) x "
            f"{o.get('seconds', '?')} s | {doc.get('command', '?')}")


def cmd_rebuild(a):
    """Statistics, table, check and charts again from the measurements kept
    in a results file (e.g. with another --unstable limit)."""
    doc = load_json(a.file)
    if not doc or "measurements" not in doc:
        print(f"bench: {a.file}: not a results file", file=sys.stderr)
        return 1
    unstable = a.unstable if a.unstable is not None else \
        doc.get("options", {}).get("unstable_pct", 15.0)
    runs = summarize_runs(doc["measurements"], unstable)
    check = check_targets(runs)
    doc["runs"], doc["check"] = runs, check
    doc.setdefault("options", {})["unstable_pct"] = unstable
    print(f"{a.file}: {doc.get('date', '?')}, {doc.get('command', '?')}\n")
    print_table(runs)
    print_check(check)
    with open(a.file, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=1) + "\n")
    out = os.path.dirname(os.path.abspath(a.file))
    stem = os.path.splitext(os.path.basename(a.file))[0]
    if stem == "latest":
        names = ("latest.svg", "tcp8-timeseries.svg")
    else:  # a dated copy must not overwrite the charts of the latest run
        names = (f"{stem}.svg", f"{stem}-tcp8-timeseries.svg")
    chart_ratios(runs, os.path.join(out, names[0]), chart_meta(doc))
    chart_series(runs, os.path.join(out, names[1]), chart_meta(doc))
    print(f"\nrewritten: {a.file}, charts: {', '.join(names)}")
    return 0


def cmd_check(a):
    doc = load_json(a.file)
    if not doc or "runs" not in doc:
        print(f"bench: {a.file}: not a results file", file=sys.stderr)
        return 1
    check = check_targets(doc["runs"])
    print(f"{a.file}: {doc.get('date', '?')}, {doc.get('command', '?')}")
    print_check(check)
    if a.strict and any(c["status"] == "MISS" for c in check):
        return 4
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ingest")
    p.add_argument("dir")
    p = sub.add_parser("summarize")
    p.add_argument("raw")
    p.add_argument("--out")
    p.add_argument("--command", default="bench/run")
    p.add_argument("--reps", type=int, default=0)
    p.add_argument("--seconds", type=int, default=0)
    p.add_argument("--unstable", type=float, default=15.0)
    p.add_argument("--bin", default="")
    p.add_argument("--root", default="")
    p.add_argument("--elapsed", type=int, default=0)
    p.add_argument("--passthru-opts", default="")
    p.add_argument("--background-busy", default="")
    p.add_argument("--strict", action="store_true")
    p.add_argument("--quick", action="store_true")
    p = sub.add_parser("check")
    p.add_argument("file")
    p.add_argument("--strict", action="store_true")
    p = sub.add_parser("rebuild")
    p.add_argument("file")
    p.add_argument("--unstable", type=float)
    a = ap.parse_args()
    if a.cmd == "ingest":
        return ingest(a.dir)
    if a.cmd == "summarize":
        return cmd_summarize(a)
    if a.cmd == "rebuild":
        return cmd_rebuild(a)
    return cmd_check(a)


if __name__ == "__main__":
    sys.exit(main())
