# SPDX-License-Identifier: LGPL-2.1-or-later
"""Namespaces, programs and traffic for the Python binding's tests.

Two namespaces A and B joined by a veth pair (v0 in each), addresses in
198.18.0.0/15 and fd00::/8 only, named ipredir-<owner>-<pid>-A/B like the
shell tests' (tests/net/lib.sh), so tests/run finds any leftover.  Programs
under test run inside them with `ip netns exec`; nothing touches the
namespace the tests run in."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PY = "/usr/bin/python3"
PYPATH = os.path.join(ROOT, "python")
COMPAT = os.path.join(ROOT, "python", "compat")
BUILD = os.environ.get("O", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)


def cannot_run():
    """Why the namespace tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables)"
    for t in ("ip", "nft"):
        if not shutil.which(t):
            return f"missing tool {t} (run scripts/deps)"
    if not os.path.exists(os.path.join(BUILD, "libipredir.so.0")):
        return f"{BUILD}/libipredir.so.0 is missing: run make"
    return None


def sh(*args, check=True, timeout=20):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: status {r.returncode}: "
                           f"{r.stderr.strip()}")
    return r.stdout


class Proc:
    """A program running in a namespace, its output in files."""

    def __init__(self, ns, args, env):
        self.dir = tempfile.mkdtemp(prefix="ipredir-py.")
        self.out = open(os.path.join(self.dir, "out"), "w+")
        self.err = open(os.path.join(self.dir, "err"), "w+")
        self.p = subprocess.Popen(["ip", "netns", "exec", ns] + args,
                                  stdout=self.out, stderr=self.err,
                                  stdin=subprocess.DEVNULL, env=env,
                                  start_new_session=True)

    def text(self):
        with open(self.out.name) as f:
            return f.read()

    def errtext(self):
        with open(self.err.name) as f:
            return f.read()

    def lines(self):
        return self.text().splitlines()

    def wait_line(self, prefix, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(ln.startswith(prefix) for ln in self.lines()):
                return True
            if self.p.poll() is not None:
                return any(ln.startswith(prefix) for ln in self.lines())
            time.sleep(0.02)
        return False

    def wait(self, timeout=20):
        """Exit status (None if it had to be killed)."""
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
        return self.wait(timeout)

    def kill(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait(5)

    def json(self, prefix="result "):
        for ln in reversed(self.lines()):
            if ln.startswith(prefix):
                return json.loads(ln[len(prefix):])
        raise AssertionError(f"no '{prefix}' line; output:\n{self.text()}"
                             f"\nerrors:\n{self.errtext()}")

    def close(self):
        self.kill()
        self.out.close()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __repr__(self):
        return (f"output:\n{self.text()[-2000:]}\nerrors:\n"
                f"{self.errtext()[-2000:]}")


class Pair:
    A4, B4 = "198.18.1.1", "198.18.1.2"
    A6, B6 = "fd00:1::1", "fd00:1::2"

    def __init__(self):
        tag = os.environ.get("IPR_NS_TAG") or \
            f"ipredir-{os.environ.get('IPR_RUN_OWNER', os.getpid())}-{os.getpid()}"
        self.a = f"{tag}-pyA"
        self.b = f"{tag}-pyB"
        self.made = []
        self.procs = []

    def create(self):
        for ns in (self.a, self.b):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw",
               "net.ipv6.conf.all.accept_dad=0",
               "net.ipv6.conf.default.accept_dad=0")
        sh("ip", "-n", self.a, "link", "add", "v0", "type", "veth", "peer",
           "name", "v0", "netns", self.b)
        for ns, a4, a6 in ((self.a, self.A4, self.A6),
                           (self.b, self.B4, self.B6)):
            sh("ip", "-n", ns, "link", "set", "v0", "up")
            sh("ip", "-n", ns, "addr", "add", a4 + "/24", "dev", "v0")
            sh("ip", "-n", ns, "-6", "addr", "add", a6 + "/64", "dev", "v0",
               "nodad")
        self.ifidx = {ns: json.loads(sh("ip", "-n", ns, "-j", "link", "show",
                                        "v0"))[0]["ifindex"]
                      for ns in (self.a, self.b)}
        # Neighbours known before the first test: no ARP/ND in the way.
        sh("ip", "netns", "exec", self.a, "ping", "-c1", "-W2", self.B4)
        sh("ip", "netns", "exec", self.a, "ping", "-c1", "-W2", self.B6)

    def delete(self):
        for p in self.procs:
            p.close()
        for ns in self.made:
            for pid in sh("ip", "netns", "pids", ns, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", ns, check=False)
        self.made = []

    def env(self, compat=False):
        e = dict(os.environ)
        e["PYTHONPATH"] = PYPATH + (":" + COMPAT if compat else "")
        e["PYTHONUNBUFFERED"] = "1"
        e["IPREDIR_LIB"] = os.path.join(BUILD, "libipredir.so.0")
        return e

    def start(self, ns, args, compat=False):
        p = Proc(ns, args, self.env(compat))
        self.procs.append(p)
        return p

    def start_py(self, ns, code, *argv, compat=False):
        return self.start(ns, [PY, "-c", code] + [str(a) for a in argv],
                          compat)

    def run_py(self, ns, code, *argv, timeout=20, compat=False):
        p = self.start_py(ns, code, *argv, compat=compat)
        rc = p.wait(timeout)
        return rc, p

    def tables(self, ns):
        """ipredir tables in @ns."""
        return [ln for ln in sh("ip", "netns", "exec", ns, "nft", "list",
                                "tables").splitlines() if " ipredir" in ln]


UDP_RECV = r"""
import json, socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
want, quiet = int(sys.argv[3]), float(sys.argv[4])
print("ready", flush=True)
got = []
end = time.monotonic() + 15
s.settimeout(0.1)
last = time.monotonic()
while time.monotonic() < end:
    try:
        d, a = s.recvfrom(65535)
        got.append([d.hex(), a[0], a[1]])
        last = time.monotonic()
    except socket.timeout:
        pass
    # After the count, wait a little more for packets that should not come.
    if len(got) >= want and time.monotonic() - last >= quiet:
        break
print("result " + json.dumps(got), flush=True)
"""

UDP_SEND = r"""
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if len(sys.argv) > 4:
    s.bind((sys.argv[4], 0 if len(sys.argv) < 6 else int(sys.argv[5])))
for p in sys.argv[3].split(","):
    s.sendto(bytes.fromhex(p), (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.005)
"""


def udp_exchange(pair, send_ns, recv_ns, dst, port, payloads, quiet=0.3,
                 want=None, src=None, sport=None):
    """Send @payloads (bytes) from @send_ns to dst:port, received in
    @recv_ns.  Returns the list of (payload bytes, src addr, src port)."""
    r = pair.start_py(recv_ns, UDP_RECV, dst, port,
                      len(payloads) if want is None else want, quiet)
    assert r.wait_line("ready", 10), repr(r)
    args = [dst, port, ",".join(p.hex() for p in payloads)]
    if src:
        args += [src] + ([sport] if sport else [])
    rc, s = pair.run_py(send_ns, UDP_SEND, *args)
    assert rc == 0, repr(s)
    assert r.wait(20) == 0, repr(r)
    return [(bytes.fromhex(h), a, p) for h, a, p in r.json()]


def run_env():
    return sys.executable
