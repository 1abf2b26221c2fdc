# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert.packet.ip: the IP header views (ipredir's)."""
from ...packet import IPv4Header, IPv6Header, _IPHeader as IPHeader

__all__ = ["IPHeader", "IPv4Header", "IPv6Header"]
