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
