/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleanup.c - `ipredir cleanup`: remove ipredir tables left behind in this
 * namespace.  With owner tables (Linux 5.12+) there never is one: the kernel
 * removes a table with the socket that made it.  This is for older kernels,
 * tables made by hand, and the user's peace of mind. */
#include <errno.h>
#include <getopt.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>
#include "tool.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir cleanup [OPTIONS]\n"
"Remove the nftables tables named ipredir* in this network namespace that\n"
"no running program owns, and say what was removed and what was kept.\n\n"
"  -n, --dry-run  say what would be removed, remove nothing\n"
"      --force    also remove tables without the owner flag whose\n"
"                 process (the pid in the name) still runs\n"
"  -q, --quiet    only errors\n"
"  -h, --help\n\n"
"A table that a live socket owns cannot be removed by anyone else (the\n"
"kernel refuses): it is reported as in use by its process and kept.\n"
"Exit codes: 0 ok (also when tables in use were kept), 1 runtime failure\n"
"(cannot list or remove), 2 usage error.\n");
}

int cmd_cleanup(int argc, char **argv)
{
	enum { OPT_FORCE = 256 };
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool dry = false, force = false, quiet = false;
	int c, rc = EXIT_OK;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":nqh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case OPT_FORCE: force = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			tool_bad_option("cleanup", c, argv, optind);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ipredir cleanup: unexpected argument '%s'\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	struct tool_tables tt;
	int err = tool_nft_tables(&tt);
	if (err) {
		fprintf(stderr, "ipredir cleanup: cannot list nftables tables: "
			"%s%s\n", strerror(-err), err == -EPERM ?
			" (needs CAP_NET_ADMIN: run as root)" : "");
		return EXIT_FAIL;
	}
	unsigned removed = 0, kept = 0;
	for (size_t i = 0; i < tt.n; i++) {
		const struct ipr_table_info *t = &tt.v[i];
		const char *fam = ipri_family_name(t->family);
		struct ipr_nlsock s;
		char comm[32];
		if ((t->flags & NFT_TABLE_F_OWNER) && t->has_owner &&
		    ipri_proc_nl_socket(NETLINK_NETFILTER, t->owner, &s) == 0) {
			kept++;
			if (!quiet && s.pid)
				printf("kept table %s %s: in use by pid %d (%s)\n",
				       fam, t->name, s.pid, s.comm);
			else if (!quiet)
				printf("kept table %s %s: in use by netlink "
				       "port %u\n", fam, t->name, t->owner);
			continue;
		}
		int pid = ipri_table_name_pid(t->name);
		if (!(t->flags & NFT_TABLE_F_OWNER) && pid && !force &&
		    ipri_proc_pid_comm(pid, comm, sizeof(comm))) {
			kept++;
			if (!quiet)
				printf("kept table %s %s: its pid %d (%s) still "
				       "runs (--force removes it)\n", fam,
				       t->name, pid, comm);
			continue;
		}
		err = dry ? 0 : ipri_table_delete(t->family, t->name);
		if (err == -EPERM || err == -EBUSY) {
			kept++;
			if (!quiet)
				printf("kept table %s %s: in use (the kernel "
				       "refused: %s)\n", fam, t->name,
				       strerror(-err));
		} else if (err) {
			fprintf(stderr, "ipredir cleanup: cannot remove table "
				"%s %s: %s\n", fam, t->name, strerror(-err));
			rc = EXIT_FAIL;
		} else {
			removed++;
			if (!quiet)
				printf("%s table %s %s (%u chains%s)\n",
				       dry ? "would remove" : "removed", fam,
				       t->name, t->use,
				       (t->flags & NFT_TABLE_F_OWNER) ? ""
				       : ", no owner");
		}
	}
	if (!quiet && !tt.n)
		printf("nothing to clean up: no ipredir tables in this "
		       "namespace\n");
	else if (!quiet)
		printf("cleanup: %u %s, %u kept\n", removed,
		       dry ? "to remove" : "removed", kept);
	free(tt.v);
	return rc;
}
