# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert.WinDivert on ipredir: the same methods and the same errors for
misuse (RuntimeError for a handle in the wrong state), over ipredir.Handle.
What only Windows can do raises UnsupportedError and says so."""

import errno

from ..errors import IpredirError, UnsupportedError
from ..filter import check_filter as _check_filter
from ..handle import ANSWERED, Handle, Param as _IprParam
from .consts import Flag, Layer, Param, RecvFlag
from .packet import Packet

DEFAULT_PACKET_BUFFER_SIZE = 65575

_PARAMS = {Param.QUEUE_LEN: _IprParam.QUEUE_LENGTH,
           Param.QUEUE_TIME: _IprParam.QUEUE_TIME,
           Param.QUEUE_SIZE: _IprParam.QUEUE_SIZE,
           Param.VERSION_MAJOR: _IprParam.VERSION_MAJOR,
           Param.VERSION_MINOR: _IprParam.VERSION_MINOR}


def _check_layer(layer):
    try:
        layer = Layer(layer)
    except ValueError:
        raise ValueError(f"unknown layer {layer!r}") from None
    if layer not in (Layer.NETWORK, Layer.NETWORK_FORWARD):
        raise UnsupportedError(
            f"{layer!r} is a WinDivert layer that only Windows has (flow, "
            "socket and reflect events): ipredir on Linux diverts packets "
            "at Layer.NETWORK and Layer.NETWORK_FORWARD")
    return layer


class _Handle(Handle):
    packet_class = Packet


class WinDivert:
    """pydivert.WinDivert(filter="true", layer=Layer.NETWORK, priority=0,
    flags=Flag.DEFAULT) on Linux."""

    def __init__(self, filter="true", layer=Layer.NETWORK, priority=0,
                 flags=Flag.DEFAULT):
        self._layer = _check_layer(layer)
        flags = Flag(flags)
        if flags & Flag.FRAGMENTS:
            raise UnsupportedError(
                "Flag.FRAGMENTS is not supported: on Linux netfilter "
                "reassembles fragments before the queue where conntrack "
                "is loaded and passes them as they come where it is not")
        self._filter = filter
        self._priority = priority
        self._flags = flags
        ipr_flags = int(flags & (Flag.SNIFF | Flag.DROP | Flag.RECV_ONLY |
                                 Flag.SEND_ONLY))
        self._h = _Handle(filter, int(self._layer), priority, ipr_flags,
                          auto_checksums=False)

    def __repr__(self):
        state = "open" if self.is_open else "closed"
        return (f'<WinDivert state="{state}" filter="{self._filter}" '
                f'layer="{self._layer}" priority="{self._priority}" '
                f'flags="{self._flags}" />')

    # ------------------------------------------------------ lifecycle ---

    @staticmethod
    def register():
        """Nothing to install on Linux: opens and closes a handle, which
        checks that the kernel has what ipredir needs."""
        with WinDivert("false"):
            pass

    @staticmethod
    def is_registered():
        return True

    @staticmethod
    def unregister():
        return None

    @staticmethod
    def check_filter(filter, layer=Layer.NETWORK):
        """(ok, position, message), as WinDivertHelperCompileFilter."""
        try:
            layer = _check_layer(layer)
        except (UnsupportedError, ValueError) as e:
            return False, 0, str(e)
        return _check_filter(filter, int(layer))

    def open(self):
        if self.is_open:
            raise RuntimeError("WinDivert handle is already open.")
        self._h.open()

    @property
    def is_open(self):
        return self._h.is_open

    def close(self):
        if not self.is_open:
            raise RuntimeError("WinDivert handle is not open.")
        self._h.close()

    def shutdown(self, how=3):
        """WinDivertShutdown: stop receiving and/or sending."""
        self._need_open()
        self._h.shutdown(how)

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *args):
        self.close()

    async def __aenter__(self):
        self.open()
        return self

    async def __aexit__(self, *args):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.recv()
        except IpredirError as e:
            if e.errno == errno.ESHUTDOWN:
                raise StopIteration from None
            raise

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.recv_async()
        except IpredirError as e:
            if e.errno == errno.ESHUTDOWN:
                raise StopAsyncIteration from None
            raise

    def _need_open(self):
        if not self.is_open:
            raise RuntimeError("WinDivert handle is not open")

    # -------------------------------------------------------- receive ---

    def _own(self, p):
        p._owner = self._h
        return p

    def recv(self, bufsize=DEFAULT_PACKET_BUFFER_SIZE):
        self._need_open()
        return self._own(self._h.recv(min(bufsize, 65535)))

    def recv_ex(self, bufsize=DEFAULT_PACKET_BUFFER_SIZE, flags=0,
                overlapped=None):
        """flags=RecvFlag.NO_BLOCK returns None when no packet waits.
        Overlapped I/O is Windows only: use recv_async / async for."""
        self._need_open()
        if overlapped is not None:
            raise UnsupportedError("overlapped I/O is Windows only: use "
                                   "'await w.recv_async()' or 'async for "
                                   "packet in w' (asyncio)")
        if int(flags) & ~int(RecvFlag.NO_BLOCK):
            raise ValueError(f"unknown receive flags {flags!r}")
        if not int(flags) & RecvFlag.NO_BLOCK:
            return self.recv(bufsize)
        b = self._h.recv_batch(1, 0)
        if not b.n:
            return None
        p = b[0]
        return self._own(Packet._view(memoryview(bytearray(p._mv)),
                                      type(p.addr).from_buffer_copy(p.addr)))

    async def recv_async(self, bufsize=DEFAULT_PACKET_BUFFER_SIZE):
        self._need_open()
        return self._own(await self._h.recv_async())

    # ----------------------------------------------------------- send ---

    def send(self, packet, recalculate_checksum=True):
        """Pass on (a received packet, modified or not) or inject (a packet
        made here, or one sent already).  Returns the bytes sent."""
        self._need_open()
        if not isinstance(packet, Packet):
            raise TypeError(f"send wants a pydivert.Packet, not "
                            f"{type(packet).__name__}")
        if packet.verdict == ANSWERED or not packet.addr.packet_id:
            # WinDivert: sending again injects again.
            p = Packet._view(memoryview(bytearray(packet._mv)),
                             type(packet.addr).from_buffer_copy(packet.addr))
            p.addr.packet_id = 0
            if recalculate_checksum:
                p.recalculate_checksums()
            return self._h.send(p, checksums=False)
        return self._h.send(packet, checksums=bool(recalculate_checksum))

    def send_ex(self, packet, recalculate_checksum=True, flags=0,
                overlapped=None):
        if overlapped is not None:
            raise UnsupportedError("overlapped I/O is Windows only: use "
                                   "'await w.send_async(packet)'")
        if flags:
            raise ValueError(f"send flags {flags!r}: WinDivert defines none")
        return self.send(packet, recalculate_checksum)

    async def send_async(self, packet, recalculate_checksum=True):
        return self.send(packet, recalculate_checksum)

    # --------------------------------------------------------- params ---

    def _param(self, name):
        try:
            return _PARAMS[Param(name)]
        except (ValueError, KeyError):
            raise ValueError(f"unknown parameter {name!r}") from None

    def get_param(self, name):
        self._need_open()
        return self._h.get_param(self._param(name))

    def set_param(self, name, value):
        self._need_open()
        p = self._param(name)
        if p in (_IprParam.VERSION_MAJOR, _IprParam.VERSION_MINOR):
            raise ValueError(f"{Param(name)!r} is read-only")
        self._h.set_param(p, value)
        return True


__all__ = ["WinDivert", "DEFAULT_PACKET_BUFFER_SIZE"]
