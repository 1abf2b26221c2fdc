/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_pylayout - print the size and field offsets of the public structures,
 * for tests/py/test_layout.py to compare with the Python binding's ctypes
 * declarations (python/ipredir/_clib.py). */
#include <stddef.h>
#include <stdio.h>

#include "ipredir.h"

#define SZ(s) printf("%s size %zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("%s.%s %zu\n", #s, #f, offsetof(struct s, f))

int main(void)
{
	SZ(ipr_addr);
	OFF(ipr_addr, timestamp); OFF(ipr_addr, flags); OFF(ipr_addr, layer);
	OFF(ipr_addr, hook); OFF(ipr_addr, queue); OFF(ipr_addr, if_idx);
	OFF(ipr_addr, in_if_idx); OFF(ipr_addr, out_if_idx);
	OFF(ipr_addr, mark); OFF(ipr_addr, uid); OFF(ipr_addr, gid);
	OFF(ipr_addr, orig_len); OFF(ipr_addr, packet_id);
	OFF(ipr_addr, _slot); OFF(ipr_addr, _gen); OFF(ipr_addr, _reserved);
	SZ(ipr_packet);
	OFF(ipr_packet, data); OFF(ipr_packet, len); OFF(ipr_packet, verdict);
	OFF(ipr_packet, addr);
	SZ(ipr_open_opts);
	OFF(ipr_open_opts, sz); OFF(ipr_open_opts, queues);
	OFF(ipr_open_opts, queue_length); OFF(ipr_open_opts, queue_time);
	OFF(ipr_open_opts, queue_size); OFF(ipr_open_opts, busy_poll);
	OFF(ipr_open_opts, snaplen);
	SZ(ipr_stats);
	OFF(ipr_stats, recv_packets); OFF(ipr_stats, recv_bytes);
	OFF(ipr_stats, sent_packets); OFF(ipr_stats, injected_packets);
	OFF(ipr_stats, dropped_verdict); OFF(ipr_stats, dropped_timeout);
	OFF(ipr_stats, kernel_queue_dropped);
	OFF(ipr_stats, kernel_user_dropped); OFF(ipr_stats, segmented);
	OFF(ipr_stats, errors); OFF(ipr_stats, kernel_bypassed);
	SZ(ipr_filter_error);
	OFF(ipr_filter_error, code); OFF(ipr_filter_error, pos);
	OFF(ipr_filter_error, msg);
	SZ(ipr_filter_env);
	OFF(ipr_filter_env, sz); OFF(ipr_filter_env, ct_state);
	OFF(ipr_filter_env, if_name);
	SZ(ipr_headers);
	OFF(ipr_headers, ip); OFF(ipr_headers, ipv6); OFF(ipr_headers, tcp);
	OFF(ipr_headers, udp); OFF(ipr_headers, icmp); OFF(ipr_headers, icmpv6);
	OFF(ipr_headers, protocol); OFF(ipr_headers, fragment);
	OFF(ipr_headers, frag_off); OFF(ipr_headers, l3_len);
	OFF(ipr_headers, l4_off); OFF(ipr_headers, payload);
	OFF(ipr_headers, payload_len); OFF(ipr_headers, total_len);
	printf("IPR_BATCH_SLOT %d\nIPR_BATCH_MAX %d\nIPR_MTU_MAX %d\n",
	       IPR_BATCH_SLOT, IPR_BATCH_MAX, IPR_MTU_MAX);
	printf("IPR_FLAG_FAIL_CLOSED %llu\nIPR_ADDR_MARK %u\n",
	       IPR_FLAG_FAIL_CLOSED, IPR_ADDR_MARK);
	return 0;
}
