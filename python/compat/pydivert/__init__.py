# SPDX-License-Identifier: LGPL-2.1-or-later
# The name `pydivert` for ipredir's pydivert API: with python/ and
# python/compat/ on PYTHONPATH, `import pydivert` (and pydivert.packet.tcp
# and the rest) give ipredir.pydivert and its submodules, one copy of each.
import sys as _sys

import ipredir.pydivert as _impl

_impl.install(__name__)
_sys.modules[__name__] = _impl
