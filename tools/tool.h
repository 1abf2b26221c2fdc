/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tool.h - what the ipredir subcommands share: the dispatch table entry,
 * option parsing helpers and the filter-error printer. */
#ifndef IPR_TOOL_H
#define IPR_TOOL_H
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ipredir.h"
/* The library's tables, /proc readers and text helpers for tools. */
#include "../lib/tool_api.h" /* the library's internal API for tools */

struct tool_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
	unsigned flags;         /* TOOL_* */
};
#define TOOL_USER    0x1 /* the dispatcher takes --user NAME for it */
#define TOOL_NET_RAW 0x2 /* it injects: CAP_NET_RAW stays after --user */

/* --user NAME as the dispatcher found it; tool_signals(), which every
 * handle-opening subcommand calls right after its open, then drops to it. */
extern const char *tool_user;
extern const char *tool_user_cmd;
extern bool tool_user_raw;

/* Exit codes of every subcommand. */
#define EXIT_OK      0
#define EXIT_FAIL    1 /* runtime failure: kernel refused, lost handle */
#define EXIT_USAGE   2 /* the user's mistake: bad option, value or filter */

/* "0,2-3" into cpus[] (at most @max, each < @ncpu); the count, or -1
 * after an error message that quotes @s. */
int tool_parse_cpus(const char *cmd, const char *opt, const char *s,
		    long ncpu, int *cpus, int max);
/* Parse an integer option value in [lo, hi]; on error print one line that
 * quotes it and return false. */
bool tool_parse_long(const char *cmd, const char *opt, const char *s,
		     long lo, long hi, long *out);
/* Print why ipr_open failed, with a caret under a filter error. */
void tool_open_error(const char *cmd, const char *filter,
		     enum ipr_layer layer, int err);

/* Set by SIGINT and SIGTERM once tool_signals() is called (to the signal's
 * number); SIGPIPE is ignored.  Blocked receives return EINTR. */
extern volatile sig_atomic_t tool_stop;
void tool_signals(void);
/* Become @user keeping only CAP_NET_ADMIN (and CAP_NET_RAW if @net_raw);
 * prints one error line and returns -1 on failure. */
int tool_drop_privileges(const char *cmd, const char *user, bool net_raw);
/* The one line for a getopt error (optstring must start with ':'): @c is
 * what getopt_long returned, @optind_now its optind. */
void tool_bad_option(const char *cmd, int c, char **argv, int optind_now);
/* A decimal value in [lo, hi]; @what names it in the error line ("a
 * percentage", "milliseconds"). */
bool tool_parse_double(const char *cmd, const char *opt, const char *s,
		       double lo, double hi, const char *what, double *out);

struct tool_endpoint {
	bool ipv6;
	uint32_t addr4;     /* network order */
	uint8_t addr6[16];
	uint16_t port;      /* host order */
};
/* ADDR:PORT or [ADDR6]:PORT. */
bool tool_parse_addr_port(const char *cmd, const char *opt, const char *s,
			  struct tool_endpoint *ep);

/* What every packet subcommand selects by: -i NAME, -p P, -f. */
struct tool_sel {
	const char *ifname;     /* -i, --interface */
	long prio;              /* -p, --priority */
	enum ipr_layer layer;   /* -f, --forward: IPR_LAYER_NETWORK_FORWARD */
};
#define TOOL_SEL_INIT { .layer = IPR_LAYER_NETWORK }
/* Their getopt_long entries (a subcommand lists only those it has). */
#define TOOL_OPT_INTERFACE { "interface", required_argument, NULL, 'i' }
#define TOOL_OPT_PRIORITY { "priority", required_argument, NULL, 'p' }
#define TOOL_OPT_FORWARD { "forward", no_argument, NULL, 'f' }
/* Option @c (getopt_long's optarg and optind) if it is one of them (-p
 * up to @prio_max), else a bad option: a subcommand's default case.  False
 * after the error line. */
bool tool_sel_opt(const char *cmd, int c, char **argv, long prio_max,
		  struct tool_sel *s);
struct tool_batch;
/* The start of a single-threaded packet subcommand: its handle
 * (tool_open, with @s's layer and priority), its receive batch @b, the
 * signals and --user (tool_signals), standard output by line.  NULL after
 * the message, *rc the exit code. */
ipr_handle *tool_start(const char *cmd, const char *filter,
		       const struct tool_sel *s, uint64_t flags,
		       const struct ipr_open_opts *opts, struct tool_batch *b,
		       int *rc);
/* The FILTER at argv[first] (tool_one_filter) with -i folded in
 * (tool_filter): malloc'ed, or NULL after the error line. */
char *tool_sel_filter(const char *cmd, int argc, char **argv, int first,
		      bool required, const struct tool_sel *s);

/* The FILTER argument at argv[first] (exactly one; "true" if absent and
 * not @required).  False after printing the error line. */
bool tool_one_filter(const char *cmd, int argc, char **argv, int first,
		     bool required, const char **filter);
/* A FILTER argument: the text itself, or with "@FILE" (@- standard input)
 * the file's text, a trailing newline cut; NULL after a message. */
char *tool_read_filter(const char *cmd, const char *arg);
/* Check @filter (an error prints the caret under the user's own text) and
 * AND 'ifIdx == N' into it for -i NAME.  Returns a malloc'ed filter, or
 * NULL after printing the error. */
char *tool_filter(const char *cmd, const char *filter, const char *ifname,
		  enum ipr_layer layer);
/* ipr_open_ex, or NULL after printing why; *rc gets the exit code. */
ipr_handle *tool_open(const char *cmd, const char *filter,
		      enum ipr_layer layer, int16_t prio, uint64_t flags,
		      const struct ipr_open_opts *opts, int *rc);

/* The receive batch of a single-threaded subcommand: TOOL_BATCH packets
 * read into one buffer by one ipr_recv_batch. */
#define TOOL_BATCH 64
struct tool_batch {
	void *buf;
	struct ipr_packet *pkts;
};
int tool_batch_init(struct tool_batch *b); /* 0 or -ENOMEM */
void tool_batch_free(struct tool_batch *b);
/* The next batch of queue 0: the number of packets, 0 on a timeout or a
 * signal (check tool_stop), or a negative errno (-ESHUTDOWN once shut down
 * and empty). */
int tool_batch_recv(ipr_handle *h, struct tool_batch *b, int timeout_ms);

uint64_t tool_now_ns(void); /* CLOCK_MONOTONIC */

/* systemd's notify protocol (tools/sdnotify.c); no-ops outside a service.
 * tool_notify sends one state ("READY=1") to $NOTIFY_SOCKET: 0 or a
 * negative errno.  tool_notify_ready says READY=1 and arms the watchdog
 * from $WATCHDOG_USEC; tool_watchdog_kick, called from receive loops that
 * wake at least once a second, sends WATCHDOG=1 every half watchdog time. */
int tool_notify(const char *state);
void tool_notify_ready(void);
void tool_watchdog_kick(void);
/* "12:00:00.123456 out if=3 TCP 198.18.0.1:40000 -> 198.18.0.2:80 len=60
 * [S]": like snprintf. */
int tool_packet_line(char *buf, size_t n, const void *pkt, size_t len,
		     const struct ipr_addr *a);
/* tcpdump -x style lines, a tab first. */
void tool_hexdump(FILE *f, const void *data, size_t len);

/* The library's tables in this namespace, any family, in an array:
 * 0 or -errno; free(tt->v). */
struct tool_tables {
	struct ipr_table_info *v;
	size_t n, cap;
};
int tool_nft_tables(struct tool_tables *tt);
/* A JSON string, quoted and escaped. */
void tool_json_str(FILE *f, const char *s);

int cmd_passthru(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_adapters(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_drop(int argc, char **argv);
int cmd_reject(int argc, char **argv);
int cmd_impair(int argc, char **argv);
int cmd_redirect(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
#endif
