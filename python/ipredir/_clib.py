# SPDX-License-Identifier: LGPL-2.1-or-later
"""ctypes declarations of libipredir (include/ipredir.h): the structures,
the functions and the constants the binding needs, nothing else."""

import ctypes
import os
from ctypes import (POINTER, Structure, c_bool, c_char_p, c_int, c_int16,
                    c_size_t, c_uint, c_uint8, c_uint16, c_uint32, c_uint64,
                    c_void_p)

# Constants of the header, with the same names minus the IPR_ prefix.
MTU_MAX = 65535
BATCH_MAX = 256
BATCH_SLOT = MTU_MAX + 1 + 512
QUEUES_MAX = 64
PRIORITY_MIN, PRIORITY_MAX = -30000, 30000
SNAPLEN_MIN = 128

FLAG_SNIFF, FLAG_DROP, FLAG_RECV_ONLY, FLAG_SEND_ONLY, FLAG_FAIL_CLOSED = \
    0x1, 0x2, 0x4, 0x8, 0x10
FLAGS_ALL = 0x1f

ADDR_OUTBOUND = 0x0001
ADDR_LOOPBACK = 0x0002
ADDR_IPV6 = 0x0004
ADDR_GSO = 0x0008
ADDR_CSUM_PARTIAL = 0x0010
ADDR_CSUM_UNVERIFIED = 0x0020
ADDR_SNIFFED = 0x0040
ADDR_TRUNCATED = 0x0080
ADDR_UID = 0x0100
ADDR_GID = 0x0200
ADDR_MARK = 0x0400

VERDICT_PASS, VERDICT_REPLACE, VERDICT_DROP = 0, 1, 2

CSUM_NO_IP, CSUM_NO_TCP, CSUM_NO_UDP, CSUM_NO_ICMP, CSUM_NO_ICMPV6 = \
    0x01, 0x02, 0x04, 0x08, 0x10


class Addr(Structure):
    _fields_ = [
        ("timestamp", c_uint64),
        ("flags", c_uint32),
        ("layer", c_uint8),
        ("hook", c_uint8),
        ("queue", c_uint16),
        ("if_idx", c_uint32),
        ("in_if_idx", c_uint32),
        ("out_if_idx", c_uint32),
        ("mark", c_uint32),
        ("uid", c_uint32),
        ("gid", c_uint32),
        ("orig_len", c_uint32),
        ("packet_id", c_uint32),
        ("_slot", c_uint32),
        ("_gen", c_uint32),
        ("_reserved", c_uint64 * 2),
    ]


class PacketDesc(Structure):
    """struct ipr_packet"""
    _fields_ = [
        ("data", c_void_p),
        ("len", c_uint32),
        ("verdict", c_uint32),
        ("addr", Addr),
    ]


class OpenOpts(Structure):
    _fields_ = [
        ("sz", c_size_t),
        ("queues", c_uint32),
        ("queue_length", c_uint32),
        ("queue_time", c_uint32),
        ("queue_size", c_uint32),
        ("busy_poll", c_uint32),
        ("snaplen", c_uint32),
        ("hang_time", c_uint32),
    ]


class Stats(Structure):
    _fields_ = [(n, c_uint64) for n in (
        "recv_packets", "recv_bytes", "sent_packets", "injected_packets",
        "dropped_verdict", "dropped_timeout", "kernel_queue_dropped",
        "kernel_user_dropped", "segmented", "errors", "kernel_bypassed",
        "hung_packets")]


class FilterError(Structure):
    _fields_ = [("code", c_int), ("pos", c_int), ("msg", c_char_p)]


class FilterEnv(Structure):
    _fields_ = [("sz", c_size_t), ("ct_state", c_uint32),
                ("if_name", c_char_p)]


class Headers(Structure):
    """struct ipr_headers (used by the tests, to compare with the views)"""
    _fields_ = [
        ("ip", c_void_p), ("ipv6", c_void_p), ("tcp", c_void_p),
        ("udp", c_void_p), ("icmp", c_void_p), ("icmpv6", c_void_p),
        ("protocol", c_uint8), ("fragment", c_bool), ("frag_off", c_uint16),
        ("l3_len", c_uint32), ("l4_off", c_uint32),
        ("payload", c_void_p), ("payload_len", c_uint32),
        ("total_len", c_uint32),
    ]


def _candidates():
    env = os.environ.get("IPREDIR_LIB")
    if env:
        yield env
        return
    # A checkout: python/ipredir/ next to the build directory.
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    build = os.environ.get("O", "build")
    if not os.path.isabs(build):
        build = os.path.join(root, build)
    yield os.path.join(build, "libipredir.so.0")
    yield "libipredir.so.0"


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            return ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("ipredir: cannot load libipredir.so.0 (set IPREDIR_LIB "
                      "to its path, or run make): " + "; ".join(errors))


lib = _load()

_handle_p = c_void_p
_filter_p = c_void_p


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


ipr_open_ex = _fn("ipr_open_ex", _handle_p, c_char_p, c_int, c_int16,
                  c_uint64, POINTER(OpenOpts))
ipr_recv = _fn("ipr_recv", c_int, _handle_p, c_void_p, c_size_t,
               POINTER(c_size_t), POINTER(Addr))
ipr_recv_batch = _fn("ipr_recv_batch", c_int, _handle_p, c_uint, c_void_p,
                     c_size_t, POINTER(PacketDesc), c_uint, c_int)
ipr_send = _fn("ipr_send", c_int, _handle_p, c_void_p, c_size_t,
               POINTER(Addr))
ipr_send_batch = _fn("ipr_send_batch", c_int, _handle_p,
                     POINTER(PacketDesc), c_uint)
ipr_drop = _fn("ipr_drop", c_int, _handle_p, POINTER(Addr))
ipr_shutdown = _fn("ipr_shutdown", c_int, _handle_p, c_int)
ipr_close = _fn("ipr_close", c_int, _handle_p)
ipr_param_set = _fn("ipr_param_set", c_int, _handle_p, c_int, c_uint64)
ipr_param_get = _fn("ipr_param_get", c_int, _handle_p, c_int,
                    POINTER(c_uint64))
ipr_queue_count = _fn("ipr_queue_count", c_uint, _handle_p)
ipr_queue_fd = _fn("ipr_queue_fd", c_int, _handle_p, c_uint)
ipr_queue_timeout = _fn("ipr_queue_timeout", c_int, _handle_p, c_uint,
                        POINTER(c_int))
ipr_stats_get = _fn("ipr_stats_get", c_int, _handle_p, POINTER(Stats))
ipr_filter_compile = _fn("ipr_filter_compile", _filter_p, c_char_p, c_int,
                         POINTER(FilterError))
ipr_filter_eval_ex = _fn("ipr_filter_eval_ex", c_int, _filter_p, c_void_p,
                         c_size_t, POINTER(Addr), POINTER(FilterEnv))
ipr_filter_format = _fn("ipr_filter_format", c_int, _filter_p, c_void_p,
                        c_size_t)
ipr_filter_explain = _fn("ipr_filter_explain", c_int, _filter_p, c_void_p,
                         c_size_t)
ipr_filter_free = _fn("ipr_filter_free", None, _filter_p)
ipr_packet_parse = _fn("ipr_packet_parse", c_int, c_void_p, c_size_t,
                       POINTER(Headers))
ipr_csum_calc = _fn("ipr_csum_calc", c_int, c_void_p, c_size_t,
                         c_uint)
ipr_strerror = _fn("ipr_strerror", c_char_p, c_int)
ipr_version = _fn("ipr_version", c_char_p)
ipr_last_error = _fn("ipr_last_error", c_char_p, POINTER(c_int))
ipr_packet_hash = _fn("ipr_packet_hash", c_uint64, c_void_p, c_size_t,
                      c_uint64)
ipr_kernel_features = _fn("ipr_kernel_features", c_int, POINTER(c_uint32))
ipr_kernel_features_format = _fn("ipr_kernel_features_format", c_int,
                                 c_uint32, c_char_p, c_void_p, c_size_t)
