/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_addr.c - address text: strict IPv4/IPv6 parsing, RFC 5952 output,
 * round trips and buffer limits; and the ipr_strerror texts. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ipredir.h"

/* A case name for one input: quoted, control characters escaped, so that
 * it stays on its one line of test output. */
static void case_name(char *dst, size_t size, const char *prefix,
		      const char *s)
{
	size_t n = (size_t)snprintf(dst, size, "%s\"", prefix);

	for (; *s && n + 6 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		n += (size_t)snprintf(dst + n, size - n,
				      ch < 0x20 ? "\\x%02x" : "%c", ch);
	}
	snprintf(dst + n, size - n, "\"");
}

/* ---- IPv4 ------------------------------------------------------------- */

static const struct {
	const char *text;
	uint8_t bytes[4];
} v4_good[] = {
	{ "0.0.0.0", { 0, 0, 0, 0 } },
	{ "255.255.255.255", { 255, 255, 255, 255 } },
	{ "1.2.3.4", { 1, 2, 3, 4 } },
	{ "192.168.1.10", { 192, 168, 1, 10 } },
	{ "0.10.100.200", { 0, 10, 100, 200 } },
	{ "10.0.0.1", { 10, 0, 0, 1 } },
};

static const char *const v4_bad[] = {
	"", "1", "1.2.3", "1.2.3.4.5", "1.2.3.256", "256.1.1.1", "999.1.1.1",
	" 1.2.3.4", "1.2.3.4 ", "1.2.3.4x", "1.2.3.4\n", "1..2.3", ".1.2.3",
	"1.2.3.", "1.2.3.4.", "01.2.3.4", "1.2.3.04", "1.2.3.00", "0x1.2.3.4",
	"1.2.3.-4", "+1.2.3.4", "1234.1.1.1", "4294967295", "1.2.3.4/24",
	"1.2.3.4:80", "a.b.c.d", "1,2,3,4", "::1",
};

static void test_v4(void)
{
	char name[80], out[IPR_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < sizeof(v4_good) / sizeof(v4_good[0]); i++) {
		uint32_t a = 0xdeadbeef;
		int rc = ipr_ipv4_parse(v4_good[i].text, &a), n = -1;

		if (rc == 0)
			n = ipr_ipv4_format(a, out, sizeof(out));
		snprintf(name, sizeof(name), "v4/good/%s", v4_good[i].text);
		CHECK(name,
		      rc == 0 && !memcmp(&a, v4_good[i].bytes, 4) &&
		      n == (int)strlen(v4_good[i].text) &&
		      !strcmp(out, v4_good[i].text),
		      "rc %d, formatted back as \"%s\" (%d)", rc,
		      n > 0 ? out : "", n);
	}
	for (i = 0; i < sizeof(v4_bad) / sizeof(v4_bad[0]); i++) {
		uint32_t a = 0xdeadbeef;
		int rc;

		errno = 0;
		rc = ipr_ipv4_parse(v4_bad[i], &a);
		case_name(name, sizeof(name), "v4/bad/", v4_bad[i]);
		CHECK(name, rc == -EINVAL && errno == EINVAL, "rc %d", rc);
	}
	CHECK("v4/bad/null", ipr_ipv4_parse(NULL, &(uint32_t){ 0 }) ==
	      -EINVAL, "accepted NULL");
}

/* ---- IPv6 ------------------------------------------------------------- */

/* Input, and its RFC 5952 form. */
static const struct {
	const char *text, *canon;
} v6_good[] = {
	{ "::", "::" },
	{ "::1", "::1" },
	{ "1::", "1::" },
	{ "0:0:0:0:0:0:0:0", "::" },
	{ "0:0:0:0:0:0:0:1", "::1" },
	{ "1:0:0:0:0:0:0:0", "1::" },
	{ "2001:db8::1", "2001:db8::1" },
	{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
	{ "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa",
	  "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa" },
	{ "2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:AAAA",
	  "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa" },
	/* RFC 5952 4.2.1: as short as possible; 4.1: no leading zeros */
	{ "2001:db8:0:0:0:0:2:1", "2001:db8::2:1" },
	{ "2001:0db8:0:0::02:0001", "2001:db8::2:1" },
	/* 4.2.2: one zero group is not shortened */
	{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
	{ "2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
	{ "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0" },
	{ "::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8" },
	/* 4.2.3: the longest run; the first of equal runs */
	{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
	{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
	{ "1:0:0:2:0:0:3:4", "1::2:0:0:3:4" },
	{ "0:0:1:0:0:0:0:0", "0:0:1::" },
	{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
	{ "ff02::fb", "ff02::fb" },
	{ "fe80::1c2:3ff:fe04:506", "fe80::1c2:3ff:fe04:506" },
	/* embedded IPv4: mapped addresses keep the dotted quad (5952 s.5) */
	{ "::ffff:1.2.3.4", "::ffff:1.2.3.4" },
	{ "::FFFF:192.0.2.128", "::ffff:192.0.2.128" },
	{ "::ffff:0102:0304", "::ffff:1.2.3.4" },
	{ "0:0:0:0:0:ffff:255.255.255.255", "::ffff:255.255.255.255" },
	{ "::1.2.3.4", "::102:304" },
	{ "64:ff9b::192.0.2.33", "64:ff9b::c000:221" },
	{ "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
};

static const char *const v6_bad[] = {
	"", ":", ":::", "1:", ":1", "1:::2", "1::2::3", "::1::",
	"1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::",
	"::1:2:3:4:5:6:7:8", "12345::", "::12345", "g::", "::g",
	" ::1", "::1 ", "::1%eth0", "[::1]", "1::2:", "2001:db8::1/64",
	"::ffff:1.2.3", "::ffff:1.2.3.256", "::ffff:01.2.3.4",
	"::1.2.3.4:5", "1.2.3.4::", "1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
	"::ffff:1.2.3.4.", "1:2:3:4:5:6:7:8:", "-1::",
};

static void test_v6(void)
{
	char name[96], out[IPR_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < sizeof(v6_good) / sizeof(v6_good[0]); i++) {
		uint8_t a[16], b[16];
		int rc = ipr_ipv6_parse(v6_good[i].text, a), n = -1, rc2 = -1;

		if (rc == 0)
			n = ipr_ipv6_format(a, out, sizeof(out));
		/* the canonical text must read back to the same address */
		if (n > 0)
			rc2 = ipr_ipv6_parse(out, b);
		snprintf(name, sizeof(name), "v6/good/%s", v6_good[i].text);
		CHECK(name,
		      rc == 0 && n == (int)strlen(v6_good[i].canon) &&
		      !strcmp(out, v6_good[i].canon) && rc2 == 0 &&
		      !memcmp(a, b, 16),
		      "rc %d, formatted \"%s\" (%d), want \"%s\"", rc,
		      n > 0 ? out : "", n, v6_good[i].canon);
	}
	for (i = 0; i < sizeof(v6_bad) / sizeof(v6_bad[0]); i++) {
		uint8_t a[16];
		int rc;

		errno = 0;
		rc = ipr_ipv6_parse(v6_bad[i], a);
		case_name(name, sizeof(name), "v6/bad/", v6_bad[i]);
		CHECK(name, rc == -EINVAL && errno == EINVAL, "rc %d", rc);
	}
}

/* Bytes land in network order. */
static void test_v6_bytes(void)
{
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					  0, 0, 0, 0, 0x12, 0x34, 0, 0xab };
	uint8_t a[16];
	int rc = ipr_ipv6_parse("2001:db8::1234:ab", a);

	CHECK("v6/bytes", rc == 0 && !memcmp(a, want, 16), "rc %d", rc);
}

/* ---- buffer sizes ----------------------------------------------------- */

static void test_format_space(void)
{
	static const uint8_t all_f[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff,
					    [12] = 255, [13] = 255,
					    [14] = 255, [15] = 255 };
	uint32_t bcast = 0xffffffff;
	char buf[64];
	int rc;

	rc = ipr_ipv4_format(bcast, buf, 16);
	CHECK("format/v4_exact_fit", rc == 15, "rc %d", rc);
	memset(buf, 'x', sizeof(buf));
	errno = 0;
	rc = ipr_ipv4_format(bcast, buf, 15);
	CHECK("format/v4_one_short", rc == -ENOSPC && errno == ENOSPC &&
	      buf[0] == 'x', "rc %d", rc);
	rc = ipr_ipv4_format(bcast, NULL, 0);
	CHECK("format/v4_null_buffer", rc == -ENOSPC, "rc %d", rc);
	rc = ipr_ipv6_format(all_f, buf, 40);
	CHECK("format/v6_longest_exact_fit", rc == 39, "rc %d", rc);
	rc = ipr_ipv6_format(all_f, buf, 39);
	CHECK("format/v6_longest_one_short", rc == -ENOSPC, "rc %d", rc);
	rc = ipr_ipv6_format(mapped, buf, IPR_ADDRSTRLEN);
	CHECK("format/v6_mapped_longest", rc == 22 &&
	      !strcmp(buf, "::ffff:255.255.255.255"), "rc %d", rc);
	rc = ipr_ipv6_format(mapped, buf, 22);
	CHECK("format/v6_mapped_one_short", rc == -ENOSPC, "rc %d", rc);
}

/* ---- ipr_strerror ----------------------------------------------------- */

static void test_strerror(void)
{
	static const int codes[] = { EINVAL, EPERM, ENOMEM, EMSGSIZE,
				     ESHUTDOWN, EOPNOTSUPP, EBUSY, E2BIG,
				     ENOENT, EAGAIN, EINTR, ETIMEDOUT,
				     ENOBUFS, ENOSPC };
	const char *unknown = ipr_strerror(-100000);
	char name[64];
	size_t i, j;

	CHECK("strerror/unknown", !strcmp(unknown, "unknown error"), "%s",
	      unknown);
	CHECK("strerror/int_min", ipr_strerror(-2147483647 - 1) != NULL,
	      "NULL");
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = ipr_strerror(-codes[i]);
		int distinct = 1;

		for (j = 0; j < i; j++)
			if (!strcmp(s, ipr_strerror(-codes[j])))
				distinct = 0;
		snprintf(name, sizeof(name), "strerror/%d", codes[i]);
		CHECK(name, s && *s && strcmp(s, unknown) && distinct &&
		      s == ipr_strerror(codes[i]),
		      "\"%s\" (generic, empty or shared)", s ? s : "(null)");
	}
}

int main(void)
{
	test_v4();
	test_v6();
	test_v6_bytes();
	test_format_space();
	test_strerror();
	return check_exit();
}
