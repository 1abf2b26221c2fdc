/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check.h - the tiny test protocol shared by every test program: one line
 * per case, "PASS name", "FAIL name: why" or "SKIP name: why"; tests/run
 * counts the lines.  The exit status is 1 when any case failed. */
#ifndef IPR_CHECK_H
#define IPR_CHECK_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failed_;

__attribute__((format(printf, 2, 3), unused))
static void check_pass(const char *name, const char *fmt, ...)
{
	printf("PASS %s", name);
	if (fmt && *fmt) {
		va_list ap;
		va_start(ap, fmt);
		printf(": ");
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3), unused))
static void check_fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	check_failed_ = 1;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3), unused))
static void check_skip(const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("SKIP %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* check_fail with the place of the check first: "FAIL name: file.c:42:
 * why", so a failure leads straight to its line. */
__attribute__((format(printf, 4, 5), unused))
static void check_fail_at(const char *file, int line, const char *name,
			  const char *fmt, ...)
{
	va_list ap;
	check_failed_ = 1;
	printf("FAIL %s: %s:%d: ", name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* One case: PASS when cond holds, else FAIL with where and the formatted
 * reason. */
#define CHECK(name, cond, ...)                                              \
	do {                                                                \
		if (cond)                                                   \
			check_pass(name, NULL);                             \
		else                                                        \
			check_fail_at(__FILE__, __LINE__, name, __VA_ARGS__); \
	} while (0)

static inline int check_exit(void) { return check_failed_ ? 1 : 0; }
#endif
