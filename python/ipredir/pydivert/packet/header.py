# SPDX-License-Identifier: LGPL-2.1-or-later
"""pydivert.packet.header: the base of the header views."""
from ...packet import Header

__all__ = ["Header"]
