/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stop.h - the test programs' stop flag.  SIGTERM, SIGINT and SIGALRM (a
 * program's own time limit) set it.  No SA_RESTART: a receive blocked in
 * the library returns EINTR, and the program's loop sees the flag. */
#ifndef IPR_TEST_STOP_H
#define IPR_TEST_STOP_H
#include <signal.h>

static volatile sig_atomic_t stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static inline void stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
}
#endif
