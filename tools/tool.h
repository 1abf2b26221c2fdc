/* tool.h - what the ipredir subcommands share: the dispatch table entry,
 * option parsing helpers and the filter-error printer. */
#ifndef IPR_TOOL_H
#define IPR_TOOL_H
#include <stdbool.h>
#include <stdint.h>
#include "ipredir.h"

struct tool_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

/* Exit codes of every subcommand. */
#define EXIT_OK      0
#define EXIT_FAIL    1 /* runtime failure: kernel refused, lost handle */
#define EXIT_USAGE   2 /* the user's mistake: bad option, value or filter */

/* Parse an integer option value in [lo, hi]; on error print one line that
 * quotes it and return false. */
bool tool_parse_long(const char *cmd, const char *opt, const char *s,
		     long lo, long hi, long *out);
/* Print why ipr_open failed, with a caret under a filter error. */
void tool_open_error(const char *cmd, const char *filter,
		     enum ipr_layer layer, int err);

int cmd_passthru(int argc, char **argv);
#endif
