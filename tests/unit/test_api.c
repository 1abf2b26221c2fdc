/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_api.c - the core API against bad and hostile arguments: every call
 * rejects what it must with the documented negative errno and sets errno.
 * The argument checks run anywhere; the cases that need real handles run as
 * root in a private network namespace (unshare), never in the caller's.
 *
 * Not tested, on purpose: use after ipr_close.  The handle is freed memory
 * then, and no check inside the library can make that safe; a test doing it
 * would only measure what malloc left behind (and upset the sanitizers). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ipredir.h"

/* ------------------------------------------------------------------------ */
/* How a case is judged                                                     */
/* ------------------------------------------------------------------------ */

/* @rc is what the call returned, @err the errno right after it; @want is 0
 * or a negative errno, which must then also be in errno. */
static void judge(const char *name, int want, int rc, int err)
{
	if (rc == want && (want == 0 || err == -want))
		check_pass(name, NULL);
	else
		check_fail(name, "want %d (%s) with errno %d, got %d (%s) with "
			   "errno %d", want, ipr_strerror(want), -want, rc,
			   rc > 0 ? "a count" : ipr_strerror(rc), err);
}

/* A constructor's result as an int: 0, or the negative errno it set. */
static int open_rc(ipr_handle *h)
{
	if (!h)
		return -errno;
	ipr_close(h);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ipr_open / ipr_open_ex: every argument it must refuse                    */
/* ------------------------------------------------------------------------ */

struct open_case {
	const char *name;
	const char *filter;
	int layer;
	int16_t prio;
	uint64_t flags;
	bool use_opts;
	struct ipr_open_opts o;
};

#define OPTS(...) true, { .sz = sizeof(struct ipr_open_opts), __VA_ARGS__ }

static const struct open_case open_cases[] = {
	{ "open.null_filter", NULL, 0, 0, 0, false, { 0 } },
	{ "open.bad_filter", "tcp.DstPort ==", 0, 0, 0, false, { 0 } },
	{ "open.unknown_field", "tcp.NoSuchField == 1", 0, 0, 0, false, { 0 } },
	{ "open.layer_2", "true", 2, 0, 0, false, { 0 } },
	{ "open.layer_minus1", "true", -1, 0, 0, false, { 0 } },
	{ "open.layer_huge", "true", 0x7fffffff, 0, 0, false, { 0 } },
	{ "open.prio_above_max", "true", 0, IPR_PRIORITY_MAX + 1, 0, false, { 0 } },
	{ "open.prio_below_min", "true", 0, IPR_PRIORITY_MIN - 1, 0, false, { 0 } },
	{ "open.prio_int16_max", "true", 0, INT16_MAX, 0, false, { 0 } },
	{ "open.prio_int16_min", "true", 0, INT16_MIN, 0, false, { 0 } },
	{ "open.flag_unknown_0x20", "true", 0, 0, 0x20, false, { 0 } },
	{ "open.flag_unknown_bit63", "true", 0, 0, 1ULL << 63, false, { 0 } },
	{ "open.flag_all_ones", "true", 0, 0, ~0ULL, false, { 0 } },
	{ "open.sniff_and_drop", "true", 0, 0,
	  IPR_FLAG_SNIFF | IPR_FLAG_DROP, false, { 0 } },
	{ "open.sniff_drop_failclosed", "true", 0, 0,
	  IPR_FLAG_SNIFF | IPR_FLAG_DROP | IPR_FLAG_FAIL_CLOSED, false, { 0 } },
	{ "open.recvonly_and_sendonly", "true", 0, 0,
	  IPR_FLAG_RECV_ONLY | IPR_FLAG_SEND_ONLY, false, { 0 } },
	{ "open.opts_sz_0", "true", 0, 0, 0, true, { .sz = 0 } },
	{ "open.opts_sz_4", "true", 0, 0, 0, true, { .sz = 4 } },
	{ "open.queues_above_max", "true", 0, 0, 0, OPTS(.queues = IPR_QUEUES_MAX + 1) },
	{ "open.queues_uint32_max", "true", 0, 0, 0, OPTS(.queues = UINT32_MAX) },
	{ "open.queue_len_below_min", "true", 0, 0, 0,
	  OPTS(.queue_length = IPR_QUEUE_LENGTH_MIN - 1) },
	{ "open.queue_len_above_max", "true", 0, 0, 0,
	  OPTS(.queue_length = IPR_QUEUE_LENGTH_MAX + 1) },
	{ "open.queue_time_below_min", "true", 0, 0, 0,
	  OPTS(.queue_time = IPR_QUEUE_TIME_MIN - 1) },
	{ "open.queue_time_above_max", "true", 0, 0, 0,
	  OPTS(.queue_time = IPR_QUEUE_TIME_MAX + 1) },
	{ "open.queue_size_below_min", "true", 0, 0, 0,
	  OPTS(.queue_size = IPR_QUEUE_SIZE_MIN - 1) },
	{ "open.queue_size_above_max", "true", 0, 0, 0,
	  OPTS(.queue_size = IPR_QUEUE_SIZE_MAX + 1) },
	{ "open.queue_size_uint32_max", "true", 0, 0, 0,
	  OPTS(.queue_size = UINT32_MAX) },
	{ "open.snaplen_below_min", "true", 0, 0, 0,
	  OPTS(.snaplen = IPR_SNAPLEN_MIN - 1) },
	{ "open.snaplen_1", "true", 0, 0, 0, OPTS(.snaplen = 1) },
	{ "open.snaplen_above_mtu", "true", 0, 0, 0,
	  OPTS(.snaplen = IPR_MTU_MAX + 1) },
	{ "open.snaplen_uint32_max", "true", 0, 0, 0,
	  OPTS(.snaplen = UINT32_MAX) },
	{ "open.busy_poll_above_max", "true", 0, 0, 0,
	  OPTS(.busy_poll = IPR_BUSY_POLL_MAX + 1) },
	{ "open.hang_time_below_min", "true", 0, 0, 0,
	  OPTS(.hang_time = IPR_HANG_TIME_MIN - 1) },
	{ "open.hang_time_above_max", "true", 0, 0, 0,
	  OPTS(.hang_time = IPR_HANG_TIME_MAX + 1) },
	/* A bad option must win over a flag that installs no rules. */
	{ "open.sendonly_bad_queue_len", "true", 0, 0, IPR_FLAG_SEND_ONLY,
	  OPTS(.queue_length = 1) },
};

static bool g_isolated; /* in a private network namespace of our own */

/* A drop handle reads nothing, so a filter with a test left to user space
 * would drop the kernel's superset: refused with EOPNOTSUPP, the test
 * named.  Refused before anything is installed, so also without root. */
static void run_drop_user_cases(void)
{
	static const char *filters[][3] = {
		{ "open.drop_random8", "open.drop_random8_named",
		  "icmp and random8 < 10" },
		{ "open.drop_payload_from_end", "open.drop_payload_named",
		  "udp.Payload[-1] == 1" },
	};
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		errno = 0;
		ipr_handle *h = ipr_open(filters[i][2], IPR_LAYER_NETWORK, 0,
					 IPR_FLAG_DROP);
		int err = errno;
		judge(filters[i][0], -EOPNOTSUPP, open_rc(h), err);
		CHECK(filters[i][1], strstr(ipr_last_error(NULL),
					    "checked in user space") != NULL,
		      "detail '%s'", ipr_last_error(NULL));
	}
}

static void run_open_cases(void)
{
	if (geteuid() == 0 && !g_isolated) {
		/* An open that wrongly succeeded would put a table in the
		 * caller's namespace, which tests never touch. */
		check_skip("open.*", "root, but no private network namespace");
		return;
	}
	for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
		const struct open_case *c = &open_cases[i];
		errno = 0;
		ipr_handle *h = c->use_opts
			? ipr_open_ex(c->filter, (enum ipr_layer)c->layer,
				      c->prio, c->flags, &c->o)
			: ipr_open(c->filter, (enum ipr_layer)c->layer, c->prio,
				   c->flags);
		int err = errno;
		judge(c->name, -EINVAL, open_rc(h), err);
	}
	/* A caller built against a newer header sets an option this library
	 * does not know: refused, not ignored (the IPR_OPTS rule). */
	struct {
		struct ipr_open_opts o;
		uint64_t newer;
	} big = { .o = { .sz = sizeof(big) }, .newer = 1 };
	errno = 0;
	ipr_handle *h = ipr_open_ex("true", IPR_LAYER_NETWORK, 0, 0, &big.o);
	int err = errno;
	judge("open.opts_newer_nonzero", -EINVAL, open_rc(h), err);
}

/* ------------------------------------------------------------------------ */
/* A refused open leaves the caller's file descriptors alone               */
/* ------------------------------------------------------------------------ */

/* In a child without privilege (root drops to nobody first), an open with
 * @queues queues fails with EPERM at the first queue; the cleanup must not
 * touch descriptors it never opened.  Exit status: 0 fine, 1 fd 0, 1 or 2
 * closed or changed, 2 the open did not fail with EPERM, 3 set-up. */
static int failed_open_child(uint32_t queues)
{
	struct stat before[3], after[3];
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 3;
	for (int fd = 0; fd < 3; fd++)
		if (fstat(fd, &before[fd]) < 0)
			return 3;
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	     setresuid(65534, 65534, 65534) < 0))
		return 3;
	struct ipr_open_opts o = { .sz = sizeof(o), .queues = queues };
	ipr_handle *h = ipr_open_ex("true", IPR_LAYER_NETWORK, 0, 0, &o);
	if (h || errno != EPERM)
		return 2;
	for (int fd = 0; fd < 3; fd++)
		if (fstat(fd, &after[fd]) < 0 || after[fd].st_ino != before[fd].st_ino ||
		    after[fd].st_dev != before[fd].st_dev)
			return 1;
	return 0;
}

static void run_failed_open_fds(void)
{
	static const uint32_t queues[] = { 1, 2, 8 };
	static const char *why[] = {
		"fine", "fd 0, 1 or 2 was closed or replaced",
		"the unprivileged open did not fail with EPERM", "set-up failed",
	};
	char name[64];
	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		snprintf(name, sizeof(name), "open.refused_keeps_fds.queues_%u",
			 queues[i]);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(failed_open_child(queues[i]));
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) < 0) {
			check_fail(name, "cannot fork");
			continue;
		}
		int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 4;
		if (rc == 0)
			check_pass(name, NULL);
		else if (rc == 3)
			check_skip(name, "%s", why[3]);
		else
			check_fail(name, "%s", rc < 4 ? why[rc] : "the child died");
	}
}

/* ------------------------------------------------------------------------ */
/* Filters of any size: they open, or fail cleanly with the place          */
/* ------------------------------------------------------------------------ */

/* "FIELD OP 1 JOIN FIELD OP 2 ..." with @n terms; the caller frees it. */
static char *terms(const char *field, const char *op, const char *join,
		   unsigned n, bool addr)
{
	size_t cap = (size_t)n * 64 + 1, k = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	s[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (addr)
			k += (size_t)snprintf(s + k, cap - k, "%s%s %s 198.%u.%u.%u",
					      i ? join : "", field, op,
					      19 + (i >> 16), (i >> 8) & 255, i & 255);
		else
			k += (size_t)snprintf(s + k, cap - k, "%s%s%s%u",
					      i ? join : "", field, op, i + 1);
	}
	return s;
}

/* The 900-term filter that wrote past the netlink batch buffer, as a user
 * without privilege: the open must fail with EPERM (the kernel says so),
 * not crash.  Exit status 0 fine, 2 another error, 3 set-up. */
static int big_unprivileged_child(void)
{
	char *f = terms("tcp.SrcPort", "!=", "&&", 900, false);

	if (!f || (geteuid() == 0 &&
		   (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)))
		return 3;
	ipr_handle *h = ipr_open(f, IPR_LAYER_NETWORK, 0, IPR_FLAG_DROP);
	int e = errno;
	free(f);
	if (h)
		ipr_close(h);
	return !h && e == EPERM ? 0 : 2;
}

static void run_big_filters(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(big_unprivileged_child());
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		check_fail("big.900_terms_unprivileged", "cannot fork");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		check_pass("big.900_terms_unprivileged", "EPERM, no crash");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		check_skip("big.900_terms_unprivileged", "cannot become nobody");
	else
		check_fail("big.900_terms_unprivileged", "status %d (%s)", st,
			   WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit");
	if (geteuid() != 0 || !g_isolated) {
		check_skip("big.*", "needs root in a private network namespace");
		return;
	}

	/* a set each: they open, in one rule */
	static const struct {
		const char *name, *field, *op, *join;
		unsigned n;
		bool addr;
	} ok[] = {
		{ "big.900_neq_ports", "tcp.SrcPort", "!=", "&&", 900, false },
		{ "big.10000_addresses", "ip.DstAddr", "==", " or ", 10000, true },
		{ "big.1000_not_addresses", "ip.SrcAddr", "!=", " and ", 1000, true },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *f = terms(ok[i].field, ok[i].op, ok[i].join, ok[i].n,
				ok[i].addr);
		ipr_handle *h = f ? ipr_open(f, IPR_LAYER_NETWORK, 0,
					     IPR_FLAG_DROP) : NULL;
		int e = errno;

		if (h)
			check_pass(ok[i].name, "%u terms, %zu bytes", ok[i].n,
				   strlen(f));
		else
			check_fail(ok[i].name, "%s (%s)", ipr_strerror(-e),
				   ipr_last_error(NULL));
		if (h)
			ipr_close(h);
		free(f);
	}

	/* orderings cannot be a set: 200 split over rules, 900 nest too
	 * deep and are refused with the place */
	char *f = terms("tcp.SrcPort", ">", "&&", 200, false);
	ipr_handle *h = f ? ipr_open(f, IPR_LAYER_NETWORK, 0, IPR_FLAG_DROP)
			  : NULL;
	int e = errno;
	CHECK("big.200_orderings_split", h != NULL, "%s (%s)",
	      ipr_strerror(-e), ipr_last_error(NULL));
	if (h)
		ipr_close(h);
	free(f);
	f = terms("tcp.SrcPort", ">", "&&", 900, false);
	h = f ? ipr_open(f, IPR_LAYER_NETWORK, 0, IPR_FLAG_DROP) : NULL;
	e = errno;
	int pos = -1;
	const char *why = ipr_last_error(&pos);
	CHECK("big.900_orderings_refused", !h && e == E2BIG && pos > 0 &&
	      f && !strncmp(f + pos, "tcp.SrcPort>", 12) && strstr(why, "nested"),
	      "h %p errno %d pos %d '%s'", (void *)h, e, pos, why);
	if (h)
		ipr_close(h);
	free(f);
}

/* ------------------------------------------------------------------------ */
/* A NULL handle (and other NULL arguments that need no handle)             */
/* ------------------------------------------------------------------------ */

static uint8_t g_buf[IPR_BATCH_SLOT * 2];
static struct ipr_packet g_pkts[4];
static struct ipr_addr g_addr;
static struct ipr_stats g_st;
static uint64_t g_v;

/* A valid IPv4/UDP packet (127.0.0.1 -> 127.0.0.1 port 40009, 8 bytes of
 * payload), for the helpers that need a packet. */
static const uint8_t v4udp[36] = {
	0x45, 0x00, 0x00, 0x24, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
	127, 0, 0, 1, 127, 0, 0, 1,
	0x9c, 0x49, 0x9c, 0x49, 0x00, 0x10, 0x00, 0x00,
	'i', 'p', 'r', '-', 't', 'e', 's', 't',
};

static int n_recv(void) { size_t l; return ipr_recv(NULL, g_buf, 100, &l, &g_addr); }
static int n_recv_batch(void) { return ipr_recv_batch(NULL, 0, g_buf, sizeof(g_buf), g_pkts, 1, 0); }
static int n_send(void) { return ipr_send(NULL, NULL, 0, &g_addr); }
static int n_send_pkt(void) { return ipr_send(NULL, v4udp, sizeof(v4udp), &g_addr); }
static int n_send_batch(void) { return ipr_send_batch(NULL, g_pkts, 1); }
static int n_drop(void) { return ipr_drop(NULL, &g_addr); }
static int n_shutdown(void) { return ipr_shutdown(NULL, IPR_SHUTDOWN_BOTH); }
static int n_close(void) { return ipr_close(NULL); }
static int n_set_param(void) { return ipr_param_set(NULL, IPR_PARAM_QUEUE_TIME, 1000); }
static int n_get_param(void) { return ipr_param_get(NULL, IPR_PARAM_QUEUE_TIME, &g_v); }
/* The 0.1 names still link and answer as the new ones (each line that
 * names one says "deprecated alias", which scripts/rename-abi.sh keeps). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int n_old_set_param(void)
{
	return ipr_set_param(NULL, IPR_PARAM_QUEUE_TIME, 1000); /* deprecated alias */
}
static int n_old_get_param(void)
{
	return ipr_get_param(NULL, IPR_PARAM_QUEUE_TIME, &g_v); /* deprecated alias */
}
static int n_old_csum(void)
{
	return ipr_checksums_calc(NULL, 36, 0); /* deprecated alias */
}
#pragma GCC diagnostic pop
static int n_stats(void) { return ipr_stats_get(NULL, &g_st); }
static int n_queue_count(void) { return ipr_queue_count(NULL) == 0 ? 0 : -1; }
static int n_queue_fd(void) { return ipr_queue_fd(NULL, 0); }
static int n_filter_explain(void) { return ipr_filter_explain(NULL, NULL, 0); }

static int compile_rc(ipr_filter *f)
{
	if (!f)
		return -errno;
	ipr_filter_free(f);
	return 0;
}

static int n_compile_null(void)
{
	struct ipr_filter_error fe;
	return compile_rc(ipr_filter_compile(NULL, IPR_LAYER_NETWORK, &fe));
}

static int n_compile_bad_layer(void)
{
	return compile_rc(ipr_filter_compile("true", (enum ipr_layer)7, NULL));
}

/* f is compiled once in main for the eval cases. */
static ipr_filter *g_filter;
static int n_eval_null_filter(void) { return ipr_filter_eval(NULL, v4udp, sizeof(v4udp), &g_addr); }
static int n_eval_null_pkt(void) { return ipr_filter_eval(g_filter, NULL, 36, &g_addr); }
static int n_eval_null_addr(void) { return ipr_filter_eval(g_filter, v4udp, sizeof(v4udp), NULL); }
static int n_eval_env_sz0(void)
{
	struct ipr_filter_env env = { .sz = 0 };
	return ipr_filter_eval_ex(g_filter, v4udp, sizeof(v4udp), &g_addr, &env);
}
/* Options structs of other sizes (the IPR_OPTS rule): an older, smaller
 * one and a newer one with zero tail are taken, a non-zero tail is not.
 * g_filter is "udp", so a taken call answers 1. */
struct env_newer {
	struct ipr_filter_env e;
	uint64_t newer;
};
static int env_eval(const void *env)
{
	return ipr_filter_eval_ex(g_filter, v4udp, sizeof(v4udp), &g_addr, env);
}
static int n_env_macro(void)
{
	IPR_OPTS(ipr_filter_env, env, .ct_state = IPR_CT_NEW);
	return env.sz == sizeof(struct ipr_filter_env) ? env_eval(&env) : -1;
}
static int n_env_older(void)
{
	struct ipr_filter_env env = { .sz = offsetof(struct ipr_filter_env,
						     if_name) };
	return env_eval(&env);
}
static int n_env_newer_zero(void)
{
	struct env_newer n = { .e = { .sz = sizeof(n) } };
	return env_eval(&n);
}
static int n_env_newer_nonzero(void)
{
	struct env_newer n = { .e = { .sz = sizeof(n) }, .newer = 1 };
	return env_eval(&n);
}
static int n_format_null(void) { return ipr_filter_format(NULL, (char *)g_buf, 64); }
static int n_format_nullbuf(void) { return ipr_filter_format(g_filter, NULL, 64); }
static int n_parse_null_hdrs(void) { return ipr_packet_parse(v4udp, sizeof(v4udp), NULL); }
static int n_parse_null_pkt(void)
{
	struct ipr_headers hd;
	return ipr_packet_parse(NULL, 20, &hd);
}
static int n_parse_len0(void)
{
	struct ipr_headers hd;
	return ipr_packet_parse(v4udp, 0, &hd);
}
static int n_csum_null(void) { return ipr_csum_calc(NULL, 36, 0); }
static int n_csum_short(void) { return ipr_csum_calc(g_buf, 10, 0); }

struct fn_case {
	const char *name;
	int want;
	int (*fn)(void);
};

static const struct fn_case null_cases[] = {
	{ "null.recv", -EINVAL, n_recv },
	{ "null.recv_batch", -EINVAL, n_recv_batch },
	{ "null.send", -EINVAL, n_send },
	{ "null.send_packet", -EINVAL, n_send_pkt },
	{ "null.send_batch", -EINVAL, n_send_batch },
	{ "null.drop", -EINVAL, n_drop },
	{ "null.shutdown", -EINVAL, n_shutdown },
	{ "null.close", -EINVAL, n_close },
	{ "null.set_param", -EINVAL, n_set_param },
	{ "null.get_param", -EINVAL, n_get_param },
	{ "null.old_set_param", -EINVAL, n_old_set_param },
	{ "null.old_get_param", -EINVAL, n_old_get_param },
	{ "null.old_checksums_calc", -EINVAL, n_old_csum },
	{ "null.stats_get", -EINVAL, n_stats },
	{ "null.queue_count_is_0", 0, n_queue_count },
	{ "null.queue_fd", -EINVAL, n_queue_fd },
	{ "null.filter_explain", -EINVAL, n_filter_explain },
	{ "null.filter_compile", -EINVAL, n_compile_null },
	{ "null.filter_compile_bad_layer", -EINVAL, n_compile_bad_layer },
	{ "null.filter_eval_filter", -EINVAL, n_eval_null_filter },
	{ "null.filter_eval_packet", -EINVAL, n_eval_null_pkt },
	{ "null.filter_eval_addr", -EINVAL, n_eval_null_addr },
	{ "null.filter_eval_env_sz0", -EINVAL, n_eval_env_sz0 },
	{ "opts.env_newer_nonzero", -EINVAL, n_env_newer_nonzero },
	{ "null.filter_format", -EINVAL, n_format_null },
	{ "null.filter_format_buf", -EINVAL, n_format_nullbuf },
	{ "null.packet_parse_hdrs", -EINVAL, n_parse_null_hdrs },
	{ "null.packet_parse_packet", -EINVAL, n_parse_null_pkt },
	{ "null.packet_parse_len0", -EINVAL, n_parse_len0 },
	{ "null.checksums_calc", -EINVAL, n_csum_null },
	{ "null.checksums_calc_short", -EINVAL, n_csum_short },
};

static const struct fn_case opts_taken_cases[] = {
	{ "opts.env_macro", 1, n_env_macro },
	{ "opts.env_older", 1, n_env_older },
	{ "opts.env_newer_zero", 1, n_env_newer_zero },
};

static void run_taken_cases(const struct fn_case *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = cs[i].fn();
		if (rc == cs[i].want)
			check_pass(cs[i].name, NULL);
		else
			check_fail(cs[i].name, "want %d, got %d (%s)",
				   cs[i].want, rc, ipr_strerror(rc));
	}
}

static void run_fn_cases(const struct fn_case *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		errno = 0;
		int rc = cs[i].fn();
		judge(cs[i].name, cs[i].want, rc, errno);
	}
}

/* ------------------------------------------------------------------------ */
/* Root only: a private network namespace and real handles                  */
/* ------------------------------------------------------------------------ */

#define PORT_HELD   40001 /* held by H */
#define PORT_SNIFF  40002 /* copied by HS */
#define PORT_INJECT 40009 /* injected packets land here */
#define PORT_THR    42000 /* the two-queue handle */
#define PORT_THRINJ 42999 /* injected by the third thread */
#define PORT_BUSY   40010 /* the busy-polling handle */

static ipr_handle *H;     /* held packets, one queue */
static ipr_handle *HS;    /* sniff */
static ipr_handle *HI;    /* send only: injection */
static ipr_handle *HR;    /* receive only */
static ipr_handle *HX;    /* send only, shut down for sending */
static int rx_held = -1, rx_sniff = -1, rx_inject = -1, rx_inject6 = -1;

static int set_lo_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!rc && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int udp_bound(int family, uint16_t port)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int big = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	int rc;
	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_port = htons(port),
					  .sin6_addr = IN6ADDR_ANY_INIT };
		int one = 1;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	}
	if (rc < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One datagram from an ephemeral port to 127.0.0.1:@port. */
static int udp_send_to(uint16_t port, const char *text)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ssize_t n = sendto(fd, text, strlen(text), 0, (struct sockaddr *)&a,
			   sizeof(a));
	int e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

/* Datagrams waiting on @fd after up to @ms of quiet. */
static int udp_count(int fd, int ms)
{
	int n = 0;
	char b[2048];
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (recv(fd, b, sizeof(b), 0) >= 0)
		n++;
	return n;
}

/* ---- injection of bad packets (send-only handle) ---------------------- */

/* A packet built from a valid template, then one field spoiled. */
enum spoil {
	SP_NONE, SP_IHL, SP_VERSION, SP_TOTAL, SP_V6_PAYLOAD,
};

struct inject_case {
	const char *name;
	int v6;
	size_t len;           /* bytes handed to ipr_send */
	enum spoil spoil;
	unsigned value;       /* the spoiled field's value */
	int want;
};

static const struct inject_case inject_cases[] = {
	{ "inject.v4_valid", 0, 36, SP_NONE, 0, 0 },
	{ "inject.v6_valid", 1, 56, SP_NONE, 0, 0 },
	{ "inject.len_0", 0, 0, SP_NONE, 0, -EINVAL },
	{ "inject.len_1", 0, 1, SP_NONE, 0, -EINVAL },
	{ "inject.len_19", 0, 19, SP_NONE, 0, -EINVAL },
	{ "inject.len_mtu_max_plus_1", 0, IPR_MTU_MAX + 1, SP_NONE, 0, -EMSGSIZE },
	{ "inject.len_1mib", 0, 1u << 20, SP_NONE, 0, -EMSGSIZE },
	{ "inject.v4_ihl_0", 0, 36, SP_IHL, 0, -EINVAL },
	{ "inject.v4_ihl_4", 0, 36, SP_IHL, 4, -EINVAL },
	{ "inject.v4_ihl_15_past_end", 0, 36, SP_IHL, 15, -EINVAL },
	{ "inject.version_0", 0, 36, SP_VERSION, 0, -EINVAL },
	{ "inject.version_5", 0, 36, SP_VERSION, 5, -EINVAL },
	{ "inject.version_15", 0, 36, SP_VERSION, 15, -EINVAL },
	{ "inject.v4_total_0", 0, 36, SP_TOTAL, 0, -EINVAL },
	{ "inject.v4_total_below_ihl", 0, 36, SP_TOTAL, 19, -EINVAL },
	{ "inject.v4_total_shorter_than_len", 0, 36, SP_TOTAL, 30, -EINVAL },
	{ "inject.v4_total_longer_than_len", 0, 36, SP_TOTAL, 100, -EINVAL },
	{ "inject.v4_total_65535", 0, 36, SP_TOTAL, 65535, -EINVAL },
	{ "inject.v6_len_39", 1, 39, SP_NONE, 0, -EINVAL },
	{ "inject.v6_payload_shorter", 1, 56, SP_V6_PAYLOAD, 8, -EINVAL },
	{ "inject.v6_payload_longer", 1, 56, SP_V6_PAYLOAD, 100, -EINVAL },
	{ "inject.v6_payload_65535", 1, 56, SP_V6_PAYLOAD, 65535, -EINVAL },
	{ "inject.v6_payload_0_jumbo", 1, 56, SP_V6_PAYLOAD, 0, -EINVAL },
};

static uint8_t *g_big; /* 1 MiB + room: the template at its start */

static size_t build_inject(const struct inject_case *c)
{
	memset(g_big, 0, 128);
	if (!c->v6) {
		memcpy(g_big, v4udp, sizeof(v4udp));
		ipr_csum_calc(g_big, sizeof(v4udp), 0);
	} else {
		/* ::1 -> ::1 UDP port 40009, 8 bytes of payload */
		uint8_t *p = g_big;
		p[0] = 0x60;
		p[4] = 0;
		p[5] = 16;
		p[6] = 17;
		p[7] = 64;
		p[23] = 1;
		p[39] = 1;
		p[40] = PORT_INJECT >> 8; p[41] = PORT_INJECT & 0xff;
		p[42] = PORT_INJECT >> 8; p[43] = PORT_INJECT & 0xff;
		p[45] = 16;
		memcpy(p + 48, "ipr-test", 8);
		ipr_csum_calc(p, 56, 0);
	}
	switch (c->spoil) {
	case SP_NONE:
		break;
	case SP_IHL:
		g_big[0] = (uint8_t)(0x40 | (c->value & 0x0f));
		break;
	case SP_VERSION:
		g_big[0] = (uint8_t)((c->value << 4) | (g_big[0] & 0x0f));
		break;
	case SP_TOTAL:
		g_big[2] = (uint8_t)(c->value >> 8);
		g_big[3] = (uint8_t)c->value;
		break;
	case SP_V6_PAYLOAD:
		g_big[4] = (uint8_t)(c->value >> 8);
		g_big[5] = (uint8_t)c->value;
		break;
	}
	return c->len;
}

static void run_inject_cases(void)
{
	struct ipr_addr a;
	memset(&a, 0, sizeof(a));
	a.flags = IPR_ADDR_OUTBOUND;
	int valid4 = 0, valid6 = 0;
	for (size_t i = 0; i < sizeof(inject_cases) / sizeof(inject_cases[0]); i++) {
		const struct inject_case *c = &inject_cases[i];
		size_t len = build_inject(c);
		errno = 0;
		int rc = ipr_send(HI, g_big, len, &a);
		judge(c->name, c->want, rc, errno);
		if (c->want == 0 && c->v6)
			valid6++;
		else if (c->want == 0)
			valid4++;
	}
	/* The valid ones arrived, and nothing else: a spoiled packet that was
	 * let through would show up here too (its UDP header is intact). */
	int got4 = udp_count(rx_inject, 300);
	int got6 = udp_count(rx_inject6, 100);
	CHECK("inject.only_valid_arrived", got4 == valid4 && got6 == valid6,
	      "want %d IPv4 and %d IPv6 datagrams on port %d, got %d and %d",
	      valid4, valid6, PORT_INJECT, got4, got6);
}

/* ---- addresses that were never received -------------------------------- */

struct fake_addr {
	const char *name;
	uint32_t packet_id, slot, gen;
	uint16_t queue;
};

static const struct fake_addr fake_addrs[] = {
	{ "fake.id1_slot0_gen1", 1, 0, 1, 0 },
	{ "fake.id1_slot0_gen0", 1, 0, 0, 0 },
	{ "fake.id1_slot0_gen2", 1, 0, 2, 0 },
	{ "fake.slot_last", 7, IPR_QUEUE_LENGTH_MAX - 1, 1, 0 },
	{ "fake.slot_past_pool", 7, IPR_QUEUE_LENGTH_MAX, 1, 0 },
	{ "fake.slot_uint32_max", 7, UINT32_MAX, UINT32_MAX, 0 },
	{ "fake.id_uint32_max", UINT32_MAX, 3, 3, 0 },
	{ "fake.queue_1", 1, 0, 1, 1 },
	{ "fake.queue_max", 1, 0, 1, UINT16_MAX },
	{ "fake.random_a", 0x6b8b4567, 0x327b, 0x643c9869, 0 },
	{ "fake.random_b", 0x66334873, 0x74b0, 0x19495cff, 0 },
	{ "fake.random_c", 0x2ae8944a, 0x625558ec, 0x238e1f29, 0 },
	{ "fake.random_d", 0x46e87ccd, 0x3d1b, 0x507ed7ab, 0 },
	{ "fake.random_e", 0x2eb141f2, 0x41b7, 0x7545e147, 0 },
};

static void fake_to_addr(const struct fake_addr *f, struct ipr_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->packet_id = f->packet_id;
	a->_slot = f->slot;
	a->_gen = f->gen;
	a->queue = f->queue;
}

/* Every fake address, against every handle kind, with send, drop and
 * send_batch. */
static void run_fake_cases(void)
{
	struct { const char *n; ipr_handle *h; } hs[] = {
		{ "held", H }, { "sniff", HS }, { "sendonly", HI },
	};
	char name[128];
	for (size_t k = 0; k < sizeof(hs) / sizeof(hs[0]); k++) {
		for (size_t i = 0; i < sizeof(fake_addrs) / sizeof(fake_addrs[0]); i++) {
			struct ipr_addr a;
			fake_to_addr(&fake_addrs[i], &a);
			snprintf(name, sizeof(name), "%s.%s.send", fake_addrs[i].name, hs[k].n);
			errno = 0;
			int rc = ipr_send(hs[k].h, NULL, 0, &a);
			judge(name, -EINVAL, rc, errno);

			snprintf(name, sizeof(name), "%s.%s.drop", fake_addrs[i].name, hs[k].n);
			errno = 0;
			rc = ipr_drop(hs[k].h, &a);
			judge(name, -EINVAL, rc, errno);

			struct ipr_packet p = { .data = NULL, .len = 0,
						.verdict = IPR_VERDICT_PASS, .addr = a };
			snprintf(name, sizeof(name), "%s.%s.send_batch", fake_addrs[i].name, hs[k].n);
			errno = 0;
			rc = ipr_send_batch(hs[k].h, &p, 1);
			judge(name, -EINVAL, rc, errno);
		}
	}
}

/* ---- parameters ---------------------------------------------------------- */

struct param_case {
	const char *name;
	int param;
	uint64_t value;
	int want;
};

static const struct param_case param_cases[] = {
	{ "param.set_version_major", IPR_PARAM_VERSION_MAJOR, IPR_VERSION_MAJOR, -EINVAL },
	{ "param.set_version_minor", IPR_PARAM_VERSION_MINOR, IPR_VERSION_MINOR, -EINVAL },
	{ "param.set_unknown_7", 7, 1, -EINVAL },
	{ "param.hang_time_below_min", IPR_PARAM_HANG_TIME, IPR_HANG_TIME_MIN - 1, -EINVAL },
	{ "param.hang_time_0", IPR_PARAM_HANG_TIME, 0, -EINVAL },
	{ "param.hang_time_above_max", IPR_PARAM_HANG_TIME, IPR_HANG_TIME_MAX + 1, -EINVAL },
	{ "param.hang_time_2pow32_plus_min", IPR_PARAM_HANG_TIME,
	  (1ULL << 32) + IPR_HANG_TIME_MIN, -EINVAL },
	{ "param.busy_poll_above_max", IPR_PARAM_BUSY_POLL, IPR_BUSY_POLL_MAX + 1, -EINVAL },
	{ "param.busy_poll_u64_max", IPR_PARAM_BUSY_POLL, UINT64_MAX, -EINVAL },
	{ "param.set_unknown_99", 99, 1, -EINVAL },
	{ "param.set_unknown_minus1", -1, 1, -EINVAL },
	{ "param.queue_len_below_min", IPR_PARAM_QUEUE_LENGTH, IPR_QUEUE_LENGTH_MIN - 1, -EINVAL },
	{ "param.queue_len_above_max", IPR_PARAM_QUEUE_LENGTH, IPR_QUEUE_LENGTH_MAX + 1, -EINVAL },
	{ "param.queue_len_2pow32_plus_min", IPR_PARAM_QUEUE_LENGTH,
	  (1ULL << 32) + IPR_QUEUE_LENGTH_MIN, -EINVAL },
	{ "param.queue_time_below_min", IPR_PARAM_QUEUE_TIME, IPR_QUEUE_TIME_MIN - 1, -EINVAL },
	{ "param.queue_time_above_max", IPR_PARAM_QUEUE_TIME, IPR_QUEUE_TIME_MAX + 1, -EINVAL },
	{ "param.queue_time_u64_max", IPR_PARAM_QUEUE_TIME, UINT64_MAX, -EINVAL },
	{ "param.queue_size_below_min", IPR_PARAM_QUEUE_SIZE, IPR_QUEUE_SIZE_MIN - 1, -EINVAL },
	{ "param.queue_size_above_max", IPR_PARAM_QUEUE_SIZE, IPR_QUEUE_SIZE_MAX + 1ULL, -EINVAL },
	/* In range: accepted, and read back below. */
	{ "param.queue_time_1000", IPR_PARAM_QUEUE_TIME, 1000, 0 },
	{ "param.queue_len_min", IPR_PARAM_QUEUE_LENGTH, IPR_QUEUE_LENGTH_MIN, 0 },
	{ "param.queue_len_default", IPR_PARAM_QUEUE_LENGTH, IPR_QUEUE_LENGTH_DEFAULT, 0 },
	{ "param.hang_time_1500", IPR_PARAM_HANG_TIME, 1500, 0 },
};

static void run_param_cases(void)
{
	for (size_t i = 0; i < sizeof(param_cases) / sizeof(param_cases[0]); i++) {
		const struct param_case *c = &param_cases[i];
		errno = 0;
		int rc = ipr_param_set(H, (enum ipr_param)c->param, c->value);
		judge(c->name, c->want, rc, errno);
	}
	uint64_t v = 0;
	int rc = ipr_param_get(H, IPR_PARAM_QUEUE_TIME, &v);
	CHECK("param.queue_time_reads_back", rc == 0 && v == 1000,
	      "rc %d value %llu, want 0 and 1000", rc, (unsigned long long)v);
	rc = ipr_param_get(H, IPR_PARAM_HANG_TIME, &v);
	CHECK("param.hang_time_reads_back", rc == 0 && v == 1500,
	      "rc %d value %llu, want 0 and 1500", rc, (unsigned long long)v);
	ipr_param_set(H, IPR_PARAM_HANG_TIME, IPR_HANG_TIME_DEFAULT);
	rc = ipr_param_get(H, IPR_PARAM_VERSION_MAJOR, &v);
	CHECK("param.version_major_reads", rc == 0 && v == IPR_VERSION_MAJOR,
	      "rc %d value %llu", rc, (unsigned long long)v);
	/* The default queue time back, for the packets below. */
	ipr_param_set(H, IPR_PARAM_QUEUE_TIME, IPR_QUEUE_TIME_DEFAULT);
}

/* ---- other calls on real handles ----------------------------------------- */

static uint8_t *g_rbuf; /* 4 slots */
#define RCAP ((size_t)4 * IPR_BATCH_SLOT)

static double mono_s(void);

/* Busy polling: a receive still times out when it should, and a packet
 * that comes while it polls is received. */
static void run_busy_poll(void)
{
	struct ipr_open_opts o = { .sz = sizeof(o), .busy_poll = 20000 };
	ipr_handle *hb = ipr_open_ex("udp.DstPort == 40010", IPR_LAYER_NETWORK,
				     0, 0, &o);
	if (!hb) {
		check_fail("busy.open", "open with busy_poll: %s",
			   ipr_strerror(-errno));
		return;
	}
	uint64_t v = 0;
	int rc = ipr_param_get(hb, IPR_PARAM_BUSY_POLL, &v);
	CHECK("busy.opts_read_back", rc == 0 && v == 20000,
	      "get %d value %llu", rc, (unsigned long long)v);
	double t0 = mono_s();
	rc = ipr_recv_batch(hb, 0, g_rbuf, RCAP, g_pkts, 1, 100);
	double el = mono_s() - t0;
	CHECK("busy.timeout_0", rc == 0, "recv with nothing to read: %d", rc);
	CHECK("busy.timeout_100ms", el >= 0.095 && el < 0.6,
	      "a 100 ms timeout took %.3f s", el);
	if (udp_send_to(PORT_BUSY, "busy-1") < 0) {
		check_fail("busy.receives", "cannot send: %s", strerror(errno));
	} else {
		rc = ipr_recv_batch(hb, 0, g_rbuf, RCAP, g_pkts, 1, 2000);
		CHECK("busy.receives", rc == 1, "recv while polling: %d", rc);
		if (rc == 1)
			CHECK("busy.drop", ipr_drop(hb, &g_pkts[0].addr) == 0,
			      "drop the packet: %s", strerror(errno));
	}
	rc = ipr_param_set(hb, IPR_PARAM_BUSY_POLL, 0);
	int rc2 = ipr_param_get(hb, IPR_PARAM_BUSY_POLL, &v);
	CHECK("busy.off", rc == 0 && rc2 == 0 && v == 0,
	      "busy poll off: set %d get %d value %llu", rc, rc2,
	      (unsigned long long)v);
	ipr_close(hb);
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The default adaptive polling (issue 16): on by default, and a receive
 * that waits with nothing coming sleeps instead of spinning, before any
 * packet and after one (traffic that stops costs one short spin). */
static void run_busy_poll_idle(void)
{
	ipr_handle *hb = ipr_open("udp.DstPort == 40010", IPR_LAYER_NETWORK,
				  0, 0);
	if (!hb) {
		check_fail("busy_idle.open", "open: %s", ipr_strerror(-errno));
		return;
	}
	uint64_t v = 0;
	int rc = ipr_param_get(hb, IPR_PARAM_BUSY_POLL, &v);
	CHECK("busy_idle.default", rc == 0 && v == IPR_BUSY_POLL_DEFAULT,
	      "get %d value %llu", rc, (unsigned long long)v);
	double c0 = thread_cpu_s();
	rc = ipr_recv_batch(hb, 0, g_rbuf, RCAP, g_pkts, 1, 300);
	double c1 = thread_cpu_s();
	CHECK("busy_idle.no_spin_idle", rc == 0 && c1 - c0 < 0.03,
	      "300 ms with nothing to read: %d, %.1f ms of CPU", rc,
	      (c1 - c0) * 1e3);
	if (udp_send_to(PORT_BUSY, "busy-idle") < 0) {
		check_fail("busy_idle.receives", "cannot send: %s",
			   strerror(errno));
	} else {
		rc = ipr_recv_batch(hb, 0, g_rbuf, RCAP, g_pkts, 1, 2000);
		CHECK("busy_idle.receives", rc == 1, "recv: %d", rc);
		if (rc == 1)
			(void)ipr_drop(hb, &g_pkts[0].addr);
		c0 = thread_cpu_s();
		rc = ipr_recv_batch(hb, 0, g_rbuf, RCAP, g_pkts, 1, 300);
		c1 = thread_cpu_s();
		CHECK("busy_idle.no_spin_after", rc == 0 && c1 - c0 < 0.03,
		      "300 ms after the last packet: %d, %.1f ms of CPU", rc,
		      (c1 - c0) * 1e3);
	}
	ipr_close(hb);
}

static int h_recv_null_pkt(void) { size_t l; return ipr_recv(H, NULL, 100, &l, &g_addr); }
static int h_recv_null_addr(void) { size_t l; return ipr_recv(H, g_rbuf, RCAP, &l, NULL); }
static int h_rb_null_buf(void) { return ipr_recv_batch(H, 0, NULL, RCAP, g_pkts, 1, 0); }
static int h_rb_null_pkts(void) { return ipr_recv_batch(H, 0, g_rbuf, RCAP, NULL, 1, 0); }
static int h_rb_max0(void) { return ipr_recv_batch(H, 0, g_rbuf, RCAP, g_pkts, 0, 0); }
static int h_rb_cap0(void) { return ipr_recv_batch(H, 0, g_rbuf, 0, g_pkts, 1, 0); }
static int h_rb_cap_small(void) { return ipr_recv_batch(H, 0, g_rbuf, IPR_BATCH_SLOT - 1, g_pkts, 1, 0); }
static int h_rb_cap_1500(void) { return ipr_recv_batch(H, 0, g_rbuf, 1500, g_pkts, 1, 0); }
static int h_rb_queue1(void) { return ipr_recv_batch(H, 1, g_rbuf, RCAP, g_pkts, 1, 0); }
static int h_rb_queue64(void) { return ipr_recv_batch(H, IPR_QUEUES_MAX, g_rbuf, RCAP, g_pkts, 1, 0); }
static int h_rb_queue_max(void) { return ipr_recv_batch(H, ~0u, g_rbuf, RCAP, g_pkts, 1, 0); }
static int h_rb_empty(void) { return ipr_recv_batch(H, 0, g_rbuf, RCAP, g_pkts, 4, 0); }
static int h_send_null_addr(void) { return ipr_send(H, NULL, 0, NULL); }
static int h_send_pkt_null_addr(void) { return ipr_send(H, v4udp, sizeof(v4udp), NULL); }
static int h_inject_null_pkt(void)
{
	struct ipr_addr a = { .flags = IPR_ADDR_OUTBOUND };
	return ipr_send(H, NULL, 0, &a);
}
static int h_inject_null_pkt_len(void)
{
	struct ipr_addr a = { .flags = IPR_ADDR_OUTBOUND };
	return ipr_send(H, NULL, 36, &a);
}
static int h_drop_null(void) { return ipr_drop(H, NULL); }
static int h_drop_id0(void)
{
	struct ipr_addr a = { 0 };
	return ipr_drop(H, &a);
}
static int h_batch_null(void) { return ipr_send_batch(H, NULL, 1); }
static int h_batch_bad_verdict(void)
{
	struct ipr_packet p = { .verdict = 77 };
	p.addr.packet_id = 1;
	p.addr._gen = 1;
	return ipr_send_batch(H, &p, 1);
}
static int h_get_null(void) { return ipr_param_get(H, IPR_PARAM_QUEUE_TIME, NULL); }
static int h_get_unknown(void) { return ipr_param_get(H, (enum ipr_param)99, &g_v); }
static int h_stats_null(void) { return ipr_stats_get(H, NULL); }
static int h_stats_ok(void) { return ipr_stats_get(H, &g_st); }
static int h_shut_0(void) { return ipr_shutdown(H, (enum ipr_shutdown_how)0); }
static int h_shut_4(void) { return ipr_shutdown(H, (enum ipr_shutdown_how)4); }
static int h_shut_7(void) { return ipr_shutdown(H, (enum ipr_shutdown_how)7); }
static int h_shut_neg(void) { return ipr_shutdown(H, (enum ipr_shutdown_how)-1); }
static int h_recvonly_inject(void)
{
	struct ipr_addr a = { .flags = IPR_ADDR_OUTBOUND };
	return ipr_send(HR, v4udp, sizeof(v4udp), &a);
}
static int h_shut_send_inject(void)
{
	struct ipr_addr a = { .flags = IPR_ADDR_OUTBOUND };
	return ipr_send(HX, v4udp, sizeof(v4udp), &a);
}
static int h_sendonly_recv(void) { return ipr_recv_batch(HI, 0, g_rbuf, RCAP, g_pkts, 1, 0); }
static int h_queue_count(void) { return ipr_queue_count(H) == 1 ? 0 : -1; }
/* The queue's socket: a netlink socket (what an event loop waits on). */
static int h_queue_fd(void)
{
	int fd = ipr_queue_fd(H, 0), dom = 0;
	socklen_t l = sizeof(dom);

	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) < 0)
		return -errno;
	return dom == AF_NETLINK ? 0 : -1;
}
static int h_queue_fd_range(void) { return ipr_queue_fd(H, 1); }
static int h_sendonly_queue_fd(void) { return ipr_queue_fd(HI, 0); }

static const struct fn_case handle_cases[] = {
	{ "handle.recv_null_packet", -EINVAL, h_recv_null_pkt },
	{ "handle.recv_null_addr", -EINVAL, h_recv_null_addr },
	{ "handle.recv_batch_null_buf", -EINVAL, h_rb_null_buf },
	{ "handle.recv_batch_null_pkts", -EINVAL, h_rb_null_pkts },
	{ "handle.recv_batch_max_0", -EINVAL, h_rb_max0 },
	{ "handle.recv_batch_cap_0", -EINVAL, h_rb_cap0 },
	{ "handle.recv_batch_cap_slot_minus_1", -EINVAL, h_rb_cap_small },
	{ "handle.recv_batch_cap_1500", -EINVAL, h_rb_cap_1500 },
	{ "handle.recv_batch_queue_1_of_1", -EINVAL, h_rb_queue1 },
	{ "handle.recv_batch_queue_64", -EINVAL, h_rb_queue64 },
	{ "handle.recv_batch_queue_uint_max", -EINVAL, h_rb_queue_max },
	{ "handle.recv_batch_nothing_waiting_is_0", 0, h_rb_empty },
	{ "handle.send_null_addr", -EINVAL, h_send_null_addr },
	{ "handle.send_packet_null_addr", -EINVAL, h_send_pkt_null_addr },
	{ "handle.inject_null_packet", -EINVAL, h_inject_null_pkt },
	{ "handle.inject_null_packet_len36", -EINVAL, h_inject_null_pkt_len },
	{ "handle.drop_null_addr", -EINVAL, h_drop_null },
	{ "handle.drop_no_packet_id", -EINVAL, h_drop_id0 },
	{ "handle.send_batch_null", -EINVAL, h_batch_null },
	{ "handle.send_batch_bad_verdict", -EINVAL, h_batch_bad_verdict },
	{ "handle.get_param_null", -EINVAL, h_get_null },
	{ "handle.get_param_unknown", -EINVAL, h_get_unknown },
	{ "handle.stats_null", -EINVAL, h_stats_null },
	{ "handle.stats_ok", 0, h_stats_ok },
	{ "handle.shutdown_how_0", -EINVAL, h_shut_0 },
	{ "handle.shutdown_how_4", -EINVAL, h_shut_4 },
	{ "handle.shutdown_how_7", -EINVAL, h_shut_7 },
	{ "handle.shutdown_how_minus1", -EINVAL, h_shut_neg },
	{ "handle.recv_only_inject_eperm", -EPERM, h_recvonly_inject },
	{ "handle.shut_send_inject_eshutdown", -ESHUTDOWN, h_shut_send_inject },
	{ "handle.send_only_recv_eopnotsupp", -EOPNOTSUPP, h_sendonly_recv },
	{ "handle.queue_count_1", 0, h_queue_count },
	{ "handle.queue_fd_netlink", 0, h_queue_fd },
	{ "handle.queue_fd_no_such_queue", -EINVAL, h_queue_fd_range },
	{ "handle.send_only_queue_fd_eopnotsupp", -EOPNOTSUPP, h_sendonly_queue_fd },
};

/* ---- packets really received: answer once, and only once ---------------- */

enum step_op {
	OP_NEXT,          /* send a datagram to PORT_HELD and receive it */
	OP_NEXT_SMALL,    /* same with ipr_recv and a 10-byte buffer */
	OP_PASS,          /* ipr_send, unchanged */
	OP_DROP,          /* ipr_drop */
	OP_BATCH_PASS,    /* ipr_send_batch of this one packet */
	OP_BATCH_TWICE,   /* ipr_send_batch of [p, p]: 1 answered */
	OP_REPLACE_LEN,   /* ipr_send with the packet, arg bytes long */
	OP_TAMPER_ID,     /* ipr_send with packet_id + arg */
	OP_TAMPER_SLOT,
	OP_TAMPER_GEN,
	OP_TAMPER_QUEUE,
};

struct step {
	const char *name;
	enum step_op op;
	long arg;
	int want;
};

static const struct step steps[] = {
	{ "held.p1.receive", OP_NEXT, 0, 1 },
	{ "held.p1.pass", OP_PASS, 0, 0 },
	{ "held.p1.pass_again", OP_PASS, 0, -EINVAL },
	{ "held.p1.drop_after_pass", OP_DROP, 0, -EINVAL },
	{ "held.p1.batch_after_pass", OP_BATCH_PASS, 0, -EINVAL },
	{ "held.p2.receive", OP_NEXT, 0, 1 },
	{ "held.p2.drop", OP_DROP, 0, 0 },
	{ "held.p2.pass_after_drop", OP_PASS, 0, -EINVAL },
	{ "held.p2.drop_again", OP_DROP, 0, -EINVAL },
	{ "held.p3.receive", OP_NEXT, 0, 1 },
	{ "held.p3.wrong_id", OP_TAMPER_ID, 1, -EINVAL },
	{ "held.p3.wrong_slot", OP_TAMPER_SLOT, 1, -EINVAL },
	{ "held.p3.wrong_gen_plus2", OP_TAMPER_GEN, 2, -EINVAL },
	{ "held.p3.wrong_gen_plus1", OP_TAMPER_GEN, 1, -EINVAL },
	{ "held.p3.wrong_queue", OP_TAMPER_QUEUE, 1, -EINVAL },
	{ "held.p3.replace_len_0", OP_REPLACE_LEN, 0, -EINVAL },
	{ "held.p3.replace_len_19", OP_REPLACE_LEN, 19, -EINVAL },
	{ "held.p3.replace_len_mtu_plus_1", OP_REPLACE_LEN, IPR_MTU_MAX + 1, -EMSGSIZE },
	{ "held.p3.still_held_pass", OP_PASS, 0, 0 },
	{ "held.p3.pass_again", OP_PASS, 0, -EINVAL },
	{ "held.p4.receive", OP_NEXT, 0, 1 },
	{ "held.p4.batch_twice_answers_1", OP_BATCH_TWICE, 0, 1 },
	{ "held.p4.pass_after_batch", OP_PASS, 0, -EINVAL },
	{ "held.p5.receive_small_buffer", OP_NEXT_SMALL, 0, -EMSGSIZE },
	{ "held.p5.pass", OP_PASS, 0, 0 },
	{ "held.p5.pass_again", OP_PASS, 0, -EINVAL },
};
/* Datagrams passed on by the steps: p1, p3, p4, p5. */
#define STEPS_PASSED 4

static void run_steps(void)
{
	struct ipr_packet cur;
	memset(&cur, 0, sizeof(cur));
	bool have = false;
	int seq = 0;
	char text[32];
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];
		struct ipr_addr a = cur.addr;
		int rc = 0;
		if ((s->op != OP_NEXT && s->op != OP_NEXT_SMALL) && !have) {
			check_skip(s->name, "no packet was received");
			continue;
		}
		errno = 0;
		switch (s->op) {
		case OP_NEXT:
		case OP_NEXT_SMALL:
			snprintf(text, sizeof(text), "held-%d", ++seq);
			if (udp_send_to(PORT_HELD, text) < 0) {
				check_fail(s->name, "cannot send a datagram: %s",
					   strerror(errno));
				have = false;
				continue;
			}
			if (s->op == OP_NEXT) {
				rc = ipr_recv_batch(H, 0, g_rbuf, RCAP, &cur, 1, 2000);
			} else {
				size_t len = 0;
				uint8_t small[10];
				rc = ipr_recv(H, small, sizeof(small), &len, &cur.addr);
				if (rc == -EMSGSIZE && len <= sizeof(small)) {
					check_fail(s->name, "EMSGSIZE but len %zu", len);
					have = false;
					continue;
				}
			}
			have = rc == s->want;
			break;
		case OP_PASS:
			rc = ipr_send(H, NULL, 0, &a);
			break;
		case OP_DROP:
			rc = ipr_drop(H, &a);
			break;
		case OP_BATCH_PASS: {
			struct ipr_packet p = { .verdict = IPR_VERDICT_PASS, .addr = a };
			rc = ipr_send_batch(H, &p, 1);
			break;
		}
		case OP_BATCH_TWICE: {
			struct ipr_packet p[2] = {
				{ .verdict = IPR_VERDICT_PASS, .addr = a },
				{ .verdict = IPR_VERDICT_PASS, .addr = a },
			};
			rc = ipr_send_batch(H, p, 2);
			break;
		}
		case OP_REPLACE_LEN:
			memset(g_big, 0x45, 64);
			rc = ipr_send(H, g_big, (size_t)s->arg, &a);
			break;
		case OP_TAMPER_ID:
			a.packet_id += (uint32_t)s->arg;
			rc = ipr_send(H, NULL, 0, &a);
			break;
		case OP_TAMPER_SLOT:
			a._slot += (uint32_t)s->arg;
			rc = ipr_send(H, NULL, 0, &a);
			break;
		case OP_TAMPER_GEN:
			a._gen += (uint32_t)s->arg;
			rc = ipr_send(H, NULL, 0, &a);
			break;
		case OP_TAMPER_QUEUE:
			a.queue = (uint16_t)(a.queue + s->arg);
			rc = ipr_send(H, NULL, 0, &a);
			break;
		}
		/* A count (batch, receive) sets no errno. */
		if (s->want > 0 || (s->want == 0 && rc >= 0))
			CHECK(s->name, rc == s->want, "want %d, got %d (%s)",
			      s->want, rc, ipr_strerror(rc));
		else
			judge(s->name, s->want, rc, errno);
	}
	int got = udp_count(rx_held, 300);
	CHECK("held.arrived_exactly_passed", got == STEPS_PASSED,
	      "want %d datagrams on port %d (passed ones only), got %d",
	      STEPS_PASSED, PORT_HELD, got);
	struct ipr_stats st;
	memset(&st, 0, sizeof(st));
	ipr_stats_get(H, &st);
	CHECK("held.stats", st.recv_packets == 5 && st.sent_packets == 4 &&
	      st.dropped_verdict == 1,
	      "want recv 5, sent 4, dropped_verdict 1; got %llu, %llu, %llu",
	      (unsigned long long)st.recv_packets,
	      (unsigned long long)st.sent_packets,
	      (unsigned long long)st.dropped_verdict);
}

/* ---- a sniffed copy cannot be sent ------------------------------------- */

static void run_sniff_cases(void)
{
	struct ipr_packet p;
	memset(&p, 0, sizeof(p));
	if (udp_send_to(PORT_SNIFF, "sniffed-1") < 0) {
		check_fail("sniff.receive", "cannot send: %s", strerror(errno));
		return;
	}
	int n = ipr_recv_batch(HS, 0, g_rbuf, RCAP, &p, 1, 2000);
	if (n != 1 || !(p.addr.flags & IPR_ADDR_SNIFFED)) {
		check_fail("sniff.receive", "want 1 copy with IPR_ADDR_SNIFFED, "
			   "got %d (flags 0x%x)", n, n == 1 ? p.addr.flags : 0);
		return;
	}
	check_pass("sniff.receive", NULL);
	udp_count(rx_sniff, 200); /* the original arrived on its own */

	uint8_t copy[2048];
	uint32_t len = p.len < sizeof(copy) ? p.len : (uint32_t)sizeof(copy);
	memcpy(copy, p.data, len);
	/* Complete checksums: a copy sent again by mistake would then really
	 * arrive (a loopback copy carries only a partial UDP checksum). */
	ipr_csum_calc(copy, len, 0);
	struct ipr_addr a = p.addr;
	int rc;

	errno = 0;
	rc = ipr_send(HS, NULL, 0, &a);
	judge("sniff.send_unchanged", -EINVAL, rc, errno);
	errno = 0;
	rc = ipr_send(HS, copy, len, &a);
	judge("sniff.send_with_bytes", -EINVAL, rc, errno);
	errno = 0;
	rc = ipr_drop(HS, &a);
	judge("sniff.drop", -EINVAL, rc, errno);
	struct ipr_packet b = { .data = copy, .len = len,
				.verdict = IPR_VERDICT_PASS, .addr = a };
	errno = 0;
	rc = ipr_send_batch(HS, &b, 1);
	judge("sniff.send_batch", -EINVAL, rc, errno);
	b.verdict = IPR_VERDICT_REPLACE;
	errno = 0;
	rc = ipr_send_batch(HS, &b, 1);
	judge("sniff.send_batch_replace", -EINVAL, rc, errno);
	/* The flag cleared by the caller: still no held packet of that name. */
	a.flags &= ~IPR_ADDR_SNIFFED;
	a.packet_id = 1;
	a._gen = 1;
	errno = 0;
	rc = ipr_send(HS, NULL, 0, &a);
	judge("sniff.send_flag_cleared", -EINVAL, rc, errno);
	/* Nothing of the above may have put a copy on the wire. */
	int extra = udp_count(rx_sniff, 300);
	CHECK("sniff.no_duplicate_sent", extra == 0,
	      "%d copies of the sniffed datagram were sent again", extra);
}

/* ---- two threads on two queues of one handle, a third injecting --------- */

#define THR_FLOWS 64
#define THR_PER_FLOW 20
#define THR_INJECT 200

struct qworker {
	ipr_handle *h;
	unsigned q;
	unsigned long got, wrong_queue, errors;
	int last_err;
};

static atomic_int thr_stop;

static void *qserve(void *arg)
{
	struct qworker *w = arg;
	enum { MAX = 16 };
	size_t cap = (size_t)MAX * IPR_BATCH_SLOT;
	uint8_t *buf = malloc(cap);
	struct ipr_packet pk[MAX];
	if (!buf) {
		w->errors++;
		return NULL;
	}
	while (!atomic_load(&thr_stop)) {
		int n = ipr_recv_batch(w->h, w->q, buf, cap, pk, MAX, 50);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			w->errors++;
			w->last_err = n;
			break;
		}
		for (int i = 0; i < n; i++)
			if (pk[i].addr.queue != w->q)
				w->wrong_queue++;
		if (n > 0) {
			int s = ipr_send_batch(w->h, pk, (unsigned)n);
			if (s != n) {
				w->errors++;
				w->last_err = s;
			}
		}
		w->got += (unsigned long)n;
	}
	free(buf);
	return NULL;
}

struct injector {
	ipr_handle *h;
	unsigned long sent, errors;
	int last_err;
};

static void *inject_loop(void *arg)
{
	struct injector *in = arg;
	uint8_t pkt[sizeof(v4udp)];
	memcpy(pkt, v4udp, sizeof(pkt));
	pkt[22] = PORT_THRINJ >> 8;
	pkt[23] = PORT_THRINJ & 0xff;
	struct ipr_addr a = { .flags = IPR_ADDR_OUTBOUND };
	for (int i = 0; i < THR_INJECT; i++) {
		pkt[4] = (uint8_t)(i >> 8);
		pkt[5] = (uint8_t)i;
		ipr_csum_calc(pkt, sizeof(pkt), 0);
		int rc = ipr_send(in->h, pkt, sizeof(pkt), &a);
		if (rc) {
			in->errors++;
			in->last_err = rc;
		} else {
			in->sent++;
		}
		if (i % 16 == 0)
			usleep(1000);
	}
	return NULL;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_threads(void)
{
	struct ipr_open_opts o = { .sz = sizeof(o), .queues = 2 };
	ipr_handle *h = ipr_open_ex("udp.DstPort == 42000", IPR_LAYER_NETWORK,
				    0, 0, &o);
	if (!h) {
		check_fail("threads.open", "ipr_open_ex with 2 queues: %s",
			   ipr_strerror(-errno));
		return;
	}
	CHECK("threads.queue_count_2", ipr_queue_count(h) == 2,
	      "ipr_queue_count says %u", ipr_queue_count(h));
	int rx = udp_bound(AF_INET, PORT_THR);
	int rxi = udp_bound(AF_INET, PORT_THRINJ);
	int tx[THR_FLOWS];
	for (int i = 0; i < THR_FLOWS; i++)
		tx[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	struct qworker w[2] = { { .h = h, .q = 0 }, { .h = h, .q = 1 } };
	struct injector inj = { .h = h };
	pthread_t th[3];
	atomic_store(&thr_stop, 0);
	pthread_create(&th[0], NULL, qserve, &w[0]);
	pthread_create(&th[1], NULL, qserve, &w[1]);
	pthread_create(&th[2], NULL, inject_loop, &inj);

	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(PORT_THR),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned long sent = 0;
	char msg[64];
	for (int r = 0; r < THR_PER_FLOW; r++)
		for (int i = 0; i < THR_FLOWS; i++) {
			int l = snprintf(msg, sizeof(msg), "flow %d round %d", i, r);
			if (tx[i] >= 0 && sendto(tx[i], msg, (size_t)l, 0,
						 (struct sockaddr *)&dst, sizeof(dst)) == l)
				sent++;
		}
	/* Everything arrives within a few seconds or something is stuck. */
	unsigned long arrived = 0, arrived_inj = 0;
	char b[256];
	double end = mono_s() + 5;
	while (mono_s() < end && (arrived < sent || arrived_inj < THR_INJECT)) {
		while (recv(rx, b, sizeof(b), MSG_DONTWAIT) >= 0)
			arrived++;
		while (recv(rxi, b, sizeof(b), MSG_DONTWAIT) >= 0)
			arrived_inj++;
		usleep(5000);
	}
	pthread_join(th[2], NULL);
	atomic_store(&thr_stop, 1);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);

	CHECK("threads.sent_all", sent == THR_FLOWS * THR_PER_FLOW,
	      "only %lu of %d datagrams could be sent", sent,
	      THR_FLOWS * THR_PER_FLOW);
	CHECK("threads.both_queues_used", w[0].got > 0 && w[1].got > 0,
	      "queue 0 got %lu, queue 1 got %lu of %d flows", w[0].got,
	      w[1].got, THR_FLOWS);
	CHECK("threads.every_packet_once", w[0].got + w[1].got == sent,
	      "queues got %lu + %lu, %lu were sent", w[0].got, w[1].got, sent);
	CHECK("threads.queue_index_right", !w[0].wrong_queue && !w[1].wrong_queue,
	      "%lu/%lu packets said another queue", w[0].wrong_queue,
	      w[1].wrong_queue);
	CHECK("threads.no_errors", !w[0].errors && !w[1].errors,
	      "queue errors %lu (%s) / %lu (%s)", w[0].errors,
	      ipr_strerror(w[0].last_err), w[1].errors, ipr_strerror(w[1].last_err));
	CHECK("threads.all_arrived", arrived == sent,
	      "%lu of %lu datagrams arrived", arrived, sent);
	CHECK("threads.inject_concurrently", inj.sent == THR_INJECT &&
	      arrived_inj == THR_INJECT,
	      "injected %lu (errors %lu, %s), %lu arrived, want %d", inj.sent,
	      inj.errors, ipr_strerror(inj.last_err), arrived_inj, THR_INJECT);
	struct ipr_stats st;
	memset(&st, 0, sizeof(st));
	ipr_stats_get(h, &st);
	CHECK("threads.stats", st.recv_packets == sent && st.sent_packets == sent &&
	      st.injected_packets == THR_INJECT,
	      "recv %llu sent %llu injected %llu, want %lu %lu %d",
	      (unsigned long long)st.recv_packets,
	      (unsigned long long)st.sent_packets,
	      (unsigned long long)st.injected_packets, sent, sent, THR_INJECT);
	errno = 0;
	int rc = ipr_recv_batch(h, 2, g_rbuf, RCAP, g_pkts, 1, 0);
	judge("threads.recv_batch_queue_2_of_2", -EINVAL, rc, errno);

	for (int i = 0; i < THR_FLOWS; i++)
		if (tx[i] >= 0)
			close(tx[i]);
	close(rx);
	close(rxi);
	CHECK("threads.close", ipr_close(h) == 0, "ipr_close failed");
}

/* ---- what the kernel offers ------------------------------------------ */

/* Count the tables of this namespace whose name starts with @prefix. */
static int count_tables(const char *prefix)
{
	FILE *p = popen("nft list tables 2>/dev/null", "r");
	char line[256];
	int n = 0;

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char *name = strrchr(line, ' ');
		if (name && !strncmp(name + 1, prefix, strlen(prefix)))
			n++;
	}
	return pclose(p) == 0 ? n : -1;
}

/* As root the kernel is asked, not guessed, and its answers agree with
 * the kernel's version where the feature is part of nf_tables proper
 * (owner tables: 5.12, the inner payload base: 5.16); a probe leaves no
 * table behind. */
static void run_kernel_features(void)
{
	struct utsname u;
	unsigned x = 0, y = 0, ver;
	uint32_t v = 0;
	char d[512];

	CHECK("kernel.features", ipr_kernel_features(&v) == 0,
	      "ipr_kernel_features failed");
	uname(&u);
	sscanf(u.release, "%u.%u", &x, &y);
	ver = x * 1000 + y;
	CHECK("kernel.asked", !(v & IPR_KF_GUESSED), "answer guessed as root");
	/* IPREDIR_DISABLE turns features off, as on an older kernel */
	const char *off = getenv("IPREDIR_DISABLE");
	unsigned ver_own = off && strstr(off, "owner-tables") ? 0 : ver;
	unsigned ver_ih = off && strstr(off, "inner-payload") ? 0 : ver;
	CHECK("kernel.owner_tables", !(v & IPR_KF_OWNER_TABLES) == (ver_own < 5012),
	      "owner tables %s on %s", (v & IPR_KF_OWNER_TABLES) ? "yes" : "no",
	      u.release);
	CHECK("kernel.inner_payload", !(v & IPR_KF_INNER_PAYLOAD) == (ver_ih < 5016),
	      "inner payload %s on %s",
	      (v & IPR_KF_INNER_PAYLOAD) ? "yes" : "no", u.release);
	/* the handles are open: one queue way is there */
	CHECK("kernel.queue_way", (v & (IPR_KF_NATIVE_QUEUE | IPR_KF_XT_QUEUE)) != 0,
	      "neither queue way, yet handles are open (features %#x)", v);
	CHECK("kernel.no_probe_tables", count_tables("ipr_probe") == 0,
	      "a probe table is left: %d", count_tables("ipr_probe"));
	int n = ipr_kernel_features_format(v, "; ", d, sizeof(d));
	CHECK("kernel.format", n > 0 && strstr(d, u.release) &&
	      strstr(d, (v & IPR_KF_INNER_PAYLOAD) ? "Payload[i]: in the kernel"
						   : "Payload[i]: in user space"),
	      "'%s'", d);
}

/* ---- set-up and tear-down of the root part --------------------------- */

static const char *root_skip_reason(void)
{
	if (geteuid() != 0)
		return "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for a "
		       "private network namespace)";
	if (unshare(CLONE_NEWNET) < 0)
		return "cannot unshare a private network namespace";
	g_isolated = true;
	if (set_lo_up() < 0)
		return "cannot bring lo up in the private namespace";
	return NULL;
}

static int open_handles(void)
{
	H = ipr_open("udp.DstPort == 40001", IPR_LAYER_NETWORK, 0, 0);
	if (!H)
		return -errno;
	HS = ipr_open("udp.DstPort == 40002", IPR_LAYER_NETWORK, 0,
		      IPR_FLAG_SNIFF);
	if (!HS)
		return -errno;
	HI = ipr_open("true", IPR_LAYER_NETWORK, 0, IPR_FLAG_SEND_ONLY);
	if (!HI)
		return -errno;
	HR = ipr_open("udp.DstPort == 40003", IPR_LAYER_NETWORK, 0,
		      IPR_FLAG_RECV_ONLY);
	if (!HR)
		return -errno;
	HX = ipr_open("true", IPR_LAYER_NETWORK, 0, IPR_FLAG_SEND_ONLY);
	if (!HX)
		return -errno;
	int rc = ipr_shutdown(HX, IPR_SHUTDOWN_SEND);
	return rc;
}

static void close_handles(void)
{
	ipr_handle **all[] = { &H, &HS, &HI, &HR, &HX };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i]) {
			ipr_close(*all[i]);
			*all[i] = NULL;
		}
}

static void skip_root_cases(const char *why)
{
	static const char *groups[] = {
		"handle.*", "param.*", "inject.*", "fake.*", "held.*",
		"sniff.*", "threads.*",
	};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		check_skip(groups[i], "%s", why);
}

int main(void)
{
	g_filter = ipr_filter_compile("udp", IPR_LAYER_NETWORK, NULL);
	if (!g_filter) {
		check_fail("setup.filter", "cannot compile 'udp'");
		return check_exit();
	}
	/* As root, into the private namespace first: an open that wrongly
	 * succeeded must not touch the caller's namespace even for a moment.
	 * Then the pure-argument part, which needs no privilege. */
	const char *why = root_skip_reason();
	run_open_cases();
	if (geteuid() != 0 || g_isolated)
		run_drop_user_cases();
	run_failed_open_fds();
	run_big_filters();
	run_fn_cases(null_cases, sizeof(null_cases) / sizeof(null_cases[0]));
	run_taken_cases(opts_taken_cases, sizeof(opts_taken_cases) /
					  sizeof(opts_taken_cases[0]));
	if (why) {
		skip_root_cases(why);
		ipr_filter_free(g_filter);
		return check_exit();
	}
	g_big = calloc(1, (1u << 20) + 64);
	g_rbuf = malloc(RCAP);
	rx_held = udp_bound(AF_INET, PORT_HELD);
	rx_sniff = udp_bound(AF_INET, PORT_SNIFF);
	rx_inject = udp_bound(AF_INET, PORT_INJECT);
	rx_inject6 = udp_bound(AF_INET6, PORT_INJECT);
	if (!g_big || !g_rbuf || rx_held < 0 || rx_sniff < 0 || rx_inject < 0 ||
	    rx_inject6 < 0) {
		check_fail("setup", "cannot allocate or bind test sockets");
		return check_exit();
	}
	int rc = open_handles();
	if (rc == -EOPNOTSUPP) {
		close_handles();
		skip_root_cases("kernel lacks nf_tables owner tables or NFQUEUE");
		return check_exit();
	}
	if (rc) {
		check_fail("setup.open", "cannot open the test handles: %s",
			   ipr_strerror(rc));
		close_handles();
		return check_exit();
	}
	run_fn_cases(handle_cases, sizeof(handle_cases) / sizeof(handle_cases[0]));
	run_param_cases();
	run_busy_poll();
	run_inject_cases();
	run_fake_cases();
	run_steps();
	run_sniff_cases();
	run_threads();
	run_kernel_features();
	/* last: its waits outlast the hang time of the shared handles */
	run_busy_poll_idle();
	close_handles();
	close(rx_held);
	close(rx_sniff);
	close(rx_inject);
	close(rx_inject6);
	free(g_big);
	free(g_rbuf);
	ipr_filter_free(g_filter);
	return check_exit();
}
