# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert.packet.icmp: ICMP header views as pydivert has them: a 4-byte
header (type, code, checksum), the rest of the ICMP header is payload."""
from ... import packet as _p


class ICMPHeader(_p.ICMPHeader):
    __slots__ = ()
    header_len = 4

    @property
    def payload(self):
        p = self._p
        return bytes(p._mv[self._o + 4:p._parse()[5]])

    @payload.setter
    def payload(self, val):
        p = self._p
        start, end = self._o + 4, p._parse()[5]
        val = bytes(val)
        if len(val) == end - start:
            p._mv[start:end] = val
            p._dirty = True
        else:
            p._replace_tail(start, val)


class ICMPv4Header(ICMPHeader):
    __slots__ = ()


class ICMPv6Header(ICMPHeader):
    __slots__ = ()


__all__ = ["ICMPHeader", "ICMPv4Header", "ICMPv6Header"]
