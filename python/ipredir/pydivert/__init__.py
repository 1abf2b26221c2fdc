# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert's public API (3.x, network layers) on Linux, over ipredir.

    import ipredir.pydivert as pydivert
    with pydivert.WinDivert("tcp.DstPort == 80") as w:
        for packet in w:
            w.send(packet)

Scripts that say `import pydivert` run unchanged with python/compat on
PYTHONPATH, or after ipredir.pydivert.install().  What differs from
Windows: python/README.md.
"""

import sys

from .consts import (CalcChecksumsOption, Direction, Flag, Layer, Param,
                     Protocol, RecvFlag)
from .packet import Packet
from .windivert import WinDivert

__version__ = "3.1.1+ipredir"

__all__ = ["WinDivert", "Packet", "Layer", "Flag", "Param",
           "CalcChecksumsOption", "Direction", "Protocol", "RecvFlag",
           "install"]

_SUBMODULES = ("consts", "windivert", "packet", "packet.header",
               "packet.ip", "packet.tcp", "packet.udp", "packet.icmp")


def install(name="pydivert"):
    """Make `import pydivert` (and its submodules, e.g. pydivert.packet.tcp)
    give this module, so that a pydivert script runs unchanged."""
    import importlib
    mod = sys.modules[__name__]
    sys.modules[name] = mod
    for sub in _SUBMODULES:
        sys.modules[f"{name}.{sub}"] = importlib.import_module(
            f"{__name__}.{sub}")
    return mod
