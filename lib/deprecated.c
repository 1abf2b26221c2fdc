/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* deprecated.c - the 0.1 names of functions renamed to the one naming
 * grammar (ipr_<object>_<verb>), kept so that programs built against 0.1
 * keep loading and linking.  scripts/rename-abi.sh leaves this file alone. */
#include "internal.h"

/* The header marks these deprecated; defining them is not a use. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

IPR_API int ipr_get_param(ipr_handle *h, enum ipr_param param, uint64_t *value)
{
	return ipr_param_get(h, param, value);
}

IPR_API int ipr_set_param(ipr_handle *h, enum ipr_param param, uint64_t value)
{
	return ipr_param_set(h, param, value);
}

IPR_API int ipr_checksums_calc(void *pkt, size_t len, unsigned flags)
{
	return ipr_csum_calc(pkt, len, flags);
}
