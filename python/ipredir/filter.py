# SPDX-License-Identifier: LGPL-2.1-or-later
"""The filter language on its own: check, compile, evaluate, format and
explain a filter (ipr_filter_*), with errors that quote the text and say
where it went wrong."""

import ctypes

from . import _clib
from .errors import FilterError, IpredirError
from .packet import Layer, Packet, _buffer_address

_CT = {"invalid": 0x01, "established": 0x02, "related": 0x04, "new": 0x08,
       "untracked": 0x40}


def _layer(layer):
    try:
        return Layer(layer)
    except ValueError:
        raise ValueError(f"unknown layer {layer!r}: ipredir has "
                         "Layer.NETWORK (0) and Layer.NETWORK_FORWARD (1)") \
            from None


def _text(text):
    if isinstance(text, bytes):
        text = text.decode()
    if not isinstance(text, str):
        raise TypeError(f"a filter is text, not {type(text).__name__}")
    if "\0" in text:
        raise FilterError(text, text.index("\0"), "NUL character in filter")
    return text


class Filter:
    """A compiled filter.  Filter("tcp.DstPort == 80") raises FilterError
    (with .pos) if the text does not compile."""

    def __init__(self, text, layer=Layer.NETWORK):
        text = _text(text)
        self.text = text
        self.layer = _layer(layer)
        err = _clib.FilterError()
        f = _clib.ipr_filter_compile(text.encode(), int(self.layer),
                                     ctypes.byref(err))
        if not f:
            msg = err.msg.decode() if err.msg else "invalid filter"
            raise FilterError(text, err.pos, msg, err.code or -22)
        self._f = f

    def close(self):
        f, self._f = getattr(self, "_f", None), None
        if f:
            try:
                _clib.ipr_filter_free(f)
            except (AttributeError, TypeError):
                pass   # interpreter shutdown

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _snprintf(self, fn, call):
        if not self._f:
            raise ValueError("filter is closed")
        n = fn(self._f, None, 0)
        if n < 0:
            raise IpredirError(n, call)
        buf = ctypes.create_string_buffer(n + 1)
        fn(self._f, buf, n + 1)
        return buf.value.decode()

    def format(self):
        """The normalised text (compiles to the same filter)."""
        return self._snprintf(_clib.ipr_filter_format, "ipr_filter_format")

    def explain(self):
        """The kernel rules per hook and what user space checks."""
        return self._snprintf(_clib.ipr_filter_explain, "ipr_filter_explain")

    def __str__(self):
        return self.format()

    def __repr__(self):
        return f"Filter({self.text!r}, {self.layer!r})"

    def eval(self, packet, outbound=None, if_idx=None, ct_state=None,
             if_name=None):
        """Does @packet (a Packet, or bytes) match?  For bytes, or to
        override the packet's own metadata, give outbound / if_idx;
        ct_state is one of new, established, related, invalid, untracked
        (unknown if None: a ct.state test fails)."""
        if not self._f:
            raise ValueError("filter is closed")
        if isinstance(packet, Packet):
            mv = packet._mv
            addr = _clib.Addr.from_buffer_copy(packet.addr)
        else:
            mv = memoryview(bytearray(packet))
            addr = _clib.Addr()
            addr.flags = _clib.ADDR_OUTBOUND
            if len(mv) and mv[0] >> 4 == 6:
                addr.flags |= _clib.ADDR_IPV6
        addr.layer = int(self.layer)
        if outbound is not None:
            if outbound:
                addr.flags |= _clib.ADDR_OUTBOUND
            else:
                addr.flags &= ~_clib.ADDR_OUTBOUND
        if if_idx is not None:
            addr.if_idx = if_idx
        env = None
        if ct_state is not None or if_name is not None:
            env = _clib.FilterEnv()
            env.sz = ctypes.sizeof(env)
            if ct_state is not None:
                try:
                    env.ct_state = _CT[ct_state] if isinstance(
                        ct_state, str) else int(ct_state)
                except KeyError:
                    raise ValueError(f"unknown ct_state {ct_state!r}: one of "
                                     f"{', '.join(_CT)}") from None
            if if_name is not None:
                env.if_name = if_name.encode()
        ptr = _buffer_address(mv) if len(mv) else None
        rc = _clib.ipr_filter_eval_ex(self._f, ptr, len(mv),
                                      ctypes.byref(addr),
                                      ctypes.byref(env) if env else None)
        if rc < 0:
            raise IpredirError(rc, "ipr_filter_eval")
        return rc == 1


def check_filter(text, layer=Layer.NETWORK):
    """(ok, pos, message) as WinDivertHelperCheckFilter: never raises for
    a bad filter."""
    try:
        Filter(text, layer).close()
    except FilterError as e:
        return False, e.pos, e.msg
    return True, 0, ""


def format_filter(text, layer=Layer.NETWORK):
    with Filter(text, layer) as f:
        return f.format()


def explain_filter(text, layer=Layer.NETWORK):
    with Filter(text, layer) as f:
        return f.explain()
