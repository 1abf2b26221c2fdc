/* util.c - option parsing and error printing shared by the subcommands. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

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

void tool_open_error(const char *cmd, const char *filter,
		     enum ipr_layer layer, int err)
{
	struct ipr_filter_error fe = { 0 };
	ipr_filter *f = ipr_filter_compile(filter, layer, &fe);
	if (!f) {
		fprintf(stderr, "ipredir %s: bad filter: %s at position %d\n",
			cmd, fe.msg ? fe.msg : "error", fe.pos);
		fprintf(stderr, "  %s\n  %*s^\n", filter, fe.pos, "");
		return;
	}
	ipr_filter_free(f);
	if (err == EPERM || err == EACCES)
		fprintf(stderr, "ipredir %s: not permitted: opening a handle "
			"needs CAP_NET_ADMIN (run as root)\n", cmd);
	else
		fprintf(stderr, "ipredir %s: cannot open a handle for '%s': %s\n",
			cmd, filter, ipr_strerror(-err));
}
