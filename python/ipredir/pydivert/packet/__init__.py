# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert.Packet on ipredir: the same constructor, properties and
methods, over ipredir's packet views.  Differences are in python/README.md;
Windows-only parts raise UnsupportedError."""

from ... import _clib
from ...errors import UnsupportedError
from ...packet import Packet as _Packet
from ...packet import IPv4Header, IPv6Header, TCPHeader, UDPHeader
from ..consts import CalcChecksumsOption, Direction, Layer
from .icmp import ICMPHeader, ICMPv4Header, ICMPv6Header

_CSUM_MAP = (
    (CalcChecksumsOption.NO_IP_CHECKSUM, _clib.CSUM_NO_IP),
    (CalcChecksumsOption.NO_ICMP_CHECKSUM, _clib.CSUM_NO_ICMP),
    (CalcChecksumsOption.NO_ICMPV6_CHECKSUM, _clib.CSUM_NO_ICMPV6),
    (CalcChecksumsOption.NO_TCP_CHECKSUM, _clib.CSUM_NO_TCP),
    (CalcChecksumsOption.NO_UDP_CHECKSUM, _clib.CSUM_NO_UDP),
)


class Packet(_Packet):
    """A packet as pydivert has it: Packet(raw, interface=(ifidx, subifidx),
    direction=Direction.OUTBOUND, ...).  A received packet that is neither
    sent nor kept (no reference left) is dropped at once, as WinDivert has
    already taken it out of the stack."""

    __slots__ = ("_owner", "_impostor")

    _ICMP4 = ICMPv4Header
    _ICMP6 = ICMPv6Header

    __match_args__ = ("ipv4", "ipv6", "tcp", "udp", "icmpv4", "icmpv6",
                      "payload", "direction", "src_addr", "dst_addr",
                      "src_port", "dst_port")

    def __init__(self, raw, interface=None, direction=Direction.OUTBOUND,
                 timestamp=0, loopback=False, impostor=False, sniffed=False,
                 ip_checksum=False, tcp_checksum=False, udp_checksum=False,
                 layer=Layer.NETWORK, event=0, flow=None, socket=None,
                 reflect=None):
        if Layer(layer) not in (Layer.NETWORK, Layer.NETWORK_FORWARD):
            raise UnsupportedError(
                f"{Layer(layer)!r} is a WinDivert layer of Windows only: "
                "ipredir (Linux) has NETWORK and NETWORK_FORWARD")
        if flow is not None or socket is not None or reflect is not None:
            raise UnsupportedError("flow, socket and reflect metadata are "
                                   "Windows only")
        super().__init__(raw, outbound=Direction(direction) ==
                         Direction.OUTBOUND)
        if interface is not None:
            self.interface = interface
        if loopback:
            self.addr.flags |= _clib.ADDR_LOOPBACK
        if sniffed:
            self.addr.flags |= _clib.ADDR_SNIFFED
        self.addr.layer = int(layer)
        self.addr.timestamp = timestamp
        self._owner = None
        self._impostor = bool(impostor)

    @classmethod
    def _view(cls, mv, addr):
        p = super()._view(mv, addr)
        p._owner = None
        p._impostor = False
        return p

    def __del__(self):
        # WinDivert semantics: a received packet not sent is gone.  Here it
        # is held by the kernel until answered: drop it now rather than at
        # the queue time, so that the queue never fills with the packets a
        # firewall script throws away.
        h = self._owner
        if h is not None and self.verdict is None and self.addr.packet_id \
           and h._h:
            try:
                h.drop(self)
            except Exception:  # noqa: BLE001 - nothing to report it to
                pass

    # ---------------------------------------------- pydivert metadata ---

    @property
    def interface(self):
        """(interface index, sub-interface index); the second is always 0
        on Linux."""
        return (self.addr.if_idx, 0)

    @interface.setter
    def interface(self, val):
        idx, _sub = val
        self.addr.if_idx = idx

    @property
    def timestamp(self):
        """ns since the epoch (WinDivert: a QueryPerformanceCounter
        value)."""
        return self.addr.timestamp

    @timestamp.setter
    def timestamp(self, v):
        self.addr.timestamp = v

    @property
    def is_loopback(self):
        return bool(self.addr.flags & _clib.ADDR_LOOPBACK)

    @is_loopback.setter
    def is_loopback(self, v):
        if v:
            self.addr.flags |= _clib.ADDR_LOOPBACK
        else:
            self.addr.flags &= ~_clib.ADDR_LOOPBACK

    @property
    def is_impostor(self):
        """Always False for received packets: a handle never sees what it
        (or a handle of lower priority) injected."""
        return self._impostor

    @is_impostor.setter
    def is_impostor(self, v):
        self._impostor = bool(v)

    @property
    def is_sniffed(self):
        return bool(self.addr.flags & _clib.ADDR_SNIFFED)

    @is_sniffed.setter
    def is_sniffed(self, v):
        if v:
            self.addr.flags |= _clib.ADDR_SNIFFED
        else:
            self.addr.flags &= ~_clib.ADDR_SNIFFED

    def _csum_ok(self):
        return not self.addr.flags & (_clib.ADDR_CSUM_PARTIAL |
                                      _clib.ADDR_CSUM_UNVERIFIED)

    @property
    def ip_checksum(self):
        return self._csum_ok()

    @property
    def tcp_checksum(self):
        return self._csum_ok()

    @property
    def udp_checksum(self):
        return self._csum_ok()

    @property
    def layer(self):
        return Layer(self.addr.layer)

    @layer.setter
    def layer(self, v):
        if Layer(v) not in (Layer.NETWORK, Layer.NETWORK_FORWARD):
            raise UnsupportedError(f"{Layer(v)!r} is Windows only")
        self.addr.layer = int(v)

    event = 0
    flow = None
    socket = None
    reflect = None

    @property
    def wd_addr(self):
        raise UnsupportedError(
            "WINDIVERT_ADDRESS is Windows only: ipredir's metadata is "
            "packet.addr (struct ipr_addr)")

    # ------------------------------------------------ pydivert payload ---

    @property
    def payload(self):
        """TCP/UDP/ICMP payload (ICMP: after its first 4 bytes, as
        pydivert); None without one of those headers."""
        t = self._parse()
        k = t[3]
        if k == 6 or k == 17:
            return bytes(self._mv[t[4]:t[5]])
        if k == 1 or k == 58:
            return bytes(self._mv[t[2] + 4:t[5]])
        return None

    @payload.setter
    def payload(self, val):
        t = self._parse()
        k = t[3]
        if k == 6 or k == 17:
            _Packet.payload.fset(self, val)
        elif k == 1 or k == 58:
            self.icmp.payload = val

    def recalculate_checksums(self, flags=0):
        flags = int(flags)
        if flags & CalcChecksumsOption.NO_REPLACE:
            raise UnsupportedError("CalcChecksumsOption.NO_REPLACE is not "
                                   "supported: checksums are always "
                                   "replaced")
        f = 0
        for wd, ipr in _CSUM_MAP:
            if flags & wd:
                f |= ipr
        return super().recalculate_checksums(f)

    def matches(self, filter, layer=Layer.NETWORK):
        if Layer(layer) not in (Layer.NETWORK, Layer.NETWORK_FORWARD):
            raise UnsupportedError(f"{Layer(layer)!r} is Windows only")
        return super().matches(filter, int(layer))

    def __repr__(self):
        return super().__repr__().replace("<Packet", "<pydivert.Packet", 1)


__all__ = ["Packet", "IPv4Header", "IPv6Header", "TCPHeader", "UDPHeader",
           "ICMPHeader", "ICMPv4Header", "ICMPv6Header"]
