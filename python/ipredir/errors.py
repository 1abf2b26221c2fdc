# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions of the binding: OSError subclasses that carry the errno the
library returned, and for filters the position of the error in the text."""

import errno as _errno
import os

from . import _clib


def strerror(err):
    """Text for an errno (positive or negative) as the library gives it."""
    err = -abs(err)
    s = _clib.ipr_strerror(err)
    return s.decode() if s else os.strerror(-err)


class IpredirError(OSError):
    """A library call failed.  .errno is the (positive) errno, .call the
    function that failed."""

    def __init__(self, err, call="", detail=""):
        err = abs(err)
        text = strerror(err)
        if detail:
            text = f"{detail}: {text}"
        if call:
            text = f"{call}: {text}"
        super().__init__(err, text)
        self.call = call


class FilterError(IpredirError, ValueError):
    """A filter that does not compile.  .filter is the text, .pos the byte
    offset of the error in it, .msg the library's message."""

    def __init__(self, text, pos, msg, err=_errno.EINVAL):
        self.filter = text
        self.pos = pos
        self.msg = msg
        where = text[:pos] + "\u2038" + text[pos:] if 0 <= pos <= len(text) \
            else text
        super().__init__(err, "", f"bad filter {text!r} at position {pos}: "
                         f"{msg} (here: {where!r})")
        self.strerror = (f"bad filter {text!r} at position {pos}: {msg} "
                         f"(here: {where!r})")
        self.args = (abs(err), self.strerror)

    def __str__(self):
        return self.strerror


class UnsupportedError(NotImplementedError):
    """What WinDivert does and Linux (ipredir) cannot: says so and why."""


def check(rc, call, detail=""):
    """Raise IpredirError for a negative return code, else return it."""
    if rc < 0:
        raise IpredirError(rc, call, detail)
    return rc
