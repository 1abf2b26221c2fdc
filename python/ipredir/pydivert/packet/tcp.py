# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert.packet.tcp: the TCP header view (ipredir's)."""
from ...packet import TCPHeader

__all__ = ["TCPHeader"]
