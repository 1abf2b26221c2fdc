# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert.packet.udp: the UDP header view (ipredir's)."""
from ...packet import UDPHeader

__all__ = ["UDPHeader"]
