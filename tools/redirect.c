/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* redirect.c - `ipredir redirect`: a user-space NAT.  Packets the filter
 * selects get their destination rewritten to --to ADDR:PORT; the target's
 * replies get their source rewritten back, so the client sees the address
 * and port it asked for throughout.  A flow table (a hash on the client's
 * address and port, the target being fixed) remembers the originals. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

#define BUCKETS 4096
#define SEC 1000000000ull
#define CLOSING_TIMEOUT (10 * SEC) /* after a FIN or a reset */

struct flow {
	struct flow *next;
	uint8_t proto;
	uint8_t client[16];   /* the source of the redirected packets */
	uint16_t cport;       /* network order, as all ports here */
	uint8_t odst[16];     /* the destination it asked for */
	uint16_t oport;
	bool closing;
	uint64_t last;        /* CLOCK_MONOTONIC ns */
};

struct table {
	struct flow *b[BUCKETS];
	unsigned long count;
	uint64_t tcp_timeout, udp_timeout;
};

struct counts {
	unsigned long long packets, out, back, passed, flows, expired, failed;
};

static unsigned hash(uint8_t proto, const uint8_t *a, uint16_t port)
{
	uint32_t h = 2166136261u ^ proto;
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	h = (h ^ port) * 16777619u;
	return h % BUCKETS;
}

static struct flow **find(struct table *t, uint8_t proto, const uint8_t *a,
			  uint16_t port)
{
	struct flow **pp = &t->b[hash(proto, a, port)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->proto == proto && (*pp)->cport == port &&
		    !memcmp((*pp)->client, a, 16))
			return pp;
	return pp;
}

static void expire(struct table *t, uint64_t now, struct counts *n)
{
	for (unsigned i = 0; i < BUCKETS; i++) {
		struct flow **pp = &t->b[i];
		while (*pp) {
			struct flow *f = *pp;
			uint64_t to = f->closing ? CLOSING_TIMEOUT :
				      f->proto == 6 ? t->tcp_timeout :
						      t->udp_timeout;
			if (now - f->last > to) {
				*pp = f->next;
				free(f);
				t->count--;
				n->expired++;
			} else {
				pp = &f->next;
			}
		}
	}
}

/* The packet's addresses and ports, and where its checksum sits. */
struct view {
	uint8_t *src, *dst;     /* into the packet */
	uint16_t *sport, *dport;
	uint16_t *csum;         /* TCP or UDP checksum field */
	size_t alen;            /* 4 or 16 */
	uint8_t proto;
};

static bool view_of(uint8_t *pkt, size_t len, struct view *v)
{
	struct ipr_headers hd;
	if (ipr_packet_parse(pkt, len, &hd) < 0 || hd.fragment ||
	    (!hd.tcp && !hd.udp))
		return false;
	uint8_t *l4 = pkt + hd.l4_off;
	if (hd.ip) {
		v->src = pkt + 12;
		v->dst = pkt + 16;
		v->alen = 4;
	} else {
		v->src = pkt + 8;
		v->dst = pkt + 24;
		v->alen = 16;
	}
	v->sport = (uint16_t *)l4;
	v->dport = (uint16_t *)(l4 + 2);
	v->csum = (uint16_t *)(l4 + (hd.tcp ? 16 : 6));
	v->proto = hd.protocol;
	return true;
}

/* Rewrite an address and a port, keeping the IPv4 header checksum and the
 * TCP/UDP checksum right by RFC 1624 updates.  Packets whose TCP/UDP
 * checksum is not final yet (CSUM_PARTIAL) are completed by the library. */
static void rewrite(uint8_t *pkt, const struct view *v, uint8_t *addr,
		    uint16_t *port, const uint8_t *na, uint16_t np,
		    bool partial)
{
	bool udp0 = v->proto == 17 && v->alen == 4 && *v->csum == 0;
	uint16_t c = *v->csum;
	for (size_t i = 0; i < v->alen; i += 4) {
		uint32_t o, w;
		memcpy(&o, addr + i, 4);
		memcpy(&w, na + i, 4);
		if (v->alen == 4) {
			uint16_t ic;
			memcpy(&ic, pkt + 10, 2);
			ic = ipr_csum_update32(ic, o, w);
			memcpy(pkt + 10, &ic, 2);
		}
		c = ipr_csum_update32(c, o, w);
	}
	c = ipr_csum_update16(c, *port, np);
	memcpy(addr, na, v->alen);
	*port = np;
	if (partial || udp0)
		return; /* the library completes it; or UDP without one */
	if (v->proto == 17 && c == 0)
		c = 0xffff;
	*v->csum = c;
}

struct ctx {
	struct table t;
	struct counts n;
	uint8_t target[16];
	uint16_t tport;        /* network order */
	size_t talen;
	bool verbose;
};

static void show_flow(const struct view *v, const struct flow *f,
		      const struct ctx *x)
{
	char c[IPR_ADDRSTRLEN], o[IPR_ADDRSTRLEN], t[IPR_ADDRSTRLEN];
	uint32_t a4;
	if (v->alen == 4) {
		memcpy(&a4, f->client, 4);
		ipr_ipv4_format(a4, c, sizeof(c));
		memcpy(&a4, f->odst, 4);
		ipr_ipv4_format(a4, o, sizeof(o));
		memcpy(&a4, x->target, 4);
		ipr_ipv4_format(a4, t, sizeof(t));
	} else {
		ipr_ipv6_format(f->client, c, sizeof(c));
		ipr_ipv6_format(f->odst, o, sizeof(o));
		ipr_ipv6_format(x->target, t, sizeof(t));
	}
	printf("flow %s %s %u -> %s %u now to %s %u\n",
	       f->proto == 6 ? "TCP" : "UDP", c, ntohs(f->cport), o,
	       ntohs(f->oport), t, ntohs(x->tport));
}

/* Decide and rewrite one packet; true if it was changed. */
static bool handle(struct ctx *x, struct ipr_packet *p, uint64_t now)
{
	struct view v;
	uint8_t key[16] = { 0 };
	bool partial = p->addr.flags & IPR_ADDR_CSUM_PARTIAL;
	x->n.packets++;
	if (!view_of(p->data, p->len, &v) || v.alen != x->talen)
		return false;
	if (!memcmp(v.src, x->target, v.alen) && *v.sport == x->tport) {
		/* From the target: a reply, if we sent it the request. */
		memcpy(key, v.dst, v.alen);
		struct flow *f = *find(&x->t, v.proto, key, *v.dport);
		if (!f)
			return false;
		f->last = now;
		rewrite(p->data, &v, v.src, v.sport, f->odst, f->oport,
			partial);
		x->n.back++;
		return true;
	}
	memcpy(key, v.src, v.alen);
	struct flow **pp = find(&x->t, v.proto, key, *v.sport), *f = *pp;
	if (!f || memcmp(f->odst, v.dst, v.alen) || f->oport != *v.dport) {
		/* New, or the client's port now asks for another place:
		 * the last one wins, as the target can tell them apart by
		 * the client's address and port alone. */
		if (!f) {
			f = calloc(1, sizeof(*f));
			if (!f)
				return false;
			*pp = f;
			x->t.count++;
			x->n.flows++;
		}
		f->proto = v.proto;
		memcpy(f->client, key, 16);
		f->cport = *v.sport;
		memset(f->odst, 0, 16);
		memcpy(f->odst, v.dst, v.alen);
		f->oport = *v.dport;
		f->closing = false;
		if (x->verbose)
			show_flow(&v, f, x);
	}
	f->last = now;
	if (v.proto == 6) {
		const uint8_t *fl = (const uint8_t *)v.sport + 13;
		if (*fl & 0x05) /* FIN or RST */
			f->closing = true;
	}
	rewrite(p->data, &v, v.dst, v.dport, x->target, x->tport, partial);
	x->n.out++;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir redirect [OPTIONS] --to ADDR:PORT FILTER\n"
"Send the TCP and UDP packets FILTER selects to ADDR:PORT instead (a\n"
"user-space NAT), and rewrite the source of the replies back, so that the\n"
"client sees the address and port it connected to throughout.  Example:\n"
"  ipredir redirect --to 127.0.0.1:8080 'outbound and tcp.DstPort == 80'\n\n"
"  -t, --to ADDR:PORT   the new destination ([ADDR]:PORT for IPv6)\n"
"  -T, --timeout SEC    idle time after which a flow is forgotten\n"
"                       (default: TCP 300, UDP 60; 10 after a FIN or reset)\n"
"  -i, --interface NAME only packets of this interface (replies are taken\n"
"                       on any)\n"
"  -p, --priority P     handle priority (%d to %d, default 0)\n"
"  -v, --verbose        a line for every new flow (stdout)\n"
"  -h, --help\n\n"
"Packets of the other IP version, fragments and other protocols are passed\n"
"on untouched.  SIGINT or SIGTERM print 'redirect: total packets=N out=N\n"
"back=N flows=N ...'; flows that are open then break.\n"
"Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n",
		IPR_PRIORITY_MIN, IPR_PRIORITY_MAX);
}

/* What the command line asks for. */
struct redirect_opts {
	struct tool_sel sel;    /* no -f: the network layer */
	const char *to;
	long timeout;
	struct tool_endpoint ep;
	char *user;             /* the user's filter with -i; malloc'ed */
};

#define RUN (-1) /* parse_opts: go on and run */

/* The options into @o (and --verbose into @x); RUN, or the exit code after
 * --help or the one error line. */
static int parse_opts(int argc, char **argv, struct redirect_opts *o,
		      struct ctx *x)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		TOOL_OPT_INTERFACE, TOOL_OPT_PRIORITY,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *text;
	int c;

	*o = (struct redirect_opts){ .sel = TOOL_SEL_INIT };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:T:i:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->to = optarg;
			if (!tool_parse_addr_port("redirect", "--to", optarg,
						  &o->ep))
				return EXIT_USAGE;
			break;
		case 'T':
			if (!tool_parse_long("redirect", "--timeout", optarg, 1,
					     86400, &o->timeout))
				return EXIT_USAGE;
			break;
		case 'v': x->verbose = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			if (!tool_sel_opt("redirect", c, argv, IPR_PRIORITY_MAX,
					  &o->sel))
				return EXIT_USAGE;
			break;
		}
	}
	if (!tool_one_filter("redirect", argc, argv, optind, true, &text))
		return EXIT_USAGE;
	if (!o->to) {
		fprintf(stderr, "ipredir redirect: --to ADDR:PORT is needed for "
			"'%s'\n", text);
		return EXIT_USAGE;
	}
	o->user = tool_filter("redirect", text, o->sel.ifname, o->sel.layer);
	return o->user ? RUN : EXIT_USAGE;
}

/* The target into @x and its text into @ta; the handle's filter: the
 * user's, and the target's replies on any interface (malloc'ed, NULL
 * when out of memory). */
static char *handle_filter(const struct redirect_opts *o, struct ctx *x,
			   char ta[IPR_ADDRSTRLEN])
{
	const struct tool_endpoint *ep = &o->ep;
	char *filter;
	if (ep->ipv6) {
		ipr_ipv6_format(ep->addr6, ta, IPR_ADDRSTRLEN);
		memcpy(x->target, ep->addr6, 16);
		x->talen = 16;
	} else {
		ipr_ipv4_format(ep->addr4, ta, IPR_ADDRSTRLEN);
		memcpy(x->target, &ep->addr4, 4);
		x->talen = 4;
	}
	x->tport = htons(ep->port);
	const char *af = ep->ipv6 ? "ipv6" : "ip";
	if (asprintf(&filter, "(%s) or (tcp.SrcPort == %u and %s.SrcAddr == %s)"
		     " or (udp.SrcPort == %u and %s.SrcAddr == %s)", o->user,
		     ep->port, af, ta, ep->port, af, ta) < 0)
		return NULL;
	return filter;
}

/* Rewrite and answer packets until a signal; the exit code. */
static int redirect_loop(ipr_handle *h, struct tool_batch *b, struct ctx *x)
{
	uint64_t last_sweep = tool_now_ns();
	while (!tool_stop) {
		int k = tool_batch_recv(h, b, 1000);
		if (k < 0) {
			fprintf(stderr, "ipredir redirect: receive: %s\n",
				ipr_strerror(k));
			return EXIT_FAIL;
		}
		uint64_t now = tool_now_ns();
		for (int i = 0; i < k; i++) {
			struct ipr_packet *p = &b->pkts[i];
			bool changed = handle(x, p, now);
			if (changed && (p->addr.flags & IPR_ADDR_TRUNCATED)) {
				/* only part of it reached us: it cannot be
				 * written back, and unchanged it would go to
				 * the wrong place */
				p->verdict = IPR_VERDICT_DROP;
				x->n.failed++;
			} else if (changed) {
				p->verdict = IPR_VERDICT_REPLACE;
			} else {
				x->n.passed++;
			}
		}
		for (int i = 0; i < k;) {
			int r = ipr_send_batch(h, b->pkts + i, (unsigned)(k - i));
			i += r > 0 ? r : 0;
			if (i < k) {
				x->n.failed++;
				i++;
			}
		}
		if (now - last_sweep >= SEC) {
			expire(&x->t, now, &x->n);
			last_sweep = now;
		}
	}
	return EXIT_OK;
}

int cmd_redirect(int argc, char **argv)
{
	static struct ctx x; /* the flow table's buckets: 32 KiB */
	struct redirect_opts o;
	char ta[IPR_ADDRSTRLEN];

	memset(&x, 0, sizeof(x));
	int rc = parse_opts(argc, argv, &o, &x);
	if (rc != RUN)
		return rc;
	rc = EXIT_OK;
	char *filter = handle_filter(&o, &x, ta);
	if (!filter) {
		free(o.user);
		return EXIT_FAIL;
	}
	x.t.tcp_timeout = (uint64_t)(o.timeout ? o.timeout : 300) * SEC;
	x.t.udp_timeout = (uint64_t)(o.timeout ? o.timeout : 60) * SEC;

	struct tool_batch b = { 0 };
	ipr_handle *h = tool_start("redirect", filter, &o.sel, 0, NULL, &b,
				   &rc);
	if (!h)
		goto out;
	fprintf(stderr, "redirect: running, filter '%s' to %s%s%s:%u\n", o.user,
		o.ep.ipv6 ? "[" : "", ta, o.ep.ipv6 ? "]" : "", o.ep.port);
	rc = redirect_loop(h, &b, &x);
	fprintf(stderr, "redirect: total packets=%llu out=%llu back=%llu "
		"passed=%llu flows=%llu expired=%llu failed=%llu\n", x.n.packets,
		x.n.out, x.n.back, x.n.passed, x.n.flows, x.n.expired,
		x.n.failed);
out:
	if (h)
		ipr_close(h);
	expire(&x.t, UINT64_MAX, &x.n);
	tool_batch_free(&b);
	free(filter);
	free(o.user);
	return rc;
}
