/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* addr.c - IPv4 and IPv6 addresses to and from text: strict parsing, and
 * the RFC 5952 canonical form for IPv6. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipredir.h"

static int einval(void)
{
	errno = EINVAL;
	return -EINVAL;
}

/*
 * A dotted quad at @s; *@endp is set past it.  Leading zeros are refused:
 * inet_aton() reads "010" as octal 8 where others read 10, and a filter
 * must not mean two things.
 */
static int v4_scan(const char *s, uint8_t out[4], const char **endp)
{
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0;
		int nd = 0;

		if (part && *s++ != '.')
			return -1;
		while (*s >= '0' && *s <= '9') {
			if (nd && v == 0)
				return -1; /* leading zero */
			v = v * 10 + (unsigned)(*s - '0');
			if (v > 255)
				return -1;
			nd++;
			s++;
		}
		if (!nd)
			return -1;
		out[part] = (uint8_t)v;
	}
	*endp = s;
	return 0;
}

IPR_API int ipr_ipv4_parse(const char *s, uint32_t *addr)
{
	uint8_t b[4];
	const char *end;

	if (!s || !addr || v4_scan(s, b, &end) || *end)
		return einval();
	memcpy(addr, b, 4);
	return 0;
}

int ipri_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 4291 2.2: eight groups of 1-4 hex digits, at most one "::" standing
 * for one or more zero groups, and optionally a dotted quad as the last
 * two groups.  No zone index ("%eth0"), no surrounding blanks. */
IPR_API int ipr_ipv6_parse(const char *s, uint8_t addr[16])
{
	uint16_t w[8];
	int n = 0, gap = -1, i;
	const char *p = s;

	if (!s || !addr)
		return einval();
	if (p[0] == ':') {
		if (p[1] != ':')
			return einval();
		gap = 0;
		p += 2;
	}
	while (*p) {
		const char *start = p;
		unsigned v = 0;
		int nd = 0, d;

		while ((d = ipri_hexval((unsigned char)*p)) >= 0) {
			if (++nd > 4)
				return einval();
			v = v << 4 | (unsigned)d;
			p++;
		}
		if (*p == '.') {
			uint8_t b[4];
			const char *end;

			if (n > 6 || v4_scan(start, b, &end) || *end)
				return einval();
			w[n++] = (uint16_t)(b[0] << 8 | b[1]);
			w[n++] = (uint16_t)(b[2] << 8 | b[3]);
			break;
		}
		if (!nd || n == 8)
			return einval();
		w[n++] = (uint16_t)v;
		if (!*p)
			break;
		if (*p++ != ':' || !*p)
			return einval(); /* junk, or a lone trailing ':' */
		if (*p == ':') {
			if (gap >= 0)
				return einval();
			gap = n;
			p++;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return einval();

	memset(addr, 0, 16);
	for (i = 0; i < n; i++) {
		/* groups after the gap go to the end */
		int at = (gap >= 0 && i >= gap) ? i + 8 - n : i;

		addr[at * 2] = (uint8_t)(w[i] >> 8);
		addr[at * 2 + 1] = (uint8_t)w[i];
	}
	return 0;
}

IPR_API int ipr_ipv4_format(uint32_t addr, char *buf, size_t size)
{
	char tmp[16];
	uint8_t b[4];
	int n;

	memcpy(b, &addr, 4);
	n = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	if (!buf || (size_t)n >= size) {
		errno = ENOSPC;
		return -ENOSPC;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

/* RFC 5952: lowercase, no leading zeros, the longest run of two or more
 * zero groups as "::" (the first of equal runs), and IPv4-mapped addresses
 * with the IPv4 part dotted (section 5). */
IPR_API int ipr_ipv6_format(const uint8_t addr[16], char *buf, size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	char tmp[IPR_ADDRSTRLEN];
	uint16_t w[8];
	int best = -1, best_len = 0, i, n = 0;

	if (!addr) {
		errno = EINVAL;
		return -EINVAL;
	}
	for (i = 0; i < 8; i++)
		w[i] = (uint16_t)(addr[2 * i] << 8 | addr[2 * i + 1]);

	if (!memcmp(addr, mapped, sizeof(mapped))) {
		n = snprintf(tmp, sizeof(tmp), "::ffff:%u.%u.%u.%u", addr[12],
			     addr[13], addr[14], addr[15]);
	} else {
		for (i = 0; i < 8;) {
			int j = i;

			while (j < 8 && w[j] == 0)
				j++;
			if (j - i > best_len) {
				best = i;
				best_len = j - i;
			}
			i = j > i ? j : i + 1;
		}
		if (best_len < 2)
			best = -1;
		for (i = 0; i < 8; i++) {
			if (i == best) {
				tmp[n++] = ':';
				if (i == 0)
					tmp[n++] = ':';
				i += best_len - 1;
				continue;
			}
			n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%x%s",
				      w[i], i < 7 ? ":" : "");
		}
		tmp[n] = '\0';
	}
	if (!buf || (size_t)n >= size) {
		errno = ENOSPC;
		return -ENOSPC;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}
