# SPDX-License-Identifier: LGPL-2.1-or-later
"""ipredir.Handle: open / recv / recv_batch / send / send_batch / shutdown /
close over libipredir, as a context manager, an iterator and an asyncio
async iterator (the queue's socket is waited on in the event loop: no
thread per handle)."""

import asyncio
import collections
import ctypes
import enum
import errno

from . import _clib
from ._clib import (BATCH_MAX, BATCH_SLOT, MTU_MAX, VERDICT_DROP,
                    VERDICT_REPLACE, Addr, PacketDesc)
from .errors import FilterError, IpredirError
from .filter import Filter, _layer, _text
from .packet import Layer, Packet, Verdict, _buffer_address

# Packet.verdict of a packet that was answered already.
ANSWERED = -1


class Flag(enum.IntFlag):
    DEFAULT = 0
    SNIFF = _clib.FLAG_SNIFF
    DROP = _clib.FLAG_DROP
    RECV_ONLY = _clib.FLAG_RECV_ONLY
    SEND_ONLY = _clib.FLAG_SEND_ONLY
    FAIL_CLOSED = _clib.FLAG_FAIL_CLOSED


class Param(enum.IntEnum):
    QUEUE_LENGTH = 0
    QUEUE_TIME = 1
    QUEUE_SIZE = 2
    VERSION_MAJOR = 3
    VERSION_MINOR = 4
    BUSY_POLL = 5
    HANG_TIME = 6


class Shutdown(enum.IntEnum):
    RECV = 1
    SEND = 2
    BOTH = 3


Stats = collections.namedtuple("Stats", [n for n, _ in _clib.Stats._fields_])


class Batch:
    """Up to .max packets read by one Handle.recv_batch, straight into one
    buffer: indexing or iterating gives Packet views of that buffer (no
    copy).  They stay valid until the next recv_batch into this batch."""

    __slots__ = ("max", "n", "_arr", "_buf", "_base", "_cap", "_mv",
                 "_views", "_cls", "_answered")

    def __init__(self, max=64, packet_class=Packet):
        if not 1 <= max <= BATCH_MAX:
            raise ValueError(f"batch size {max!r} out of range 1..{BATCH_MAX}")
        self.max = max
        self.n = 0
        self._arr = (PacketDesc * max)()
        self._cap = max * BATCH_SLOT
        self._buf = ctypes.create_string_buffer(self._cap)
        self._base = ctypes.addressof(self._buf)
        self._mv = memoryview(self._buf).cast("B")
        self._views = [None] * max
        self._cls = packet_class
        self._answered = True

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        n = self.n
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("batch index out of range")
        v = self._views[i]
        if v is None:
            d = self._arr[i]
            off = d.data - self._base
            v = self._views[i] = self._cls._view(
                self._mv[off:off + d.len], d.addr)
        return v

    def __iter__(self):
        # __getitem__ inlined: this loop is the per-packet cost of a
        # Python passthru.
        views, arr, mv, base = self._views, self._arr, self._mv, self._base
        view = self._cls._view
        for i in range(self.n):
            v = views[i]
            if v is None:
                d = arr[i]
                off = d.data - base
                v = views[i] = view(mv[off:off + d.len], d.addr)
            yield v

    def __repr__(self):
        return f"<Batch {self.n} of {self.max} packets>"


def _copy_packet(cls, mv, addr):
    return cls._view(memoryview(bytearray(mv)), Addr.from_buffer_copy(addr))


class Handle:
    """A redirection handle: the packets @filter selects come to this
    program, which passes them on (send), changes them, drops them, or
    injects new ones.

        with ipredir.Handle("tcp.DstPort == 80") as h:
            for packet in h:
                h.send(packet)

    Keyword options: queues, queue_length, queue_time (ms), queue_size
    (bytes), busy_poll (us of adaptive polling before a receive sleeps;
    0 takes the library's default, 50; set_param(Param.BUSY_POLL, 0) turns
    it off), snaplen (bytes copied per packet),
    auto_checksums (recompute the checksums of a modified packet on send;
    default True).
    """

    packet_class = Packet

    def __init__(self, filter="true", layer=Layer.NETWORK, priority=0,
                 flags=0, *, queues=0, queue_length=0, queue_time=0,
                 queue_size=0, busy_poll=0, snaplen=0, hang_time=0,
                 auto_checksums=True):
        self.filter = _text(filter)
        self.layer = _layer(layer)
        if isinstance(priority, bool) or not isinstance(priority, int) or \
           not _clib.PRIORITY_MIN <= priority <= _clib.PRIORITY_MAX:
            raise ValueError(f"priority {priority!r} out of range "
                             f"{_clib.PRIORITY_MIN}..{_clib.PRIORITY_MAX}")
        self.priority = priority
        if not isinstance(flags, int) or flags & ~_clib.FLAGS_ALL or flags < 0:
            raise ValueError(f"unknown flags {flags!r}: ipredir has SNIFF, "
                             "DROP, RECV_ONLY, SEND_ONLY, FAIL_CLOSED")
        self.flags = Flag(flags)
        self._opts = _clib.OpenOpts()
        self._opts.sz = ctypes.sizeof(_clib.OpenOpts)
        for name, v in (("queues", queues), ("queue_length", queue_length),
                        ("queue_time", queue_time), ("queue_size", queue_size),
                        ("busy_poll", busy_poll), ("snaplen", snaplen),
                        ("hang_time", hang_time)):
            if not isinstance(v, int) or v < 0 or v > 0xffffffff:
                raise ValueError(f"{name}={v!r}: want a non-negative integer")
            setattr(self._opts, name, v)
        self.auto_checksums = auto_checksums
        self._h = None
        self._batch = None
        self._abatch = None
        self._apending = collections.deque()
        self._rbuf = None
        self._rlen = ctypes.c_size_t()

    # ----------------------------------------------------- open/close ---

    def open(self):
        if self._h:
            raise RuntimeError("handle is already open")
        # A bad filter is a FilterError with its position, whatever the
        # privileges (ipr_open says only EINVAL).
        Filter(self.filter, self.layer).close()
        h = _clib.ipr_open_ex(self.filter.encode(), int(self.layer),
                              self.priority, int(self.flags),
                              ctypes.byref(self._opts))
        if not h:
            e = ctypes.get_errno() or errno.EIO
            if e == errno.EINVAL:
                raise IpredirError(e, "ipr_open", f"filter {self.filter!r}, "
                                   f"{self.layer!r}, priority "
                                   f"{self.priority}, flags {self.flags!r}, "
                                   "options " + ", ".join(
                                       f"{n}={getattr(self._opts, n)}"
                                       for n, _ in self._opts._fields_[1:]))
            if e == errno.EPERM:
                raise IpredirError(e, "ipr_open", "needs CAP_NET_ADMIN "
                                   "(run as root)")
            # what the library or the kernel said more (a filter beyond
            # the kernel's limits: which, and where)
            pos = ctypes.c_int(-1)
            more = (_clib.ipr_last_error(ctypes.byref(pos)) or b"").decode(
                errors="replace")
            if e == errno.E2BIG and pos.value >= 0:
                raise FilterError(self.filter, pos.value, more, err=e)
            raise IpredirError(e, "ipr_open", f"filter {self.filter!r}"
                               + (f" ({more})" if more else ""))
        self._h = h
        self._rbuf = ctypes.create_string_buffer(MTU_MAX + 1)
        return self

    @property
    def is_open(self):
        return bool(self._h)

    def close(self):
        """Remove the rules, answer what is still held, free the handle.
        Closing a closed handle does nothing."""
        h, self._h = self._h, None
        if h:
            rc = _clib.ipr_close(h)
            if rc < 0:
                raise IpredirError(rc, "ipr_close")

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            try:
                _clib.ipr_close(h)
            except (AttributeError, TypeError):
                pass   # interpreter shutdown: the process exit closes it

    def __enter__(self):
        if not self._h:
            self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    def _hh(self):
        h = self._h
        if not h:
            raise RuntimeError("handle is not open")
        return h

    def shutdown(self, how=Shutdown.BOTH):
        """Stop receiving (RECV: queued packets can still be read) and/or
        sending; wakes receivers blocked in other threads or tasks."""
        rc = _clib.ipr_shutdown(self._hh(), int(Shutdown(how)))
        if rc < 0:
            raise IpredirError(rc, "ipr_shutdown")

    @property
    def queue_count(self):
        return _clib.ipr_queue_count(self._hh())

    def fileno(self, queue=0):
        """The socket of @queue, to wait on (never read or close it)."""
        rc = _clib.ipr_queue_fd(self._hh(), queue)
        if rc < 0:
            raise IpredirError(rc, "ipr_queue_fd", f"queue {queue}")
        return rc

    def timeout(self, queue=0):
        """How long (ms) an event loop may wait on fileno(@queue) before
        its next recv_batch(timeout=0) on that queue is due; -1 if nothing
        is due.  Use it as select/poll's timeout (seconds: ms / 1000) and
        ask again after every wait: a loop that waits longer is taken for
        hung after the hang time."""
        ms = ctypes.c_int(-1)
        rc = _clib.ipr_queue_timeout(self._hh(), queue, ctypes.byref(ms))
        if rc < 0:
            raise IpredirError(rc, "ipr_queue_timeout", f"queue {queue}")
        return ms.value

    # -------------------------------------------------------- params ---

    def get_param(self, param):
        v = ctypes.c_uint64()
        rc = _clib.ipr_param_get(self._hh(), int(param), ctypes.byref(v))
        if rc < 0:
            raise IpredirError(rc, "ipr_param_get", f"param {param!r}")
        return v.value

    def set_param(self, param, value):
        rc = _clib.ipr_param_set(self._hh(), int(param), int(value))
        if rc < 0:
            raise IpredirError(rc, "ipr_param_set",
                               f"param {param!r} = {value!r}")

    def stats(self):
        st = _clib.Stats()
        rc = _clib.ipr_stats_get(self._hh(), ctypes.byref(st))
        if rc < 0:
            raise IpredirError(rc, "ipr_stats_get")
        return Stats(*(getattr(st, n) for n in Stats._fields))

    # ------------------------------------------------------- receive ---

    def recv(self, bufsize=MTU_MAX):
        """One packet of queue 0 (a copy the Packet owns).  Blocks; raises
        IpredirError(ESHUTDOWN) after shutdown."""
        h = self._hh()
        if bufsize > len(self._rbuf):
            self._rbuf = ctypes.create_string_buffer(bufsize)
        addr = Addr()
        while True:
            rc = _clib.ipr_recv(h, self._rbuf, bufsize,
                                ctypes.byref(self._rlen), ctypes.byref(addr))
            if rc != -errno.EINTR:
                break
        if rc < 0:
            detail = (f"packet of {self._rlen.value} bytes, buffer of "
                      f"{bufsize}") if rc == -errno.EMSGSIZE else ""
            raise IpredirError(rc, "ipr_recv", detail)
        n = self._rlen.value
        p = self.packet_class._view(
            memoryview(bytearray(memoryview(self._rbuf)[:n])), addr)
        return p

    def recv_batch(self, max=None, timeout=-1, queue=0, batch=None):
        """Up to @max packets of @queue in one system call, into @batch
        (default: the handle's own, reused by the next call).  @timeout in
        ms (-1 waits, 0 does not); returns the Batch (empty on timeout)."""
        h = self._hh()
        b = batch
        if b is None:
            b = self._batch
            if b is None or (max is not None and max > b.max):
                b = self._batch = Batch(64 if max is None else max,
                                        self.packet_class)
        m = b.max if max is None else max
        if not 1 <= m <= b.max:
            raise ValueError(f"max={m!r}: want 1..{b.max}")
        while True:
            rc = _clib.ipr_recv_batch(h, queue, b._base, b._cap, b._arr, m,
                                      timeout)
            if rc != -errno.EINTR:
                break
        if rc < 0:
            raise IpredirError(rc, "ipr_recv_batch", f"queue {queue}")
        b.n = rc
        b._views = [None] * b.max
        b._answered = False
        return b

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.recv()
        except IpredirError as e:
            if e.errno == errno.ESHUTDOWN:
                raise StopIteration from None
            raise

    # ---------------------------------------------------------- send ---

    def _prepare(self, p, checksums):
        """The bytes to pass on for @p, or None for a verdict only.  The
        checksums of a changed packet, or of a new one to inject, are
        recomputed unless @checksums (else auto_checksums) says not to."""
        if not p.addr.packet_id or p._dirty or p._exposed:
            if checksums if checksums is not None else self.auto_checksums:
                if p._parse()[0]:
                    p.recalculate_checksums()
            return p._mv
        return None

    def send(self, packet, checksums=None):
        """Pass a held packet on (verdict only if unmodified, else its new
        bytes, checksums recomputed unless checksums=False or the handle's
        auto_checksums is off), drop it if its verdict is Verdict.DROP, or
        inject a packet that is not held.  Returns its length."""
        h = self._hh()
        if packet.verdict == ANSWERED:
            raise ValueError("packet was answered already (send it again as "
                             "a new packet: Packet(bytes(p), ...))")
        if packet.verdict == Verdict.DROP:
            # A held packet is dropped; a new one is just not injected.
            return self.drop(packet) if packet.addr.packet_id else 0
        mv = self._prepare(packet, checksums)
        if mv is None:
            rc = _clib.ipr_send(h, None, 0, ctypes.byref(packet.addr))
        else:
            if not len(mv):
                raise ValueError("cannot send an empty packet")
            rc = _clib.ipr_send(h, _buffer_address(mv), len(mv),
                                ctypes.byref(packet.addr))
        if rc < 0:
            what = "pass on" if packet.addr.packet_id else "inject"
            raise IpredirError(rc, "ipr_send", f"{what} {packet!r}")
        if packet.addr.packet_id:
            packet.verdict = ANSWERED
        return len(packet._mv)

    def drop(self, packet):
        """Drop a held packet now."""
        rc = _clib.ipr_drop(self._hh(), ctypes.byref(packet.addr))
        if rc < 0:
            raise IpredirError(rc, "ipr_drop", repr(packet))
        packet.verdict = ANSWERED
        return 0

    def send_batch(self, packets, checksums=None):
        """Answer a Batch (every packet in it: passed on, replaced if
        modified, dropped if its verdict is Verdict.DROP) or a list of
        packets, in as few system calls as possible.  Returns the number
        answered."""
        h = self._hh()
        if isinstance(packets, Batch):
            b = packets
            if b._answered:
                raise ValueError("batch was answered already")
            arr, n = b._arr, b.n
            pending = None
            for i, v in enumerate(b._views[:n]):
                if v is None or not (v._dirty or v._exposed or
                                     v.verdict is not None):
                    continue   # untouched: passed on as it came
                if v.verdict is not None:
                    if v.verdict == ANSWERED:
                        pending = pending or []
                        pending.append(i)
                        continue
                    if v.verdict == Verdict.DROP:
                        arr[i].verdict = VERDICT_DROP
                        continue
                mv = self._prepare(v, checksums)
                if mv is not None:
                    d = arr[i]
                    d.data = _buffer_address(mv)
                    d.len = len(mv)
                    d.verdict = VERDICT_REPLACE
            if pending:
                keep = [i for i in range(n) if i not in set(pending)]
                tmp = (PacketDesc * len(keep))()
                for j, i in enumerate(keep):
                    tmp[j] = arr[i]
                arr, n = tmp, len(keep)
            rc = _clib.ipr_send_batch(h, arr, n) if n else 0
            b._answered = True
            if rc < 0:
                raise IpredirError(rc, "ipr_send_batch", f"{n} packets")
            for v in b._views[:b.n]:
                if v is not None and v.addr.packet_id:
                    v.verdict = ANSWERED
            return rc
        # New packets marked DROP are simply not injected.
        packets = [p for p in packets if p.addr.packet_id or
                   p.verdict != Verdict.DROP]
        arr = (PacketDesc * len(packets))()
        keep = []
        for i, p in enumerate(packets):
            if p.verdict == ANSWERED:
                raise ValueError(f"packet {i} was answered already")
            d = arr[i]
            d.addr = p.addr
            if p.verdict == Verdict.DROP:
                d.verdict = VERDICT_DROP
                continue
            mv = self._prepare(p, checksums)
            if mv is not None:
                keep.append(mv)
                d.data = _buffer_address(mv)
                d.len = len(mv)
                d.verdict = VERDICT_REPLACE
        rc = _clib.ipr_send_batch(h, arr, len(packets)) if packets else 0
        if rc < 0:
            raise IpredirError(rc, "ipr_send_batch", f"{len(packets)} packets")
        for p in packets[:rc]:
            if p.addr.packet_id:
                p.verdict = ANSWERED
        return rc

    def inject(self, data, outbound=True, if_idx=0, checksums=None):
        """Inject new packet bytes: outbound (routed as if this host sent
        them) or inbound (delivered to this host).  Checksums are
        recomputed as for send (checksums=False sends the bytes as they
        are)."""
        return self.send(Packet(data, outbound=outbound, if_idx=if_idx),
                         checksums=checksums)

    # ------------------------------------------------------- asyncio ---

    async def _readable(self, queue):
        # Until the socket is readable or the next receive call is due
        # (timeout()): a loop that only waited for the socket would be
        # taken for hung after the hang time, and the kernel would then
        # pass the queue's packets by, so the socket would never wake it.
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fd = self.fileno(queue)

        def ready():
            if not fut.done():
                fut.set_result(None)
        loop.add_reader(fd, ready)
        ms = self.timeout(queue)
        timer = loop.call_later(ms / 1000, ready) if ms >= 0 else None
        try:
            await fut
        finally:
            loop.remove_reader(fd)
            if timer:
                timer.cancel()

    async def recv_batch_async(self, max=None, queue=0, batch=None):
        """recv_batch that waits in the event loop: returns a non-empty
        Batch.  One task per queue may wait at a time."""
        while True:
            b = self.recv_batch(max, 0, queue, batch)
            if b.n:
                return b
            await self._readable(queue)

    async def recv_async(self, queue=0):
        """One packet (a copy it owns), waiting in the event loop."""
        if self._apending:
            return self._apending.popleft()
        if self._abatch is None:
            self._abatch = Batch(64, self.packet_class)
        b = await self.recv_batch_async(None, queue, self._abatch)
        cls = self.packet_class
        for i in range(b.n):
            d = b._arr[i]
            off = d.data - b._base
            self._apending.append(_copy_packet(cls, b._mv[off:off + d.len],
                                               d.addr))
        return self._apending.popleft()

    async def send_async(self, packet, checksums=None):
        """send() as a coroutine (a verdict never waits for the kernel)."""
        return self.send(packet, checksums)

    async def send_batch_async(self, packets, checksums=None):
        return self.send_batch(packets, checksums)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.recv_async()
        except IpredirError as e:
            if e.errno == errno.ESHUTDOWN:
                raise StopAsyncIteration from None
            raise

    async def __aenter__(self):
        return self.__enter__()

    async def __aexit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "open" if self._h else "closed"
        return (f"<ipredir.Handle {state} filter={self.filter!r} "
                f"layer={self.layer.name} priority={self.priority} "
                f"flags={self.flags!r}>")
