/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util.c - what the subcommands share: option parsing, error lines, signals,
 * filters with -i, and the one-line packet format. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

/* A CPU list as taskset takes it: "0,2-3".  Fills cpus[] in the order
 * given (ranges ascending), at most @max; each must be below @ncpu. */
int tool_parse_cpus(const char *cmd, const char *opt, const char *s,
		    long ncpu, int *cpus, int max)
{
	int n = 0;
	const char *p = s ? s : "";
	for (;;) {
		char *end;
		errno = 0;
		long a = strtol(p, &end, 10), b = a;
		if (end == p || errno || a < 0)
			goto bad;
		if (*end == '-') {
			const char *q = end + 1;
			b = strtol(q, &end, 10);
			if (end == q || errno || b < a)
				goto bad;
		}
		if (b >= ncpu) {
			fprintf(stderr, "ipredir %s: %s '%s': CPU %ld does not "
				"exist (this machine has %ld)\n", cmd, opt, s, b,
				ncpu);
			return -1;
		}
		for (long c = a; c <= b; c++) {
			if (n == max) {
				fprintf(stderr, "ipredir %s: %s '%s': more than "
					"%d CPUs\n", cmd, opt, s, max);
				return -1;
			}
			cpus[n++] = (int)c;
		}
		if (*end == '\0')
			return n;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
bad:
	fprintf(stderr, "ipredir %s: %s wants a CPU list such as '0,2-3', not "
		"'%s'\n", cmd, opt, s ? s : "");
	return -1;
}

bool tool_parse_long(const char *cmd, const char *opt, const char *s,
		     long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 0) : 0;
	if (!s || !*s || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "ipredir %s: %s wants a number from %ld to %ld, "
			"not '%s'\n", cmd, opt, lo, hi, s ? s : "");
		return false;
	}
	*out = v;
	return true;
}

/* Filters may be block lists of 100s of KB: quote at most this much of
 * one, around the place an error is about. */
#define QUOTE_MAX 100

/* The part of @filter to quote around @pos (-1: from the start); *@caret
 * gets where @pos lands in it. */
static void quote_window(const char *filter, int pos, int *start, int *len,
			 int *caret)
{
	int n = (int)strnlen(filter, 1 << 21), s = 0;

	if (pos > n)
		pos = n;
	if (n > QUOTE_MAX && pos > QUOTE_MAX / 2)
		s = pos - QUOTE_MAX / 2;
	*start = s;
	*len = n - s > QUOTE_MAX ? QUOTE_MAX : n - s;
	*caret = pos < 0 ? 0 : pos - s;
}

void tool_open_error(const char *cmd, const char *filter,
		     enum ipr_layer layer, int err)
{
	struct ipr_filter_error fe = { 0 };
	int start, len, caret, pos = -1;
	size_t flen = strnlen(filter, 1 << 21);
	/* what the library adds (kernel text, which limit, where) is read
	 * before anything else can overwrite it */
	char detail[256];

	snprintf(detail, sizeof(detail), "%s", ipr_last_error(&pos));
	ipr_filter *f = ipr_filter_compile(filter, layer, &fe);
	if (!f) {
		quote_window(filter, fe.pos, &start, &len, &caret);
		fprintf(stderr, "ipredir %s: bad filter: %s at position %d\n",
			cmd, fe.msg ? fe.msg : "error", fe.pos);
		fprintf(stderr, "  %s%.*s%s\n  %*s^\n", start ? "..." : "",
			len, filter + start,
			(size_t)start + (size_t)len < flen ? "..." : "",
			caret + (start ? 3 : 0), "");
		return;
	}
	ipr_filter_free(f);
	if (err == -EOPNOTSUPP && detail[0]) {
		/* "this kernel lacks ...": which part, by name */
		fprintf(stderr, "ipredir %s: cannot open a handle: %s\n", cmd,
			detail);
		return;
	}
	if (err == -EPERM || err == -EACCES) {
		fprintf(stderr, "ipredir %s: not permitted: opening a handle "
			"needs CAP_NET_ADMIN (run as root)\n", cmd);
		return;
	}
	quote_window(filter, pos, &start, &len, &caret);
	fprintf(stderr, "ipredir %s: cannot open a handle for '%s%.*s%s'%s: "
		"%s\n", cmd, start ? "..." : "", len, filter + start,
		(size_t)start + (size_t)len < flen ? "..." : "",
		flen > QUOTE_MAX ? " (quoted in part)" : "", ipr_strerror(-err));
	if (detail[0])
		fprintf(stderr, "  %s\n", detail);
	if (pos >= 0)
		fprintf(stderr, "  at position %d: %s%.*s%s\n  %*s^\n", pos,
			start ? "..." : "", len, filter + start,
			(size_t)start + (size_t)len < flen ? "..." : "",
			(int)strlen("at position : ") + snprintf(NULL, 0, "%d", pos) +
			caret + (start ? 3 : 0), "");
}

char *tool_read_filter(const char *cmd, const char *arg)
{
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (arg[0] != '@')
		return strdup(arg);
	fp = strcmp(arg, "@-") ? fopen(arg + 1, "r") : stdin;
	if (!fp) {
		fprintf(stderr, "ipredir %s: cannot read the filter from '%s': "
			"%s\n", cmd, arg + 1, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);
			if (!nb) {
				fprintf(stderr, "ipredir %s: out of memory\n", cmd);
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0) {
			if (ferror(fp)) {
				fprintf(stderr, "ipredir %s: cannot read the "
					"filter from '%s'\n", cmd, arg + 1);
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (fp != stdin)
		fclose(fp);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (strlen(buf) != n) {
		fprintf(stderr, "ipredir %s: the filter file '%s' holds a NUL "
			"byte\n", cmd, arg + 1);
		free(buf);
		return NULL;
	}
	/* a trailing newline is no part of the filter */
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!n) {
		fprintf(stderr, "ipredir %s: the filter file '%s' is empty\n",
			cmd, arg + 1);
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Shared by the subcommands: signals, option errors, filters, packet lines */

volatile sig_atomic_t tool_stop;

static void on_stop_signal(int sig)
{
	tool_stop = sig;
}

const char *tool_user;
const char *tool_user_cmd;
bool tool_user_raw;

void tool_signals(void)
{
	if (tool_user &&
	    tool_drop_privileges(tool_user_cmd, tool_user, tool_user_raw) < 0)
		exit(EXIT_USAGE); /* the handle's table goes with the process */
	/* No SA_RESTART: a blocked receive returns EINTR and the loop sees
	 * tool_stop at once. */
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	tool_notify_ready(); /* the handle is open: the service is up */
}

void tool_bad_option(const char *cmd, int c, char **argv, int optind_now)
{
	const char *arg = optind_now > 0 ? argv[optind_now - 1] : "";
	if (c == ':') {
		fprintf(stderr, "ipredir %s: option '%s' wants a value\n", cmd,
			arg);
	} else if (optopt && arg[0] == '-' && arg[1] != '-') {
		fprintf(stderr, "ipredir %s: unknown option '-%c' (try 'ipredir "
			"%s --help')\n", cmd, optopt, cmd);
	} else {
		fprintf(stderr, "ipredir %s: unknown option '%s' (try 'ipredir "
			"%s --help')\n", cmd, arg, cmd);
	}
}

bool tool_parse_double(const char *cmd, const char *opt, const char *s,
		       double lo, double hi, const char *what, double *out)
{
	char *end;
	errno = 0;
	double v = s ? strtod(s, &end) : 0;
	if (!s || !*s || *end || errno || !(v >= lo && v <= hi)) {
		fprintf(stderr, "ipredir %s: %s wants %s from %g to %g, not "
			"'%s'\n", cmd, opt, what, lo, hi, s ? s : "");
		return false;
	}
	*out = v;
	return true;
}

bool tool_parse_addr_port(const char *cmd, const char *opt, const char *s,
			  struct tool_endpoint *ep)
{
	char host[IPR_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : 0;
	long port;
	char *end;

	memset(ep, 0, sizeof(*ep));
	if (!colon || hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535)
		goto bad;
	ep->port = (uint16_t)port;
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		if (ipr_ipv6_parse(host + 1, ep->addr6) < 0)
			goto bad;
		ep->ipv6 = true;
	} else if (ipr_ipv4_parse(host, &ep->addr4) < 0) {
		goto bad;
	}
	return true;
bad:
	fprintf(stderr, "ipredir %s: %s wants ADDR:PORT (IPv6 as [ADDR]:PORT), "
		"not '%s'\n", cmd, opt, s);
	return false;
}

char *tool_filter(const char *cmd, const char *filter, const char *ifname,
		  enum ipr_layer layer)
{
	ipr_filter *f = ipr_filter_compile(filter, layer, NULL);
	if (!f) {
		tool_open_error(cmd, filter, layer, -EINVAL);
		return NULL;
	}
	ipr_filter_free(f);
	char *out;
	if (!ifname) {
		out = strdup(filter);
	} else {
		unsigned idx = if_nametoindex(ifname);
		if (!idx) {
			fprintf(stderr, "ipredir %s: no interface '%s' in this "
				"namespace (see 'ipredir adapters')\n", cmd,
				ifname);
			return NULL;
		}
		if (asprintf(&out, "(%s) and ifIdx == %u", filter, idx) < 0)
			out = NULL;
	}
	if (!out)
		fprintf(stderr, "ipredir %s: out of memory\n", cmd);
	return out;
}

bool tool_one_filter(const char *cmd, int argc, char **argv, int first,
		     bool required, const char **filter)
{
	if (argc - first > 1) {
		fprintf(stderr, "ipredir %s: one FILTER expected, got '%s' "
			"after it (quote the filter)\n", cmd, argv[first + 1]);
		return false;
	}
	if (first >= argc) {
		if (required) {
			fprintf(stderr, "ipredir %s: a FILTER is needed (try "
				"'ipredir %s --help')\n", cmd, cmd);
			return false;
		}
		*filter = "true";
		return true;
	}
	if (!*argv[first]) {
		fprintf(stderr, "ipredir %s: empty FILTER ''\n", cmd);
		return false;
	}
	/* @FILE: the filter is the file's text (kept to the exit) */
	*filter = tool_read_filter(cmd, argv[first]);
	return *filter != NULL;
}

bool tool_sel_opt(const char *cmd, int c, char **argv, long prio_max,
		  struct tool_sel *s)
{
	switch (c) {
	case 'i':
		s->ifname = optarg;
		return true;
	case 'p':
		return tool_parse_long(cmd, "--priority", optarg,
				       IPR_PRIORITY_MIN, prio_max, &s->prio);
	case 'f':
		s->layer = IPR_LAYER_NETWORK_FORWARD;
		return true;
	default:
		tool_bad_option(cmd, c, argv, optind);
		return false;
	}
}

char *tool_sel_filter(const char *cmd, int argc, char **argv, int first,
		      bool required, const struct tool_sel *s)
{
	const char *text;
	if (!tool_one_filter(cmd, argc, argv, first, required, &text))
		return NULL;
	char *out = tool_filter(cmd, text, s->ifname, s->layer);
	if (first < argc)
		free((char *)text); /* tool_read_filter's copy, not "true" */
	return out;
}

ipr_handle *tool_open(const char *cmd, const char *filter,
		      enum ipr_layer layer, int16_t prio, uint64_t flags,
		      const struct ipr_open_opts *opts, int *rc)
{
	ipr_handle *h = ipr_open_ex(filter, layer, prio, flags, opts);
	if (!h) {
		int e = errno;
		tool_open_error(cmd, filter, layer, -e);
		*rc = e == EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return h;
}

ipr_handle *tool_start(const char *cmd, const char *filter,
		       const struct tool_sel *s, uint64_t flags,
		       const struct ipr_open_opts *opts, struct tool_batch *b,
		       int *rc)
{
	ipr_handle *h = tool_open(cmd, filter, s->layer, (int16_t)s->prio, flags,
				  opts, rc);
	if (!h)
		return NULL;
	if (tool_batch_init(b) < 0) {
		fprintf(stderr, "ipredir %s: out of memory\n", cmd);
		ipr_close(h);
		*rc = EXIT_FAIL;
		return NULL;
	}
	tool_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return h;
}

int tool_batch_init(struct tool_batch *b)
{
	b->buf = malloc((size_t)TOOL_BATCH * IPR_BATCH_SLOT);
	b->pkts = calloc(TOOL_BATCH, sizeof(*b->pkts));
	if (b->buf && b->pkts)
		return 0;
	tool_batch_free(b);
	return -ENOMEM;
}

void tool_batch_free(struct tool_batch *b)
{
	free(b->buf);
	free(b->pkts);
	b->buf = NULL;
	b->pkts = NULL;
}

int tool_batch_recv(ipr_handle *h, struct tool_batch *b, int timeout_ms)
{
	int n = ipr_recv_batch(h, 0, b->buf, (size_t)TOOL_BATCH * IPR_BATCH_SLOT,
			       b->pkts, TOOL_BATCH, timeout_ms);
	tool_watchdog_kick();
	return n == -EINTR ? 0 : n;
}

uint64_t tool_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fmt_ip(char *buf, size_t n, const struct ipr_headers *hd,
		   bool src)
{
	if (hd->ip)
		ipr_ipv4_format(src ? hd->ip->src : hd->ip->dst, buf, n);
	else
		ipr_ipv6_format(src ? hd->ipv6->src : hd->ipv6->dst, buf, n);
}

static void fmt_ep(char *buf, size_t n, const struct ipr_headers *hd,
		   bool src, int port)
{
	char a[IPR_ADDRSTRLEN];
	fmt_ip(a, sizeof(a), hd, src);
	if (port < 0)
		snprintf(buf, n, "%s", a);
	else if (hd->ipv6)
		snprintf(buf, n, "[%s]:%d", a, port);
	else
		snprintf(buf, n, "%s:%d", a, port);
}

static void tcp_flags(char *buf, uint8_t f)
{
	/* tcpdump's letters: S F R P U, '.' for ACK */
	char *p = buf;
	*p++ = '[';
	if (f & 0x02) *p++ = 'S';
	if (f & 0x01) *p++ = 'F';
	if (f & 0x04) *p++ = 'R';
	if (f & 0x08) *p++ = 'P';
	if (f & 0x20) *p++ = 'U';
	if (f & 0x10) *p++ = '.';
	if (p == buf + 1) {
		strcpy(p, "none");
		p += 4;
	}
	*p++ = ']';
	*p = 0;
}

int tool_packet_line(char *buf, size_t n, const void *pkt, size_t len,
		     const struct ipr_addr *a)
{
	char tm[32], src[IPR_ADDRSTRLEN + 10], dst[IPR_ADDRSTRLEN + 10];
	char proto[16], extra[64] = "";
	struct ipr_headers hd;
	time_t sec = (time_t)(a->timestamp / 1000000000ull);
	struct tm lt;
	const char *dir = a->layer == IPR_LAYER_NETWORK_FORWARD ? "fwd" :
			  (a->flags & IPR_ADDR_OUTBOUND) ? "out" : "in";
	int sport = -1, dport = -1;

	localtime_r(&sec, &lt);
	strftime(tm, sizeof(tm), "%H:%M:%S", &lt);
	if (ipr_packet_parse(pkt, len, &hd) < 0)
		return snprintf(buf, n, "%s.%06u %s if=%u not-ip len=%u", tm,
				(unsigned)(a->timestamp % 1000000000ull / 1000),
				dir, a->if_idx, a->orig_len);
	if (hd.tcp) {
		strcpy(proto, "TCP");
		sport = ntohs(hd.tcp->src_port);
		dport = ntohs(hd.tcp->dst_port);
		tcp_flags(extra, hd.tcp->flags);
	} else if (hd.udp) {
		strcpy(proto, "UDP");
		sport = ntohs(hd.udp->src_port);
		dport = ntohs(hd.udp->dst_port);
	} else if (hd.icmp || hd.icmpv6) {
		const struct ipr_icmphdr *ic = hd.icmp ? hd.icmp : hd.icmpv6;
		strcpy(proto, hd.icmp ? "ICMP" : "ICMPv6");
		snprintf(extra, sizeof(extra), "type=%u code=%u", ic->type,
			 ic->code);
	} else {
		snprintf(proto, sizeof(proto), "proto=%u", hd.protocol);
	}
	fmt_ep(src, sizeof(src), &hd, true, sport);
	fmt_ep(dst, sizeof(dst), &hd, false, dport);
	return snprintf(buf, n, "%s.%06u %s if=%u %s %s -> %s len=%u%s%s%s%s%s%s",
			tm, (unsigned)(a->timestamp % 1000000000ull / 1000),
			dir, a->if_idx, proto, src, dst, a->orig_len,
			*extra ? " " : "", extra,
			(a->flags & IPR_ADDR_LOOPBACK) ? " loopback" : "",
			(a->flags & IPR_ADDR_GSO) ? " gso" : "",
			hd.fragment ? " frag" : "",
			(a->flags & IPR_ADDR_TRUNCATED) ? " truncated" : "");
}

void tool_hexdump(FILE *f, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t off = 0; off < len; off += 16) {
		fprintf(f, "\t0x%04zx: ", off);
		for (size_t i = off; i < off + 16; i++) {
			if (i < len)
				fprintf(f, "%02x", p[i]);
			else
				fputs("  ", f);
			if (i & 1)
				fputc(' ', f);
		}
		fputc(' ', f);
		for (size_t i = off; i < off + 16 && i < len; i++)
			fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.', f);
		fputc('\n', f);
	}
}

static int add_table(const struct ipr_table_info *t, void *data)
{
	struct tool_tables *tt = data;
	if (tt->n == tt->cap) {
		size_t nc = tt->cap ? tt->cap * 2 : 16;
		struct ipr_table_info *nv = realloc(tt->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		tt->v = nv;
		tt->cap = nc;
	}
	tt->v[tt->n++] = *t;
	return 0;
}

int tool_nft_tables(struct tool_tables *tt)
{
	memset(tt, 0, sizeof(*tt));
	return ipri_tables_list(NFPROTO_UNSPEC, add_table, tt);
}

void tool_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}
