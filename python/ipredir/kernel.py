# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the running kernel offers, and so which way ipredir takes:
ipr_kernel_features() of the C library."""

import ctypes

from . import _clib
from .errors import IpredirError

_BITS = {
    "owner_tables": 1 << 0,   # rules removed by the kernel with the socket
    "native_queue": 1 << 1,   # nft_queue
    "xt_queue": 1 << 2,       # xt NFQUEUE through nft_compat
    "inner_payload": 1 << 3,  # tcp/udp.Payload[i] in the kernel (5.16+)
    "log": 1 << 4,            # nft_log (sniff handles)
    "guessed": 1 << 31,       # no CAP_NET_ADMIN: guessed from the version
}


def kernel_features():
    """A dict of booleans (owner_tables, native_queue, xt_queue,
    inner_payload, log, guessed) and "text", the library's description
    (one "what: way" line per feature)."""
    v = ctypes.c_uint32(0)
    rc = _clib.ipr_kernel_features(ctypes.byref(v))
    if rc < 0:
        raise IpredirError(-rc, "ipr_kernel_features")
    out = {name: bool(v.value & bit) for name, bit in _BITS.items()}
    buf = ctypes.create_string_buffer(1024)
    n = _clib.ipr_kernel_features_format(v.value, b"\n", buf, len(buf))
    out["text"] = buf.value.decode(errors="replace") if n > 0 else ""
    return out
