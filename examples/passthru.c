/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthru.c - the shortest correct program with libipredir: take every
 * packet the filter selects, show it, pass it on.  Run as root:
 *   ./passthru 'tcp.DstPort == 80'
 * Build: cc passthru.c $(pkg-config --cflags --libs ipredir) */
#include <errno.h>
#include <stdio.h>
#include <ipredir.h>

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : "true";
	ipr_handle *h = ipr_open(filter, IPR_LAYER_NETWORK, 0, 0);
	if (!h) {
		perror("ipr_open");
		return 1;
	}
	static unsigned char pkt[IPR_MTU_MAX];
	size_t len;
	struct ipr_addr addr;
	for (;;) {
		int err = ipr_recv(h, pkt, sizeof(pkt), &len, &addr);
		if (err < 0 && err != -EMSGSIZE)
			break; /* interrupted or shut down */
		printf("%s %zu bytes on interface %u\n",
		       addr.flags & IPR_ADDR_OUTBOUND ? "out" : "in ", len,
		       addr.if_idx);
		/* NULL: pass the held packet on as it came (no copy back). */
		ipr_send(h, NULL, 0, &addr);
	}
	ipr_close(h);
	return 0;
}
