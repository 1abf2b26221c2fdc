/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_nlmsg.c - libFuzzer harness for the netlink packet-message parser
 * (lib/nlparse.c): any datagram, walked the way the receive path walks it
 * (ipr_nlmsg_ok, then the attributes), must not be read past the message,
 * and the payload it reports must lie inside the message.
 *   clang -fsanitize=fuzzer,address -Iinclude -Ilib fuzz/fuzz_nlmsg.c -lmnl */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/nlparse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size, aligned heap copy: ASan sees a read past its end,
	 * and netlink headers are read as the kernel lays them out. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int len = (int)size;
	for (; ipr_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		for (int log = 0; log < 2; log++) {
			struct ipr_rxmeta m;
			memset(&m, 0, sizeof(m));
			if (log)
				ipri_parse_log_msg(nlh, &m);
			else
				ipri_parse_queue_msg(nlh, &m);
			const uint8_t *end = (const uint8_t *)nlh + nlh->nlmsg_len;
			if (m.data && (m.data < (const uint8_t *)nlh ||
				       m.data + m.len > end))
				abort();
		}
	}
	free(buf);
	return 0;
}
