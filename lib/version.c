/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* version.c - the library's version at run time, from the header's macros
 * (the one place it is written). */
#include "internal.h"

IPR_API const char *ipr_version(void)
{
	return IPR_VERSION_STRING;
}
