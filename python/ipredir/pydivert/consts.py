# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert's enumerations, with WinDivert's numbers, so that code which
passes them around (or their values) runs unchanged.  What Linux does not
have is listed too, and refused with UnsupportedError where it is used."""

from enum import IntEnum, IntFlag

from ..packet import Direction, Protocol  # same values as pydivert's


class Layer(IntEnum):
    NETWORK = 0          # ipredir.Layer.NETWORK
    NETWORK_FORWARD = 1  # ipredir.Layer.NETWORK_FORWARD
    FLOW = 2             # Windows only
    SOCKET = 3           # Windows only
    REFLECT = 4          # Windows only


class Flag(IntFlag):
    DEFAULT = 0
    SNIFF = 1
    DROP = 2
    RECV_ONLY = 4
    SEND_ONLY = 8
    NO_INSTALL = 16      # nothing to install on Linux: accepted, no effect
    FRAGMENTS = 32       # Windows only


class RecvFlag(IntEnum):
    DEFAULT = 0
    NO_BLOCK = 1


class Param(IntEnum):
    QUEUE_LEN = 0
    QUEUE_TIME = 1
    QUEUE_SIZE = 2
    VERSION_MAJOR = 3
    VERSION_MINOR = 4


class CalcChecksumsOption(IntFlag):
    NO_IP_CHECKSUM = 1
    NO_ICMP_CHECKSUM = 2
    NO_ICMPV6_CHECKSUM = 4
    NO_TCP_CHECKSUM = 8
    NO_UDP_CHECKSUM = 16
    NO_REPLACE = 2048


IPV6_EXT_HEADERS = {Protocol.HOPOPT, Protocol.ROUTING, Protocol.FRAGMENT,
                    Protocol.DSTOPTS, Protocol.AH}

__all__ = ["Layer", "Flag", "RecvFlag", "Param", "CalcChecksumsOption",
           "Direction", "Protocol", "IPV6_EXT_HEADERS"]
