/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * idle_rules.c - bench helper for the `idle-rules` scenario: our rules in
 * the kernel, evaluated on every packet, but no program in the packet path.
 *
 *   idle_rules [--forward] FILTER
 *
 * Opens a handle with IPR_FLAG_DROP on FILTER (the harness passes a filter
 * that matches none of the bench traffic, e.g. `udp.DstPort == 9`): the
 * owner-flagged table and its chains are installed on the hooks and every
 * packet is tested against them, nothing is queued and nothing is read.
 * The public API has no way to install queueing rules with nobody bound to
 * the queue, so this is the closest honest stand-in.  Prints "ready", then
 * sleeps until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "ipredir.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	enum ipr_layer layer = IPR_LAYER_NETWORK;
	int a = 1;
	if (a < argc && !strcmp(argv[a], "--forward")) {
		layer = IPR_LAYER_NETWORK_FORWARD;
		a++;
	}
	if (a + 1 != argc) {
		fprintf(stderr, "usage: idle_rules [--forward] FILTER\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Blocked until sigsuspend, so that a signal between the test of
	 * `stop` and the wait cannot be missed. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	ipr_handle *h = ipr_open(argv[a], layer, 0, IPR_FLAG_DROP);
	if (!h) {
		fprintf(stderr, "idle_rules: ipr_open: %s\n",
			ipr_strerror(-errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	ipr_close(h);
	printf("{\"closed\": true}\n");
	return 0;
}
