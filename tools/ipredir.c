/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipredir.c - the ipredir command: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "tool.h"

static const struct tool_cmd cmds[] = {
	{ "passthru", cmd_passthru,
	  "read every packet the filter selects and write it back", TOOL_USER },
	{ "filter", cmd_filter, "check, explain or evaluate a filter", 0 },
	{ "adapters", cmd_adapters, "list the interfaces of this namespace", 0 },
	{ "monitor", cmd_monitor, "print (and capture) packets, never holding them",
	  TOOL_USER },
	{ "drop", cmd_drop, "drop what the filter selects, in the kernel",
	  TOOL_USER },
	{ "reject", cmd_reject, "refuse what the filter selects: TCP reset, ICMP",
	  TOOL_USER | TOOL_NET_RAW },
	{ "impair", cmd_impair, "delay, lose, duplicate, reorder, corrupt, limit",
	  TOOL_USER | TOOL_NET_RAW },
	{ "redirect", cmd_redirect, "send matching flows to ADDR:PORT (user NAT)",
	  TOOL_USER },
	{ "stats", cmd_stats, "the kernel's view of our tables and queues", 0 },
	{ "cleanup", cmd_cleanup, "remove ipredir tables left behind", 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: ipredir COMMAND [OPTIONS] [FILTER]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'ipredir COMMAND --help' tells more.  Exit codes: 0 ok, "
		"1 runtime failure, 2 usage error.\n");
}

/* Take "--user NAME" / "--user=NAME" out of the subcommand's arguments
 * (before a "--"); tool_signals() acts on it once the handle is open. */
static int take_user(const char *cmd, int *argc, char **argv)
{
	for (int i = 2; i < *argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		int n = 0;
		if (!strcmp(argv[i], "--user")) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "ipredir %s: --user wants a user "
					"name\n", cmd);
				return -1;
			}
			tool_user = argv[i + 1];
			n = 2;
		} else if (!strncmp(argv[i], "--user=", 7)) {
			tool_user = argv[i] + 7;
			n = 1;
		}
		if (n) {
			for (int j = i; j + n <= *argc; j++)
				argv[j] = argv[j + n];
			*argc -= n;
			i--;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		/* The tool's own version (the header it was built with) and
		 * the library's, which differ if it was linked dynamically. */
		printf("ipredir %s (libipredir %s)\n", IPR_VERSION_STRING,
		       ipr_version());
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			if ((cmds[i].flags & TOOL_USER) &&
			    take_user(cmds[i].name, &argc, argv) < 0)
				return EXIT_USAGE;
			tool_user_cmd = cmds[i].name;
			tool_user_raw = cmds[i].flags & TOOL_NET_RAW;
			return cmds[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "ipredir: unknown command '%s' (try 'ipredir --help')\n",
		argv[1]);
	return EXIT_USAGE;
}
