# SPDX-License-Identifier: LGPL-2.1-or-later
"""pytest set-up of the Python binding's tests: the binding from python/
of this checkout, and one pair of test namespaces for the tests that need
the network (created here, deleted at the end, whatever happens)."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nsutil  # noqa: E402


@pytest.fixture(scope="session")
def pair():
    why = nsutil.cannot_run()
    if why:
        pytest.skip(why)
    p = nsutil.Pair()
    try:
        p.create()
    except Exception as e:  # noqa: BLE001
        p.delete()
        pytest.fail(f"cannot build the test namespaces: {e}")
    yield p
    p.delete()


@pytest.fixture(autouse=True)
def _stop_strays(request):
    """Whatever a test started ends with it: a program left running by a
    failed assertion (say, the firewall example, which blocks everything
    from A) would otherwise spoil every later test in the shared pair of
    namespaces (6.1 under QEMU: one slow test, then 30 failures)."""
    if "pair" not in request.fixturenames:
        yield
        return
    p = request.getfixturevalue("pair")
    n = len(p.procs)
    yield
    for proc in p.procs[n:]:
        proc.close()
    del p.procs[n:]
