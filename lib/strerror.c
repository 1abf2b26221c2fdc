/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strerror.c - ipr_strerror: static text for the errno values the library
 * returns, worded for what they mean here. */
#include "internal.h" /* IPR_API */

#include <errno.h>

#include "ipredir.h"

/* A switch of literals rather than strerror(): strerror() may return a
 * buffer that the next call overwrites, and strerror_r() differs between
 * glibc and POSIX.  The texts are the library's meaning of each code. */
IPR_API const char *ipr_strerror(int err)
{
	/* Both signs are accepted: a caller may pass errno itself. */
	switch (err < 0 ? -(long)err : (long)err) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid argument (bad filter, packet, address or "
		       "option)";
	case EPERM:
		return "operation not permitted (needs CAP_NET_ADMIN, or the "
		       "handle does not allow it)";
	case EACCES:
		return "permission denied";
	case ENOMEM:
		return "out of memory";
	case EMSGSIZE:
		return "packet too long for the buffer or the link";
	case ESHUTDOWN:
		return "handle has been shut down";
	case EOPNOTSUPP:
		return "not supported by this kernel (nf_tables owner tables "
		       "or NFQUEUE missing)";
	case EBUSY:
		return "resource busy (queue number already bound)";
	case E2BIG:
		return "too many items (queues, packets in a batch, or a "
		       "filter beyond the kernel's rule limits)";
	case EFBIG:
		return "too large for the kernel (a rule's expressions)";
	case EMLINK:
		return "too many nested chains for the kernel";
	case EPROTO:
		return "protocol error (unexpected netlink answer)";
	case ENOENT:
		return "no such object (packet already answered, or rule gone)";
	case EAGAIN:
		return "no packet ready, try again";
	case EINTR:
		return "interrupted by a signal";
	case ETIMEDOUT:
		return "timed out";
	case ENOBUFS:
		return "kernel socket buffer full, packets were lost";
	case ENOSPC:
		return "buffer too small";
	case ERANGE:
		return "value out of range";
	case EBADF:
		return "bad file descriptor or handle";
	case EEXIST:
		return "already exists";
	case ENODEV:
		return "no such device or interface";
	case EPROTONOSUPPORT:
		return "protocol not supported (netfilter modules missing)";
	case EAFNOSUPPORT:
		return "address family not supported";
	case ENOSYS:
		return "function not implemented by this kernel";
	case EIO:
		return "input/output error";
	case EFAULT:
		return "bad address";
	case EMFILE:
		return "too many open files in this process";
	case ENFILE:
		return "too many open files in the system";
	case ECONNREFUSED:
		return "connection refused by the kernel (netlink)";
	case EPIPE:
		return "broken pipe";
	case ESRCH:
		return "no such process";
	default:
		return "unknown error";
	}
}
