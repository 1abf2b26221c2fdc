# SPDX-License-Identifier: LGPL-2.1-or-later
"""ipredir: put a Python program into the Linux host's IP path.

A pure-Python binding (ctypes) of libipredir.so.0:

    import ipredir
    with ipredir.Handle("tcp.DstPort == 80") as h:
        for packet in h:
            packet.payload = packet.payload.replace(b"foo", b"bar")
            h.send(packet)

ipredir.pydivert is pydivert's API on top of it (see python/README.md).
"""

from . import _clib
from ._clib import BATCH_MAX, MTU_MAX, PRIORITY_MAX, PRIORITY_MIN
from ._clib import (CSUM_NO_ICMP, CSUM_NO_ICMPV6, CSUM_NO_IP, CSUM_NO_TCP,
                    CSUM_NO_UDP)
from .errors import FilterError, IpredirError, UnsupportedError, strerror
from .filter import Filter, check_filter, explain_filter, format_filter
from .handle import ANSWERED, Batch, Flag, Handle, Param, Shutdown, Stats
from .kernel import kernel_features
from .packet import (Direction, Header, ICMPHeader, ICMPv4Header,
                     ICMPv6Header, IPv4Header, IPv6Header, Layer, Packet,
                     Protocol, TCPHeader, UDPHeader, Verdict)

# The version of the library loaded (ipr_version), the one place it is kept.
__version__ = _clib.ipr_version().decode()


def packet_hash(data, seed=0):
    """ipr_packet_hash: a 64-bit hash of an IP packet (bytes-like), blind
    to TTL / hop limit and the IPv4 checksum; random8/16/32 in filters are
    its bits 48-55, 32-47 and 0-31 with seed 0."""
    from . import _clib
    import ctypes
    buf = bytes(data)
    return _clib.ipr_packet_hash(ctypes.c_char_p(buf), len(buf), seed)


__all__ = [
    "Handle", "Batch", "Packet", "Filter", "Layer", "Flag", "Param",
    "Shutdown", "Stats", "Direction", "Verdict", "Protocol", "ANSWERED",
    "IPv4Header", "IPv6Header", "TCPHeader", "UDPHeader", "ICMPHeader",
    "ICMPv4Header", "ICMPv6Header", "Header",
    "IpredirError", "FilterError", "UnsupportedError", "strerror",
    "check_filter", "format_filter", "explain_filter", "packet_hash",
    "kernel_features",
    "MTU_MAX", "BATCH_MAX", "PRIORITY_MIN", "PRIORITY_MAX",
    "CSUM_NO_IP", "CSUM_NO_TCP", "CSUM_NO_UDP", "CSUM_NO_ICMP",
    "CSUM_NO_ICMPV6",
]
