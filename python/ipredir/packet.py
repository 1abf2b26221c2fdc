# SPDX-License-Identifier: LGPL-2.1-or-later
"""Packets and their header views.

A Packet is a view over the bytes of one IP packet (a memoryview that may
point into a batch buffer: no copy) and the metadata the kernel gave with it
(a struct ipr_addr).  Headers are parsed on first use, with the same rules
as the library's ipr_packet_parse (tests/py/test_packet.py compares the two).
Every setter writes the wire bytes at once and marks the packet modified:
Handle.send then passes on the new bytes (with checksums recomputed unless
asked not to), while an unmodified packet goes back as a verdict only.
"""

import ctypes
import enum
import socket
import struct

from . import _clib
from ._clib import (ADDR_CSUM_PARTIAL, ADDR_GSO, ADDR_IPV6, ADDR_LOOPBACK,
                    ADDR_OUTBOUND, ADDR_SNIFFED, ADDR_TRUNCATED, Addr)


class Direction(enum.IntEnum):
    """Values as pydivert's Direction."""
    OUTBOUND = 0
    INBOUND = 1


class Layer(enum.IntEnum):
    NETWORK = 0
    NETWORK_FORWARD = 1


class Verdict(enum.IntEnum):
    PASS = 0     # pass the held packet on (replaced if it was modified)
    REPLACE = 1  # pass on the packet's current bytes
    DROP = 2


class Protocol(enum.IntEnum):
    HOPOPT = 0
    ICMP = 1
    TCP = 6
    UDP = 17
    ROUTING = 43
    FRAGMENT = 44
    AH = 51
    ICMPV6 = 58
    NONE = 59
    DSTOPTS = 60


_EXT6 = frozenset((0, 43, 44, 51, 60))
_IPV6_EXT_MAX = 16

# Parse result: (ip version or 0, transport protocol, l3 length (= offset of
# the transport header), transport kind (0 none, 6 tcp, 17 udp, 1 icmp,
# 58 icmpv6), payload offset, end (IP length clamped to the data),
# fragment, fragment offset in bytes)
_BAD = (0, 0, 0, 0, 0, 0, False, 0)


def _parse(mv):
    """The rules of lib/packet.c's ipr_packet_parse, in Python."""
    n = len(mv)
    if n == 0:
        return _BAD
    v = mv[0] >> 4
    if v == 4:
        ihl = (mv[0] & 0x0f) * 4
        if n < 20 or ihl < 20 or ihl > n:
            return _BAD
        total = mv[2] << 8 | mv[3]
        if total < ihl:
            return _BAD
        end = total if total < n else n
        proto = mv[9]
        fo = ((mv[6] << 8 | mv[7]) & 0x1fff) * 8
        frag = bool(mv[6] & 0x20) or fo != 0
        off = ihl
        l4_ok = fo == 0
        v6 = False
    elif v == 6:
        if n < 40:
            return _BAD
        total = 40 + (mv[4] << 8 | mv[5])
        end = total if total < n else n
        proto = mv[6]
        off = 40
        frag = False
        fo = 0
        l4_ok = False
        v6 = True
        for i in range(_IPV6_EXT_MAX + 1):
            if proto not in _EXT6:
                l4_ok = proto != 59
                break
            if i == _IPV6_EXT_MAX:
                break
            room = end - off
            if proto == 44:
                hlen = 8
            elif room < 2:
                break
            elif proto == 51:
                hlen = (mv[off + 1] + 2) * 4
            else:
                hlen = (mv[off + 1] + 1) * 8
            if room < hlen:
                break
            if proto == 44:
                frag = True
                fo = (mv[off + 2] << 8 | mv[off + 3]) & 0xfff8
            proto = mv[off]
            off += hlen
            if frag and fo != 0:
                break
        if frag and fo != 0:
            l4_ok = False
    else:
        return _BAD
    kind = 0
    data = off
    if l4_ok:
        room = end - off
        if proto == 6:
            if room >= 20:
                doff = (mv[off + 12] >> 4) * 4
                if 20 <= doff <= room:
                    kind = 6
                    data = off + doff
        elif proto == 17:
            if room >= 8:
                kind = 17
                data = off + 8
        elif proto == 1 or proto == 58:
            if v6 == (proto == 58) and room >= 8:
                kind = proto
                data = off + 8
    return (v, proto, off, kind, data, end, frag, fo)


# ------------------------------------------------------------ fields ---

class _Field:
    """An unsigned big-endian field at a fixed offset of a header, or some
    bits of it (mask, then shift)."""
    __slots__ = ("st", "off", "mask", "shift", "doc")

    def __init__(self, fmt, off, mask=0, shift=0, doc=None):
        self.st = struct.Struct("!" + fmt)
        self.off = off
        self.mask = mask
        self.shift = shift
        self.doc = doc

    def __get__(self, h, cls=None):
        if h is None:
            return self
        v = self.st.unpack_from(h._p._mv, h._o + self.off)[0]
        if self.mask:
            v = (v & self.mask) >> self.shift
        return v

    def __set__(self, h, val):
        val = int(val)
        p = h._p
        if self.mask:
            lim = self.mask >> self.shift
            if not 0 <= val <= lim:
                raise ValueError(f"{val} does not fit this field "
                                 f"(0..{lim})")
            old = self.st.unpack_from(p._mv, h._o + self.off)[0]
            val = (old & ~self.mask) | (val << self.shift)
        elif not 0 <= val < 1 << (8 * self.st.size):
            # Checked first: struct zeroes the bytes before it refuses.
            raise ValueError(f"{val} does not fit a {self.st.size * 8}-bit "
                             "field")
        self.st.pack_into(p._mv, h._o + self.off, val)
        p._dirty = True


class _Flag(_Field):
    """One bit, as a bool."""
    __slots__ = ()

    def __init__(self, off, bit, doc=None):
        super().__init__("B", off, bit, bit.bit_length() - 1, doc)

    def __get__(self, h, cls=None):
        if h is None:
            return self
        return bool(_Field.__get__(self, h, cls))

    def __set__(self, h, val):
        _Field.__set__(self, h, 1 if val else 0)


class Header:
    """A view of one header of a packet: reads and writes the packet's
    bytes, so a change is seen by the packet at once."""
    __slots__ = ("_p", "_o")

    def __init__(self, packet, offset=0):
        self._p = packet
        self._o = offset

    @property
    def raw(self):
        """The bytes from this header to the end of the packet (a
        memoryview: writing to it changes the packet)."""
        p = self._p
        p._exposed = True
        return p._mv[self._o:]

    @raw.setter
    def raw(self, val):
        p = self._p
        if len(val) == len(p._mv) - self._o:
            p._mv[self._o:] = val
            p._dirty = True
            p._parsed = None
        else:
            p._replace_tail(self._o, bytes(val))

    def __repr__(self):
        fields = ", ".join(f"{n}={getattr(self, n)!r}"
                           for n in self._repr_fields)
        return f"{type(self).__name__}({fields})"

    _repr_fields = ()

    def __eq__(self, other):
        return type(self) is type(other) and \
            bytes(self._p._mv[self._o:]) == bytes(other._p._mv[other._o:])

    __hash__ = None


class _IPHeader(Header):
    __slots__ = ()
    _af = 0
    _a = slice(0, 0)
    _b = slice(0, 0)

    def _addr(self, s):
        return socket.inet_ntop(self._af, bytes(self._p._mv[s]))

    def _set_addr(self, s, val):
        try:
            b = socket.inet_pton(self._af, str(val))
        except (OSError, ValueError):
            fam = "IPv4" if self._af == socket.AF_INET else "IPv6"
            raise ValueError(f"not an {fam} address: {val!r}") from None
        self._p._mv[s] = b
        self._p._dirty = True

    @property
    def src_addr(self):
        return self._addr(self._a)

    @src_addr.setter
    def src_addr(self, val):
        self._set_addr(self._a, val)

    @property
    def dst_addr(self):
        return self._addr(self._b)

    @dst_addr.setter
    def dst_addr(self, val):
        self._set_addr(self._b, val)


class IPv4Header(_IPHeader):
    __slots__ = ()
    __match_args__ = ("src_addr", "dst_addr", "protocol", "ident", "ttl")
    _af = socket.AF_INET
    _a = slice(12, 16)
    _b = slice(16, 20)
    _repr_fields = ("src_addr", "dst_addr", "protocol", "ttl", "ident",
                    "packet_len", "df", "mf", "frag_offset", "cksum")

    version = _Field("B", 0, 0xf0, 4)
    hdr_len = _Field("B", 0, 0x0f, 0, "header length in 32-bit words")
    tos = _Field("B", 1)
    dscp = _Field("B", 1, 0xfc, 2)
    diff_serv = dscp
    ecn = _Field("B", 1, 0x03, 0)
    packet_len = _Field("H", 2, doc="total length field")
    length = packet_len
    ident = _Field("H", 4)
    id = ident
    flags = _Field("B", 6, 0xe0, 5)
    reserved = _Flag(6, 0x80)
    evil = reserved
    df = _Flag(6, 0x40)
    mf = _Flag(6, 0x20)
    frag_offset = _Field("H", 6, 0x1fff, 0, "in units of 8 bytes")
    ttl = _Field("B", 8)
    protocol = _Field("B", 9)
    cksum = _Field("H", 10)
    checksum = cksum

    @property
    def header_len(self):
        return (self._p._mv[self._o] & 0x0f) * 4


class IPv6Header(_IPHeader):
    __slots__ = ()
    __match_args__ = ("src_addr", "dst_addr", "next_hdr", "hop_limit")
    _af = socket.AF_INET6
    _a = slice(8, 24)
    _b = slice(24, 40)
    _repr_fields = ("src_addr", "dst_addr", "next_hdr", "hop_limit",
                    "payload_len", "traffic_class", "flow_label")

    version = _Field("B", 0, 0xf0, 4)
    traffic_class = _Field("H", 0, 0x0ff0, 4)
    diff_serv = _Field("H", 0, 0x0fc0, 6)
    dscp = diff_serv
    ecn = _Field("H", 0, 0x0030, 4)
    flow_label = _Field("I", 0, 0x000fffff, 0)
    payload_len = _Field("H", 4, doc="payload length field")
    next_hdr = _Field("B", 6)
    hop_limit = _Field("B", 7)
    header_len = 40

    @property
    def packet_len(self):
        return 40 + self.payload_len


class _L4Header(Header):
    __slots__ = ()
    header_len = 8

    @property
    def payload(self):
        """The transport payload as bytes (up to the IP length)."""
        p = self._p
        t = p._parse()
        return bytes(p._mv[t[4]:t[5]])

    @payload.setter
    def payload(self, val):
        self._p.payload = val


class _Ports:
    __slots__ = ()
    src_port = _Field("H", 0)
    dst_port = _Field("H", 2)


class TCPHeader(_Ports, _L4Header):
    __slots__ = ()
    __match_args__ = ("src_port", "dst_port", "seq_num", "ack_num", "flags")
    _repr_fields = ("src_port", "dst_port", "seq_num", "ack_num",
                    "flag_names", "window_size", "cksum")

    seq_num = _Field("I", 4)
    ack_num = _Field("I", 8)
    data_offset = _Field("B", 12, 0xf0, 4, "header length in 32-bit words")
    reserved = _Field("B", 12, 0x0e, 1)
    ns = _Flag(12, 0x01)
    flags = _Field("B", 13, doc="FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 "
                   "ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80")
    control_bits = _Field("H", 12, 0x01ff, 0)
    cwr = _Flag(13, 0x80)
    ece = _Flag(13, 0x40)
    urg = _Flag(13, 0x20)
    ack = _Flag(13, 0x10)
    psh = _Flag(13, 0x08)
    rst = _Flag(13, 0x04)
    syn = _Flag(13, 0x02)
    fin = _Flag(13, 0x01)
    window_size = _Field("H", 14)
    window = window_size
    cksum = _Field("H", 16)
    checksum = cksum
    urg_ptr = _Field("H", 18)

    @property
    def header_len(self):
        return (self._p._mv[self._o + 12] >> 4) * 4

    @property
    def flag_names(self):
        f = self.flags
        return "".join(c for c, b in zip("FSRPAUEC", range(8))
                       if f >> b & 1)


class UDPHeader(_Ports, _L4Header):
    __slots__ = ()
    __match_args__ = ("src_port", "dst_port", "payload_len")
    _repr_fields = ("src_port", "dst_port", "length", "cksum")

    length = _Field("H", 4, doc="length field (header and payload)")
    cksum = _Field("H", 6)
    checksum = cksum

    @property
    def payload_len(self):
        return self.length - 8

    @payload_len.setter
    def payload_len(self, val):
        self.length = val + 8


class ICMPHeader(_L4Header):
    """ICMP and ICMPv6: type, code, checksum and the 4-byte rest of the
    header (body); the payload follows it (as in ipr_packet_parse)."""
    __slots__ = ()
    __match_args__ = ("type", "code", "cksum")
    _repr_fields = ("type", "code", "cksum", "body")

    type = _Field("B", 0)
    code = _Field("B", 1)
    cksum = _Field("H", 2)
    checksum = cksum
    body = _Field("I", 4)


class ICMPv4Header(ICMPHeader):
    __slots__ = ()


class ICMPv6Header(ICMPHeader):
    __slots__ = ()


# ------------------------------------------------------------ packets ---

def _buffer_address(mv):
    """Address of a writable buffer's first byte (for a C call)."""
    return ctypes.addressof(ctypes.c_char.from_buffer(mv))


class Packet:
    """One IP packet and its metadata.

    Packet(data, outbound=True, if_idx=0) makes a new packet to inject;
    received packets come from Handle.recv / recv_batch.  .raw is a
    writable memoryview of the bytes; .addr the struct ipr_addr.
    """
    __slots__ = ("_mv", "addr", "_parsed", "_dirty", "_exposed", "verdict",
                 "__weakref__")

    _IPV4 = IPv4Header
    _IPV6 = IPv6Header
    _TCP = TCPHeader
    _UDP = UDPHeader
    _ICMP4 = ICMPv4Header
    _ICMP6 = ICMPv6Header

    def __init__(self, data=b"", outbound=True, if_idx=0, addr=None):
        self._mv = memoryview(bytearray(data))
        if addr is None:
            addr = Addr()
            addr.flags = ADDR_OUTBOUND if outbound else 0
            addr.if_idx = if_idx
            if len(data) and data[0] >> 4 == 6:
                addr.flags |= ADDR_IPV6
        self.addr = addr
        self._parsed = None
        self._dirty = False
        self._exposed = False
        self.verdict = None

    @classmethod
    def _view(cls, mv, addr):
        p = cls.__new__(cls)
        p._mv = mv
        p.addr = addr
        p._parsed = None
        p._dirty = False
        p._exposed = False
        p.verdict = None
        return p

    def _parse(self):
        t = self._parsed
        if t is None:
            t = self._parsed = _parse(self._mv)
        return t

    # -------------------------------------------------------- bytes ---

    @property
    def raw(self):
        """The packet bytes, a writable memoryview.  Writes through it are
        passed on too (a packet whose raw was taken is sent as modified)."""
        self._exposed = True
        return self._mv

    @raw.setter
    def raw(self, val):
        self._mv = memoryview(bytearray(val))
        self._parsed = None
        self._dirty = True

    def __bytes__(self):
        return bytes(self._mv)

    def __len__(self):
        return len(self._mv)

    @property
    def modified(self):
        """True once a field, the payload or the bytes were changed."""
        return self._dirty or self._exposed

    def _replace_tail(self, off, tail):
        """New bytes from @off on; the IP (and UDP) length fields follow."""
        b = bytearray(self._mv[:off])
        b += tail
        self._mv = memoryview(b)
        self._dirty = True
        self._parsed = None
        t = self._parse()
        n = len(b)
        if t[0] == 4 and n >= 4:
            struct.pack_into("!H", b, 2, n)
        elif t[0] == 6 and n >= 40:
            struct.pack_into("!H", b, 4, n - 40)
        self._parsed = None
        t = self._parse()
        if t[3] == 17:
            struct.pack_into("!H", b, t[2] + 4, n - t[2])

    # ------------------------------------------------------- headers ---

    @property
    def address_family(self):
        v = self._parse()[0]
        return socket.AF_INET if v == 4 else socket.AF_INET6 if v == 6 \
            else None

    @property
    def protocol(self):
        """(transport protocol number, offset of its header), as pydivert;
        (None, None) if the packet is not IP."""
        t = self._parse()
        return (t[1], t[2]) if t[0] else (None, None)

    @property
    def ipv4(self):
        return self._IPV4(self, 0) if self._parse()[0] == 4 else None

    @property
    def ipv6(self):
        return self._IPV6(self, 0) if self._parse()[0] == 6 else None

    @property
    def ip(self):
        v = self._parse()[0]
        return self._IPV4(self, 0) if v == 4 else \
            self._IPV6(self, 0) if v == 6 else None

    @property
    def tcp(self):
        t = self._parse()
        return self._TCP(self, t[2]) if t[3] == 6 else None

    @property
    def udp(self):
        t = self._parse()
        return self._UDP(self, t[2]) if t[3] == 17 else None

    @property
    def icmpv4(self):
        t = self._parse()
        return self._ICMP4(self, t[2]) if t[3] == 1 else None

    @property
    def icmpv6(self):
        t = self._parse()
        return self._ICMP6(self, t[2]) if t[3] == 58 else None

    @property
    def icmp(self):
        return self.icmpv4 or self.icmpv6

    def _ip_or_none(self):
        v = self._parse()[0]
        return self._IPV4(self, 0) if v == 4 else \
            self._IPV6(self, 0) if v == 6 else None

    @property
    def src_addr(self):
        ip = self._ip_or_none()
        return ip.src_addr if ip else None

    @src_addr.setter
    def src_addr(self, val):
        ip = self._ip_or_none()
        if ip is None:
            raise AttributeError("not an IP packet: no src_addr to set")
        ip.src_addr = val

    @property
    def dst_addr(self):
        ip = self._ip_or_none()
        return ip.dst_addr if ip else None

    @dst_addr.setter
    def dst_addr(self, val):
        ip = self._ip_or_none()
        if ip is None:
            raise AttributeError("not an IP packet: no dst_addr to set")
        ip.dst_addr = val

    def _ports(self):
        t = self._parse()
        if t[3] == 6 or t[3] == 17:
            return t[2]
        return None

    @property
    def src_port(self):
        o = self._ports()
        return None if o is None else self._mv[o] << 8 | self._mv[o + 1]

    @src_port.setter
    def src_port(self, val):
        o = self._ports()
        if o is None:
            raise AttributeError("not a TCP or UDP packet: no src_port")
        self._TCP(self, o).src_port = val

    @property
    def dst_port(self):
        o = self._ports()
        return None if o is None else \
            self._mv[o + 2] << 8 | self._mv[o + 3]

    @dst_port.setter
    def dst_port(self, val):
        o = self._ports()
        if o is None:
            raise AttributeError("not a TCP or UDP packet: no dst_port")
        self._TCP(self, o).dst_port = val

    def _payload_off(self):
        t = self._parse()
        return t[4]

    @property
    def payload(self):
        """The transport payload (after the TCP/UDP/ICMP header, else after
        the IP headers), as bytes; None if the packet is not IP."""
        t = self._parse()
        if not t[0]:
            return None
        return bytes(self._mv[t[4]:t[5]])

    @payload.setter
    def payload(self, val):
        t = self._parse()
        if not t[0]:
            raise AttributeError("not an IP packet: no payload to set")
        val = bytes(val)
        start, end = t[4], t[5]
        if len(val) == end - start:
            self._mv[start:end] = val
            self._dirty = True
        else:
            self._replace_tail(start, val)

    # ------------------------------------------------------ metadata ---

    @property
    def direction(self):
        return Direction.OUTBOUND if self.addr.flags & ADDR_OUTBOUND \
            else Direction.INBOUND

    @direction.setter
    def direction(self, d):
        if Direction(d) == Direction.OUTBOUND:
            self.addr.flags |= ADDR_OUTBOUND
        else:
            self.addr.flags &= ~ADDR_OUTBOUND

    @property
    def is_outbound(self):
        return bool(self.addr.flags & ADDR_OUTBOUND)

    @property
    def is_inbound(self):
        return not self.addr.flags & ADDR_OUTBOUND

    @property
    def is_loopback(self):
        return bool(self.addr.flags & ADDR_LOOPBACK)

    @property
    def is_sniffed(self):
        return bool(self.addr.flags & ADDR_SNIFFED)

    @property
    def is_gso(self):
        return bool(self.addr.flags & ADDR_GSO)

    @property
    def is_truncated(self):
        return bool(self.addr.flags & ADDR_TRUNCATED)

    @property
    def csum_partial(self):
        return bool(self.addr.flags & ADDR_CSUM_PARTIAL)

    @property
    def if_idx(self):
        return self.addr.if_idx

    @if_idx.setter
    def if_idx(self, v):
        self.addr.if_idx = v

    @property
    def timestamp(self):
        """ns since the epoch"""
        return self.addr.timestamp

    @property
    def mark(self):
        return self.addr.mark

    @property
    def uid(self):
        return self.addr.uid if self.addr.flags & _clib.ADDR_UID else None

    @property
    def gid(self):
        return self.addr.gid if self.addr.flags & _clib.ADDR_GID else None

    @property
    def layer(self):
        return Layer(self.addr.layer)

    @property
    def held(self):
        """True while the kernel holds the packet for a verdict."""
        return self.addr.packet_id != 0

    # ----------------------------------------------------- checksums ---

    def recalculate_checksums(self, flags=0):
        """Recompute the IPv4 header checksum and the TCP/UDP/ICMP(v6)
        checksum (ipr_csum_calc; flags: CSUM_NO_*).  Returns how many
        checksums it computed."""
        t = self._parse()
        if not t[0]:
            raise ValueError("not an IP packet: no checksum to compute")
        n = 0
        if t[0] == 4 and not flags & _clib.CSUM_NO_IP:
            n += 1
        kind = t[3]
        if (kind == 6 and not flags & _clib.CSUM_NO_TCP) or \
           (kind == 17 and not flags & _clib.CSUM_NO_UDP) or \
           (kind == 1 and not flags & _clib.CSUM_NO_ICMP) or \
           (kind == 58 and not flags & _clib.CSUM_NO_ICMPV6):
            n += 1
        mv = self._mv
        rc = _clib.ipr_csum_calc(_buffer_address(mv), len(mv), flags)
        if rc < 0:
            if t[6] and t[7]:
                # A later fragment: only the IP header has a checksum.
                rc = _clib.ipr_csum_calc(
                    _buffer_address(mv), len(mv), flags | 0x1e)
                n = 1 if t[0] == 4 and not flags & _clib.CSUM_NO_IP else 0
            if rc < 0:
                from .errors import IpredirError
                raise IpredirError(rc, "ipr_csum_calc")
        self._dirty = True
        return n

    @property
    def checksums_valid(self):
        """True if recomputing the checksums would change nothing."""
        if not self._parse()[0]:
            return False
        other = Packet(self._mv)
        other.recalculate_checksums()
        return other._mv == self._mv

    is_checksum_valid = checksums_valid

    # --------------------------------------------------------- misc ---

    def matches(self, filter, layer=Layer.NETWORK):
        """Does the packet match @filter (text or a Filter)?"""
        from .filter import Filter
        f = filter if isinstance(filter, Filter) else Filter(filter, layer)
        return f.eval(self)

    def __repr__(self):
        t = self._parse()
        d = "out" if self.is_outbound else "in"
        if not t[0]:
            return f"<Packet {d} {len(self._mv)} bytes, not IP>"
        proto = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}.get(
            t[3], f"proto {t[1]}")
        src, dst = self.src_addr, self.dst_addr
        if t[3] in (6, 17):
            if t[0] == 6:
                src, dst = f"[{src}]", f"[{dst}]"
            src += f":{self.src_port}"
            dst += f":{self.dst_port}"
        extra = f" [{self.tcp.flag_names}]" if t[3] == 6 else ""
        return (f"<Packet {d} if={self.addr.if_idx} {proto} {src} > {dst}"
                f"{extra} len={len(self._mv)} payload={t[5] - t[4]}>")
