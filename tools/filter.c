/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter.c - `ipredir filter check|explain|eval`: the filter language from
 * the command line, without a handle (no root needed). */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

/* Exit codes of `filter check` and `filter eval` beyond tool.h's. */
#define EXIT_NO_MATCH 1 /* eval: no match */
#define EXIT_BAD      1 /* check: not a valid filter */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir filter check [--layer L] FILTER\n"
"       ipredir filter explain [--layer L] FILTER\n"
"       ipredir filter eval FILTER --packet HEX [OPTIONS]\n"
"\n"
"check    print the normalised filter (exit 0), or the error with a caret\n"
"         under its position (exit 1)\n"
"explain  print the kernel chains and rules the filter becomes on each\n"
"         hook, and what user space checks again\n"
"eval     run the filter on one packet (IPv4 or IPv6 header first, in hex;\n"
"         spaces and colons are ignored): print 'match' (exit 0) or\n"
"         'no match' (exit 1)\n"
"\n"
"Options:\n"
"  -i, --interface NAME      only packets of this interface ('ifIdx == N'\n"
"                            ANDed in; eval: the packet's, unless --ifidx)\n"
"  --layer network|forward   the handle's layer (default network)\n"
"  --inbound | --outbound    eval: direction (default inbound)\n"
"  --forward                 eval: a forwarded packet (layer forward)\n"
"  --ifidx N                 eval: interface index of the direction\n"
"  --ifname NAME             eval: its name (default: looked up from --ifidx)\n"
"  --loopback                eval: over the loopback device (outbound)\n"
"  --mark N  --uid N  --gid N  --timestamp NS  --priority N\n"
"  --ct-state new|established|related|invalid|untracked\n"
"\n"
"Exit codes: check 0 valid, 1 not; explain 0; eval 0 match, 1 no match;\n"
"2 usage error, or (explain, eval) a bad filter or packet.\n"
"See ipredir-filter(1) for the language.\n");
}

/* The extent of the token at @pos, for quoting it. */
static size_t token_len(const char *s, size_t pos)
{
	size_t n = strlen(s), i = pos;

	if (pos >= n)
		return 0;
	if (s[i] == '"') {
		for (i++; i < n && s[i] != '"'; i++)
			;
		return (i < n ? i + 1 : i) - pos;
	}
	while (i < n && i - pos < 40 &&
	       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		(s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
		s[i] == ':' || (s[i] == '-' && i == pos)))
		i++;
	if (i == pos) {
		i++;
		if (i < n && strchr("=&|<>", s[i]) && strchr("=&|<>!", s[pos]))
			i++;
	}
	return i - pos;
}

/* One line that quotes the bad token, then the filter with a caret. */
static void filter_error(const char *sub, const char *text,
			 const struct ipr_filter_error *e)
{
	size_t n = strlen(text), pos = e->pos < 0 ? 0 : (size_t)e->pos, tl;

	if (pos > n)
		pos = n;
	tl = token_len(text, pos);
	if (tl)
		fprintf(stderr, "ipredir filter %s: %s at position %zu: '%.*s'\n",
			sub, e->msg ? e->msg : "bad filter", pos, (int)tl,
			text + pos);
	else
		fprintf(stderr, "ipredir filter %s: %s at position %zu (the end)\n",
			sub, e->msg ? e->msg : "bad filter", pos);
	/* tabs and newlines as spaces, so that the caret lines up */
	fputs("  ", stderr);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		fputc(c < 0x20 || c == 0x7f ? ' ' : c, stderr);
	}
	fprintf(stderr, "\n  %*s^\n", (int)pos, "");
}

static bool parse_layer(const char *s, enum ipr_layer *layer)
{
	if (!strcmp(s, "network"))
		*layer = IPR_LAYER_NETWORK;
	else if (!strcmp(s, "forward") || !strcmp(s, "network-forward") ||
		 !strcmp(s, "network_forward"))
		*layer = IPR_LAYER_NETWORK_FORWARD;
	else {
		fprintf(stderr, "ipredir filter: --layer wants network or "
			"forward, not '%s'\n", s);
		return false;
	}
	return true;
}

/* Hex digits, with spaces, colons and a leading 0x allowed. */
static uint8_t *parse_hex(const char *s, size_t *len)
{
	size_t n = strlen(s), k = 0;
	uint8_t *out = malloc(n / 2 + 1);
	int hi = -1;

	if (!out)
		return NULL;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		int v = ipri_hexval((unsigned char)*s);

		if (*s == ' ' || *s == ':' || *s == '\t' || *s == '\n')
			continue;
		if (v < 0) {
			fprintf(stderr, "ipredir filter eval: --packet: '%c' is not "
				"a hex digit\n", *s);
			free(out);
			return NULL;
		}
		if (hi < 0) {
			hi = v;
		} else {
			out[k++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0 || k == 0 || k > IPR_MTU_MAX) {
		fprintf(stderr, "ipredir filter eval: --packet wants an even "
			"number of hex digits, 1 to %d bytes\n", IPR_MTU_MAX);
		free(out);
		return NULL;
	}
	*len = k;
	return out;
}

static const struct {
	const char *name;
	uint32_t bit;
} ct_names[] = {
	{ "new", IPR_CT_NEW }, { "established", IPR_CT_ESTABLISHED },
	{ "related", IPR_CT_RELATED }, { "invalid", IPR_CT_INVALID },
	{ "untracked", IPR_CT_UNTRACKED },
};

enum {
	O_LAYER = 256, O_PACKET, O_INBOUND, O_OUTBOUND, O_FORWARD, O_IFIDX,
	O_IFNAME, O_LOOPBACK, O_MARK, O_UID, O_GID, O_CT, O_TS, O_PRIO,
};

static const struct option opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "interface", required_argument, NULL, 'i' },
	{ "layer", required_argument, NULL, O_LAYER },
	{ "packet", required_argument, NULL, O_PACKET },
	{ "inbound", no_argument, NULL, O_INBOUND },
	{ "outbound", no_argument, NULL, O_OUTBOUND },
	{ "forward", no_argument, NULL, O_FORWARD },
	{ "ifidx", required_argument, NULL, O_IFIDX },
	{ "ifname", required_argument, NULL, O_IFNAME },
	{ "loopback", no_argument, NULL, O_LOOPBACK },
	{ "mark", required_argument, NULL, O_MARK },
	{ "uid", required_argument, NULL, O_UID },
	{ "gid", required_argument, NULL, O_GID },
	{ "ct-state", required_argument, NULL, O_CT },
	{ "timestamp", required_argument, NULL, O_TS },
	{ "priority", required_argument, NULL, O_PRIO },
	{ NULL, 0, NULL, 0 },
};

static bool parse_u32(const char *opt, const char *s, uint32_t *out)
{
	long v;

	if (!tool_parse_long("filter eval", opt, s, 0, 0xffffffffL, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* What the command line asks for. */
struct filter_opts {
	const char *sub;        /* check, explain, eval */
	char cmd[24];           /* "filter SUB", for error lines */
	enum ipr_layer layer;
	struct ipr_filter_env env;
	struct ipr_addr a;
	const char *hex, *ifname;
	bool outbound, inbound, have_ifidx;
	long prio;
	char *text;             /* the FILTER (@FILE read) */
};

#define RUN (-1) /* parse_*: go on */

/* An option of eval's that sets a field of the packet's address; RUN or
 * EXIT_USAGE. */
static int eval_opt(int c, const char *arg, struct filter_opts *o)
{
	struct ipr_addr *a = &o->a;
	switch (c) {
	case O_PACKET: o->hex = arg; break;
	case O_INBOUND: o->inbound = true; break;
	case O_OUTBOUND: o->outbound = true; break;
	case O_FORWARD: o->layer = IPR_LAYER_NETWORK_FORWARD; break;
	case O_IFIDX:
		o->have_ifidx = true;
		return parse_u32("--ifidx", arg, &a->if_idx) ? RUN : EXIT_USAGE;
	case O_IFNAME: o->env.if_name = arg; break;
	case O_LOOPBACK: a->flags |= IPR_ADDR_LOOPBACK; break;
	case O_MARK:
		if (!parse_u32("--mark", arg, &a->mark))
			return EXIT_USAGE;
		if (a->mark)
			a->flags |= IPR_ADDR_MARK;
		break;
	case O_UID:
		if (!parse_u32("--uid", arg, &a->uid))
			return EXIT_USAGE;
		a->flags |= IPR_ADDR_UID;
		break;
	case O_GID:
		if (!parse_u32("--gid", arg, &a->gid))
			return EXIT_USAGE;
		a->flags |= IPR_ADDR_GID;
		break;
	case O_CT:
		for (size_t k = 0; k < sizeof(ct_names) / sizeof(ct_names[0]); k++)
			if (!strcmp(arg, ct_names[k].name))
				o->env.ct_state = ct_names[k].bit;
		if (!o->env.ct_state) {
			fprintf(stderr, "ipredir filter eval: --ct-state wants "
				"new, established, related, invalid or "
				"untracked, not '%s'\n", arg);
			return EXIT_USAGE;
		}
		break;
	case O_TS: {
		char *end;

		errno = 0;
		a->timestamp = strtoull(arg, &end, 0);
		if (!*arg || *end || errno || *arg == '-') {
			fprintf(stderr, "ipredir filter eval: --timestamp "
				"wants nanoseconds, not '%s'\n", arg);
			return EXIT_USAGE;
		}
		break;
	}
	case O_PRIO:
		if (!tool_parse_long("filter eval", "--priority", arg,
				     IPR_PRIORITY_MIN, IPR_PRIORITY_MAX,
				     &o->prio))
			return EXIT_USAGE;
		break;
	default:
		return EXIT_USAGE;
	}
	return RUN;
}

/* The subcommand, its options and the FILTER into @o; RUN, or the exit
 * code after --help or the one error line. */
static int parse_opts(int argc, char **argv, struct filter_opts *o)
{
	int c, li = 0;

	memset(o, 0, sizeof(*o));
	o->layer = IPR_LAYER_NETWORK;
	o->env.sz = sizeof(o->env);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o->sub = argv[1];
	if (!strcmp(o->sub, "--help") || !strcmp(o->sub, "-h") ||
	    !strcmp(o->sub, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(o->sub, "check") && strcmp(o->sub, "explain") &&
	    strcmp(o->sub, "eval")) {
		fprintf(stderr, "ipredir filter: unknown subcommand '%s' (check, "
			"explain or eval)\n", o->sub);
		return EXIT_USAGE;
	}
	snprintf(o->cmd, sizeof(o->cmd), "filter %s", o->sub);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	/* options may come before or after the filter */
	while ((c = getopt_long(argc, argv, "hi:", opts, &li)) != -1) {
		if (c == '?' || c == ':') {
			fprintf(stderr, "ipredir filter %s: unknown or incomplete "
				"option '%s' (try --help)\n", o->sub,
				argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else if (c == 'i') {
			o->ifname = optarg;
		} else if (c == O_LAYER) {
			if (!parse_layer(optarg, &o->layer))
				return EXIT_USAGE;
		} else if (strcmp(o->sub, "eval")) {
			fprintf(stderr, "ipredir filter %s: '--%s' is an option of "
				"eval only\n", o->sub, opts[li].name);
			return EXIT_USAGE;
		} else if (eval_opt(c, optarg, o) != RUN) {
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ipredir filter %s: %s (try --help)\n", o->sub,
			optind >= argc ? "no FILTER given"
				       : "one FILTER, quoted, please");
		return EXIT_USAGE;
	}
	if (o->inbound && o->outbound) {
		fprintf(stderr, "ipredir filter eval: --inbound or --outbound, "
			"not both\n");
		return EXIT_USAGE;
	}
	o->text = tool_read_filter(o->cmd, argv[optind]);
	return o->text ? RUN : EXIT_USAGE;
}

/* The filter, compiled; with -i NAME, 'ifIdx == N' ANDed into it once the
 * user's own text has compiled (so that an error's caret is under it).
 * NULL after the error line, *rc the exit code. */
static ipr_filter *compile(struct filter_opts *o, int *rc)
{
	struct ipr_filter_error e;
	ipr_filter *f = ipr_filter_compile(o->text, o->layer, &e);
	if (!f) {
		filter_error(o->sub, o->text, &e);
		*rc = !strcmp(o->sub, "check") ? EXIT_BAD : EXIT_USAGE;
		return NULL;
	}
	if (o->ifname) {
		ipr_filter_free(f);
		char *with = tool_filter(o->cmd, o->text, o->ifname, o->layer);
		f = with ? ipr_filter_compile(with, o->layer, NULL) : NULL;
		free(with);
		if (!f) {
			*rc = EXIT_USAGE;
			return NULL;
		}
		/* eval: the packet is on that interface unless told */
		if (!o->have_ifidx)
			o->a.if_idx = if_nametoindex(o->ifname);
		if (!o->env.if_name)
			o->env.if_name = o->ifname;
	}
	ipr_filter_set_priority(f, (int16_t)o->prio);
	return f;
}

/* check and explain: the normalised filter, or what it becomes. */
static int print_filter(const struct filter_opts *o, const ipr_filter *f)
{
	bool check = !strcmp(o->sub, "check");
	int n = check ? ipr_filter_format(f, NULL, 0)
		      : ipr_filter_explain(f, NULL, 0);
	char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (!buf) {
		fprintf(stderr, "ipredir filter %s: %s\n", o->sub,
			n < 0 ? strerror(-n) : "out of memory");
		return EXIT_FAIL;
	}
	if (check) {
		ipr_filter_format(f, buf, (size_t)n + 1);
		printf("%s\n", buf);
	} else {
		ipr_filter_explain(f, buf, (size_t)n + 1);
		fputs(buf, stdout);
	}
	free(buf);
	return EXIT_OK;
}

/* eval: the filter on the --packet; match or no match. */
static int eval(struct filter_opts *o, const ipr_filter *f)
{
	struct ipr_addr *a = &o->a;
	struct ipr_headers hd;
	size_t plen;
	uint8_t *pkt;
	int r;

	if (!o->hex) {
		fprintf(stderr, "ipredir filter eval: --packet HEX is needed\n");
		return EXIT_USAGE;
	}
	pkt = parse_hex(o->hex, &plen);
	if (!pkt)
		return EXIT_USAGE;
	if (ipr_packet_parse(pkt, plen, &hd) < 0) {
		fprintf(stderr, "ipredir filter eval: --packet is not an "
			"IPv4 or IPv6 packet\n");
		free(pkt);
		return EXIT_USAGE;
	}
	if (hd.ipv6)
		a->flags |= IPR_ADDR_IPV6;
	a->layer = (uint8_t)o->layer;
	if (o->outbound || o->layer == IPR_LAYER_NETWORK_FORWARD)
		a->flags |= IPR_ADDR_OUTBOUND;
	if (a->flags & IPR_ADDR_OUTBOUND)
		a->out_if_idx = a->if_idx;
	else
		a->in_if_idx = a->if_idx;
	a->orig_len = (uint32_t)plen;
	r = ipr_filter_eval_ex(f, pkt, plen, a, &o->env);
	free(pkt);
	if (r < 0) {
		fprintf(stderr, "ipredir filter eval: %s\n", strerror(-r));
		return EXIT_USAGE;
	}
	printf("%s\n", r ? "match" : "no match");
	return r ? EXIT_OK : EXIT_NO_MATCH;
}

int cmd_filter(int argc, char **argv)
{
	struct filter_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc != RUN)
		return rc;
	ipr_filter *f = compile(&o, &rc);
	if (f) {
		rc = strcmp(o.sub, "eval") ? print_filter(&o, f) : eval(&o, f);
		ipr_filter_free(f);
	}
	free(o.text);
	return rc;
}
