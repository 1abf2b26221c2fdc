/* ipredir.c - the ipredir command: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "tool.h"

static const struct tool_cmd cmds[] = {
	{ "passthru", cmd_passthru,
	  "read every packet the filter selects and write it back" },
	{ "filter", cmd_filter, "check, explain or evaluate a filter" },
	{ "adapters", cmd_adapters, "list the interfaces of this namespace" },
	{ "monitor", cmd_monitor, "print (and capture) packets, never holding them" },
	{ "drop", cmd_drop, "drop what the filter selects, in the kernel" },
	{ "reject", cmd_reject, "refuse what the filter selects: TCP reset, ICMP" },
	{ "impair", cmd_impair, "delay, lose, duplicate, reorder, corrupt, limit" },
	{ "redirect", cmd_redirect, "send matching flows to ADDR:PORT (user NAT)" },
	{ "stats", cmd_stats, "the kernel's view of our tables and queues" },
	{ "cleanup", cmd_cleanup, "remove ipredir tables left behind" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: ipredir COMMAND [OPTIONS] [FILTER]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'ipredir COMMAND --help' tells more.  Exit codes: 0 ok, "
		"1 runtime failure, 2 usage error.\n");
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
		printf("ipredir %d.%d\n", IPR_VERSION_MAJOR, IPR_VERSION_MINOR);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ipredir: unknown command '%s' (try 'ipredir --help')\n",
		argv[1]);
	return EXIT_USAGE;
}
