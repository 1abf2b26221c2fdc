/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_modify.c - pass packets on with new contents: every UDP payload XOR-ed
 * with 0x5a (checksums recomputed), or with --tcp every TCP packet written
 * back whole and unchanged (the library completes partial checksums).
 * With --snaplen N only N bytes of each packet are copied: longer packets
 * arrive marked truncated with their real length, writing them back must
 * fail with EMSGSIZE, and they are passed on unchanged instead.
 * With --bad each UDP packet is first written back with a header the kernel
 * would refuse (a length field that does not match, a changed fragment field
 * or next header), which must fail with EINVAL and leave it held; the packet
 * that then goes has only fields that may change altered besides the XOR
 * (DF, the IPv6 traffic class). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

static uint8_t buf[IPR_MTU_MAX + 1];

static void usage(void)
{
	fprintf(stderr, "usage: ipr_modify [--tcp] [--bad] [--snaplen N] [--seconds S] "
		"FILTER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tcp", no_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "snaplen", required_argument, NULL, 'n' },
		{ "bad", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int tcp = 0, bad = 0, c;
	unsigned seconds = 60;
	struct ipr_open_opts o = { .sz = sizeof(o) };

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't': tcp = 1; break;
		case 's': seconds = (unsigned)atoi(optarg); break;
		case 'n': o.snaplen = (uint32_t)atoi(optarg); break;
		case 'b': bad = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();

	stop_on_signals();

	ipr_handle *h = ipr_open_ex(argv[optind], IPR_LAYER_NETWORK, 0, 0, &o);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_modify: ipr_open '%s': %s\n",
			argv[optind], ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	alarm(seconds);

	unsigned long modified = 0, passed = 0, truncated = 0, errors = 0;
	unsigned long snapped = 0; /* cut at the snaplen, refused, passed */
	unsigned long refused = 0; /* --bad writes refused with EINVAL */
	while (!stop) {
		struct ipr_addr addr;
		size_t len = 0;
		int rc = ipr_recv(h, buf, sizeof(buf), &len, &addr);
		if (rc == -EINTR)
			continue;
		if (rc == -EMSGSIZE) {
			/* Cannot rewrite what we only partly have. */
			truncated++;
			if (ipr_send(h, NULL, 0, &addr))
				errors++;
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "ipr_modify: recv: %s\n", ipr_strerror(rc));
			errors++;
			break;
		}
		if (o.snaplen && (addr.flags & IPR_ADDR_TRUNCATED)) {
			/* We hold len bytes; the kernel holds orig_len, as the
			 * IP header says. */
			size_t iplen = (buf[0] >> 4) == 6 ? 40u + (buf[4] << 8 | buf[5])
							  : (size_t)(buf[2] << 8 | buf[3]);
			if (len != o.snaplen || addr.orig_len != iplen ||
			    ipr_send(h, buf, len, &addr) != -EMSGSIZE ||
			    ipr_send(h, NULL, 0, &addr) != 0) {
				if (errors++ < 5)
					fprintf(stderr, "ipr_modify: snapped packet: "
						"len %zu orig_len %u ip %zu\n", len,
						addr.orig_len, iplen);
			} else {
				snapped++;
			}
			continue;
		}
		struct ipr_headers hd;
		int ours = ipr_packet_parse(buf, len, &hd) == 0 &&
			   (tcp ? hd.tcp != NULL : hd.udp != NULL);
		if (!ours) {
			passed++;
			if (ipr_send(h, NULL, 0, &addr))
				errors++;
			continue;
		}
		if (!tcp) {
			uint8_t *p = buf + (hd.payload - buf);
			for (uint32_t i = 0; i < hd.payload_len; i++)
				p[i] ^= 0x5a;
			if (bad) {
				bool v6 = hd.ipv6 != NULL;
				uint8_t *lenp = buf + (v6 ? 4 : 2);
				lenp[1]++; /* the length field no longer matches */
				if (ipr_send(h, buf, len, &addr) == -EINVAL)
					refused++;
				lenp[1]--;
				buf[6] ^= v6 ? 0xff : 0x20; /* next header / MF */
				if (ipr_send(h, buf, len, &addr) == -EINVAL)
					refused++;
				buf[6] ^= v6 ? 0xff : 0x20;
				if (v6)
					buf[1] ^= 0x30; /* traffic class */
				else
					buf[6] ^= 0x40; /* DF */
			}
			if (ipr_csum_calc(buf, len, 0)) {
				errors++;
				continue;
			}
		}
		rc = ipr_send(h, buf, len, &addr);
		if (rc) {
			if (errors++ < 5)
				fprintf(stderr, "ipr_modify: send: %s\n",
					ipr_strerror(rc));
		} else {
			modified++;
		}
	}
	printf("%s=%lu passed=%lu truncated=%lu snapped=%lu refused=%lu "
	       "errors=%lu\n", tcp ? "rewritten" : "modified", modified, passed,
	       truncated, snapped, refused, errors);
	fflush(stdout);
	ipr_close(h);
	return errors ? 1 : 0;
}
