/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_packet.c - libFuzzer harness for the packet parser, the checksum
 * writer and the replacement check: any input must parse without reading
 * past it, checksumming a copy must stay inside the copy and agree with the
 * parse, and a packet the replacement check accepts must parse.
 *   clang -fsanitize=fuzzer,address -Iinclude -Ilib fuzz/fuzz_packet.c */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/packet.c"
#include "../lib/checksum.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_headers h, h2;
	uint8_t *copy;
	int rc, rc2;

	rc = ipr_packet_parse(data, size, &h);
	if (rc == 0) {
		/* what the parser reports must lie inside the input */
		if (h.total_len > size || h.l4_off > h.total_len ||
		    (h.payload && (h.payload < data ||
				   h.payload + h.payload_len > data + size)))
			abort();
	} else if (rc != -EINVAL) {
		abort();
	}

	/* An exact-size heap copy, so ASan sees a write past its end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	/* The replacement check reads no byte past the packet, and what it
	 * accepts against the packet's own signature parses. */
	uint32_t sig = ipri_hdr_sig(copy, (uint32_t)size);
	if (ipri_replace_ok(copy, (uint32_t)size, sig) && rc != 0)
		abort();
	rc2 = ipr_csum_calc(copy, size, 0);
	if (rc && !rc2)
		abort(); /* refused by the parser, yet checksummed */
	if (rc2 == 0) {
		/* Checksums do not change the headers: it parses the same,
		 * and a second pass changes nothing. */
		uint8_t *again = malloc(size ? size : 1);

		if (!again)
			abort();
		if (ipr_packet_parse(copy, size, &h2) ||
		    h2.l4_off != h.l4_off || h2.protocol != h.protocol)
			abort();
		memcpy(again, copy, size);
		if (ipr_csum_calc(again, size, 0) ||
		    memcmp(again, copy, size))
			abort();
		free(again);
	}
	free(copy);
	return 0;
}
