/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats.c - `ipredir stats`: what the kernel of this namespace says about
 * our tables, queues and log groups, from its own counters
 * (/proc/net/netfilter, /proc/net/netlink, an nftables table dump). */
#include <errno.h>
#include <getopt.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>
#include "tool.h"

struct queue {          /* one line of nfnetlink_queue or nfnetlink_log */
	struct ipr_proc_queue q;
	struct ipr_nlsock sock;
};

struct queues {
	struct queue *v;
	size_t n;
};

static int add_queue(const struct ipr_proc_queue *pq, void *data)
{
	struct queues *q = data;
	struct queue e = { .q = *pq };
	if (ipri_proc_nl_socket(NETLINK_NETFILTER, pq->portid, &e.sock) < 0)
		memset(&e.sock, 0, sizeof(e.sock));
	struct queue *nv = realloc(q->v, (q->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	q->v = nv;
	q->v[q->n++] = e;
	return 0;
}

static int read_queues(bool log, struct queues *q)
{
	memset(q, 0, sizeof(*q));
	return ipri_proc_queues(log, add_queue, q);
}

static int owner_pid(const struct ipr_table_info *t, char *comm, size_t n)
{
	struct ipr_nlsock s;
	if (t->has_owner &&
	    ipri_proc_nl_socket(NETLINK_NETFILTER, t->owner, &s) == 0 && s.pid) {
		snprintf(comm, n, "%s", s.comm);
		return s.pid;
	}
	/* No owner flag (an older kernel): the name carries the pid. */
	int pid = ipri_table_name_pid(t->name);
	if (pid && ipri_proc_pid_comm(pid, comm, n))
		return pid;
	comm[0] = 0;
	return 0;
}

static void print_text(const struct tool_tables *tt, const struct queues *q,
		       const struct queues *l)
{
	char comm[32];
	uint32_t kf;
	if (!ipr_kernel_features(&kf)) {
		char d[512];
		ipr_kernel_features_format(kf, "\n  ", d, sizeof(d));
		printf("kernel: %s\n", d);
	}
	if (!tt->n && !q->n && !l->n) {
		printf("no ipredir tables, queues or log groups in this "
		       "namespace\n");
		return;
	}
	printf("tables: %zu\n", tt->n);
	for (size_t i = 0; i < tt->n; i++) {
		const struct ipr_table_info *t = &tt->v[i];
		int pid = owner_pid(t, comm, sizeof(comm));
		printf("  %s %s  chains=%u  %s", ipri_family_name(t->family),
		       t->name, t->use,
		       (t->flags & NFT_TABLE_F_OWNER) ? "owner" : "no-owner");
		if (pid)
			printf("  pid=%d (%s)\n", pid, comm);
		else
			printf("  pid=?\n");
	}
	printf("queues: %zu\n", q->n);
	if (q->n)
		printf("  %-6s %-8s %-16s %8s %9s %9s %10s %10s %8s\n", "QUEUE",
		       "PID", "PROCESS", "WAITING", "Q_DROPPED", "U_DROPPED",
		       "ID_SEQ", "SOCK_BYTES", "SOCK_DROP");
	for (size_t i = 0; i < q->n; i++) {
		const struct queue *e = &q->v[i];
		printf("  %-6u %-8d %-16s %8u %9llu %9llu %10llu %10llu %8llu\n",
		       e->q.num, e->sock.pid, e->sock.pid ? e->sock.comm : "?",
		       e->q.waiting, (unsigned long long)e->q.queue_dropped, (unsigned long long)e->q.user_dropped, (unsigned long long)e->q.id_sequence,
		       e->sock.rmem, e->sock.drops);
	}
	printf("log groups (sniff handles): %zu\n", l->n);
	if (l->n)
		printf("  %-6s %-8s %-16s %8s %10s %8s\n", "GROUP", "PID",
		       "PROCESS", "WAITING", "SOCK_BYTES", "SOCK_DROP");
	for (size_t i = 0; i < l->n; i++) {
		const struct queue *e = &l->v[i];
		printf("  %-6u %-8d %-16s %8u %10llu %8llu\n", e->q.num,
		       e->sock.pid, e->sock.pid ? e->sock.comm : "?",
		       e->q.waiting, e->sock.rmem, e->sock.drops);
	}
}

static void json_queues(const char *key, const struct queues *q, bool log)
{
	printf(",\n  \"%s\": [", key);
	for (size_t i = 0; i < q->n; i++) {
		const struct queue *e = &q->v[i];
		printf("%s\n    {\"%s\": %u, \"portid\": %u, \"pid\": %d, "
		       "\"process\": ", i ? "," : "", log ? "group" : "queue",
		       e->q.num, e->q.portid, e->sock.pid);
		tool_json_str(stdout, e->sock.comm);
		printf(", \"waiting\": %u, \"copy_mode\": %u, \"copy_range\": %u",
		       e->q.waiting, e->q.copy_mode, e->q.copy_range);
		if (!log)
			printf(", \"queue_dropped\": %llu, \"user_dropped\": "
			       "%llu, \"id_sequence\": %llu", (unsigned long long)e->q.queue_dropped,
			       (unsigned long long)e->q.user_dropped, (unsigned long long)e->q.id_sequence);
		printf(", \"socket_bytes\": %llu, \"socket_drops\": %llu}",
		       e->sock.rmem, e->sock.drops);
	}
	printf("%s]", q->n ? "\n  " : "");
}

static const char *json_bool(uint32_t v)
{
	return v ? "true" : "false";
}

static void print_json(const struct tool_tables *tt, const struct queues *q,
		       const struct queues *l)
{
	char comm[32];
	uint32_t kf = 0;
	printf("{\n");
	if (!ipr_kernel_features(&kf))
		printf("  \"kernel\": {\"owner_tables\": %s, \"native_queue\": "
		       "%s, \"xt_queue\": %s, \"inner_payload\": %s, \"log\": "
		       "%s, \"guessed\": %s},\n",
		       json_bool(kf & IPR_KF_OWNER_TABLES),
		       json_bool(kf & IPR_KF_NATIVE_QUEUE),
		       json_bool(kf & IPR_KF_XT_QUEUE),
		       json_bool(kf & IPR_KF_INNER_PAYLOAD),
		       json_bool(kf & IPR_KF_LOG), json_bool(kf & IPR_KF_GUESSED));
	printf("  \"tables\": [");
	for (size_t i = 0; i < tt->n; i++) {
		const struct ipr_table_info *t = &tt->v[i];
		int pid = owner_pid(t, comm, sizeof(comm));
		printf("%s\n    {\"family\": \"%s\", \"name\": ", i ? "," : "",
		       ipri_family_name(t->family));
		tool_json_str(stdout, t->name);
		printf(", \"owner\": %s, \"owner_portid\": %u, \"chains\": %u, "
		       "\"pid\": %d, \"process\": ",
		       (t->flags & NFT_TABLE_F_OWNER) ? "true" : "false",
		       t->owner, t->use, pid);
		tool_json_str(stdout, comm);
		printf("}");
	}
	printf("%s]", tt->n ? "\n  " : "");
	json_queues("queues", q, false);
	json_queues("log_groups", l, true);
	printf("\n}\n");
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir stats [--json]\n"
"What the kernel of this network namespace says about ipredir: the tables\n"
"(owner process, chains), every netfilter queue (packets waiting, dropped\n"
"because the queue was full or the socket buffer was, the last packet id)\n"
"and every log group (sniff handles), each with the process that has it.\n"
"Drops for the queue time happen inside each program and are not seen\n"
"here: they are in its own summary (ipr_stats_get).\n\n"
"  -j, --json   one JSON object\n"
"  -h, --help\n\n"
"Exit codes: 0 ok, 1 runtime failure (cannot read the kernel's state),\n"
"2 usage error.\n");
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			tool_bad_option("stats", c, argv, optind);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ipredir stats: unexpected argument '%s'\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	struct tool_tables tt;
	struct queues q = { 0 }, l = { 0 };
	int err = tool_nft_tables(&tt);
	if (err) {
		fprintf(stderr, "ipredir stats: cannot list nftables tables: "
			"%s%s\n", strerror(-err), err == -EPERM ?
			" (needs CAP_NET_ADMIN: run as root)" : "");
		return EXIT_FAIL;
	}
	err = read_queues(false, &q);
	if (!err)
		err = read_queues(true, &l);
	if (err) {
		fprintf(stderr, "ipredir stats: cannot read /proc/net/netfilter: "
			"%s\n", strerror(-err));
	} else if (json) {
		print_json(&tt, &q, &l);
	} else {
		print_text(&tt, &q, &l);
	}
	free(tt.v);
	free(q.v);
	free(l.v);
	return err ? EXIT_FAIL : EXIT_OK;
}
