/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handle.c - the core API: open (filter, queues, rules, injection),
 * receive, send, drop, parameters, statistics, shutdown and close. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <unistd.h>
#include "filter_ast.h"
#include "internal.h"

static atomic_uint table_seq;

static void handle_free(struct ipr_handle *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->nft_lock);
	if (h->nft_fd >= 0)
		close(h->nft_fd);
	for (unsigned i = 0; h->q && i < h->nqueues; i++) {
		struct ipr_queue *q = &h->q[i];
		ipri_nfq_close(q);
		free(q->rxbuf);
		free(q->onebuf);
		free(q->scratch);
		free(q->txhdr);
		free(q->txslot);
		free(q->txkind);
		free(q->iov);
		free(q->mmsg);
		free(q->rxiov);
	}
	free(h->q);
	ipri_keeper_stop(h); /* with the queues closed: nothing to answer */
	ipri_inject_close(h);
	ipr_filter_free(h->filter);
	free(h);
}

static int queue_alloc(struct ipr_queue *q)
{
	q->fd = -1;
	q->rxbuf = malloc(IPR_BATCH_SLOT);
	q->onebuf = malloc(IPR_BATCH_SLOT);
	q->scratch = malloc(IPR_MTU_MAX + 1);
	q->txhdr = malloc((size_t)IPR_VMSG_ROOM * IPR_BATCH_MAX * 2 + 64);
	q->txslot = calloc(IPR_BATCH_MAX * 2, sizeof(*q->txslot));
	q->txkind = calloc(IPR_BATCH_MAX * 2, sizeof(*q->txkind));
	q->iov = calloc(IPR_QUEUE_IOVS, sizeof(*q->iov));
	q->mmsg = calloc(IPR_BATCH_MAX, sizeof(*q->mmsg));
	q->rxiov = calloc(IPR_BATCH_MAX, sizeof(*q->rxiov));
	if (!q->rxbuf || !q->onebuf || !q->scratch || !q->txhdr || !q->txslot ||
	    !q->txkind || !q->iov ||
	    !q->mmsg || !q->rxiov)
		return -ENOMEM;
	return 0;
}

static uint32_t opt_or(uint32_t v, uint32_t def, uint32_t lo, uint32_t hi,
		       int *err)
{
	if (!v)
		return def;
	if (v < lo || v > hi)
		*err = -EINVAL;
	return v;
}

/* The filter as this kernel can run it: without the inner payload
 * base (Linux < 5.16), tcp/udp.Payload[i] are checked in user space,
 * which keeps their meaning; with ct.state, which user space cannot
 * check, such a filter cannot run here, and the error names what is
 * missing.  Not being allowed to ask (EPERM) is left to the install. */
static int kernel_fields(struct ipr_handle *h, const char *text)
{
	if (!ipri_filter_uses_kind(h->filter, IPR_FK_PAYLOAD) ||
	    ipri_feature_probe(IPR_KF_INNER_PAYLOAD) != 0)
		return 0;
	struct ipr_filter_error fe;
	ipr_filter *f = ipri_filter_compile_kinds(text, h->layer, &fe,
						 1u << IPR_FK_PAYLOAD);
	if (!f) {
		ipri_detail_set(fe.pos, "tcp/udp.Payload[i] with ct.state "
			       "needs the kernel's inner payload expression "
			       "(Linux 5.16+): user space can check one but "
			       "not the other");
		return -EOPNOTSUPP;
	}
	ipr_filter_free(h->filter);
	h->filter = f;
	return 0;
}

/* A drop handle reads nothing, so the kernel must decide its whole filter:
 * were a test left to user space, the kernel would drop what the filter
 * does not select (a superset).  0, or EOPNOTSUPP with a detail that names
 * the test (`ipredir drop` then diverts and drops in user space). */
static int drop_decidable(struct ipr_handle *h, bool moved)
{
	const ipr_filter *f = h->filter;

	if (!(h->flags & IPR_FLAG_DROP) || !ipri_filter_needs_user_check(f))
		return 0;
	for (uint32_t i = 0; i < f->nnodes; i++) {
		char t[128];

		if (f->nodes[i].type != IPR_FN_TEST || !f->nodes[i].user ||
		    ipri_filter_format_test(f, (int32_t)i, t, sizeof(t)) < 0)
			continue;
		ipri_detail_set((int)f->nodes[i].pos, "'%s' is checked in user "
			       "space%s, which a drop handle (IPR_FLAG_DROP) "
			       "does not do: divert the packets and drop what "
			       "is received", t, moved ? " on this kernel (no "
			       "inner payload base, Linux < 5.16)" : "");
		break;
	}
	return -EOPNOTSUPP;
}

/* Flags and arguments that no open can take. */
static bool open_args_ok(const char *filter, enum ipr_layer layer,
			 int16_t priority, uint64_t flags)
{
	const uint64_t known = IPR_FLAG_SNIFF | IPR_FLAG_DROP |
		IPR_FLAG_RECV_ONLY | IPR_FLAG_SEND_ONLY | IPR_FLAG_FAIL_CLOSED;
	const uint64_t sd = IPR_FLAG_SNIFF | IPR_FLAG_DROP;
	const uint64_t rs = IPR_FLAG_RECV_ONLY | IPR_FLAG_SEND_ONLY;
	return filter &&
	       (layer == IPR_LAYER_NETWORK ||
		layer == IPR_LAYER_NETWORK_FORWARD) &&
	       priority >= IPR_PRIORITY_MIN && priority <= IPR_PRIORITY_MAX &&
	       !(flags & ~known) && (flags & sd) != sd && (flags & rs) != rs;
}

/* The options into @h (0 for any means its default); the number of
 * queues into *nq.  0 or -EINVAL. */
static int handle_opts(struct ipr_handle *h, const struct ipr_open_opts *o,
		       unsigned *nq)
{
	int err = 0;
	h->queue_length = opt_or(o->queue_length, IPR_QUEUE_LENGTH_DEFAULT,
				 IPR_QUEUE_LENGTH_MIN, IPR_QUEUE_LENGTH_MAX, &err);
	h->queue_time = opt_or(o->queue_time, IPR_QUEUE_TIME_DEFAULT,
			       IPR_QUEUE_TIME_MIN, IPR_QUEUE_TIME_MAX, &err);
	h->queue_size = opt_or(o->queue_size, IPR_QUEUE_SIZE_DEFAULT,
			       IPR_QUEUE_SIZE_MIN, IPR_QUEUE_SIZE_MAX, &err);
	*nq = opt_or(o->queues, IPR_QUEUES_DEFAULT, 1, IPR_QUEUES_MAX, &err);
	h->snaplen = opt_or(o->snaplen, 0, IPR_SNAPLEN_MIN, IPR_MTU_MAX, &err);
	h->busy_poll = opt_or(o->busy_poll, IPR_BUSY_POLL_DEFAULT, 0,
			      IPR_BUSY_POLL_MAX, &err);
	h->hang_time = opt_or(o->hang_time, IPR_HANG_TIME_DEFAULT,
			      IPR_HANG_TIME_MIN, IPR_HANG_TIME_MAX, &err);
	if (h->snaplen >= 65531)
		h->snaplen = 0; /* the most one message carries anyway */
	return err;
}

/* The handle's filter, and where user space must check it again. */
static int handle_filter(struct ipr_handle *h, const char *filter)
{
	h->filter = ipr_filter_compile(filter, h->layer, NULL);
	if (!h->filter)
		return -errno;
	if (!(h->flags & IPR_FLAG_SEND_ONLY)) {
		bool user = ipri_filter_needs_user_check(h->filter);
		int err = kernel_fields(h, filter);
		if (!err)
			err = drop_decidable(h, !user);
		if (err)
			return err;
	}
	ipr_filter_set_priority(h->filter, h->priority);
	h->user_check = ipri_filter_needs_user_check(h->filter);
	h->frag_check = !ipri_filter_uses_ct(h->filter);
	if (h->user_check)
		h->snaplen = 0; /* the user-space check reads the whole packet */
	for (int k = 0; k < IPR_HOOK_COUNT; k++)
		h->user_check_hook[k] = ipri_filter_needs_user_check_hook(
			h->filter, (enum ipr_hook)k);
	return 0;
}

/* The @nq queues (one log group for a sniff handle) bound, their numbers
 * and the action into @spec.  0 or a negative errno. */
static int open_queues(struct ipr_handle *h, unsigned nq,
		       struct ipr_rules_spec *spec)
{
	bool sniff = h->flags & IPR_FLAG_SNIFF;
	if (sniff)
		nq = 1; /* one log group carries every copy */
	h->q = calloc(nq, sizeof(*h->q));
	if (!h->q)
		return -ENOMEM;
	h->nqueues = nq;
	for (unsigned i = 0; i < nq; i++)
		h->q[i].fd = -1; /* so a failed open closes only ours */
	uint16_t start = (uint16_t)(0x8000 + (getpid() * 37) % 0x4000);
	for (unsigned i = 0; i < nq; i++) {
		struct ipr_queue *q = &h->q[i];
		q->h = h;
		q->index = i;
		int err = queue_alloc(q);
		if (!err)
			err = ipri_nfq_open(q, sniff, &spec->nums[i], start);
		if (err)
			return err;
		start = (uint16_t)(q->seg_qnum + 1);
	}
	spec->total = (uint16_t)nq;
	spec->action = sniff ? IPR_ACT_LOG : IPR_ACT_QUEUE;
	/* Copies never wait for the program: no switch needed. */
	if (!sniff)
		spec->hang_ms = h->hang_time;
	return 0;
}

/* The handle's table under a name not yet taken, its heartbeats started
 * and its keeper.  0 or a negative errno. */
static int install_rules(struct ipr_handle *h, struct ipr_rules_spec *spec)
{
	char name[IPR_TABLE_NAME_MAX];
	int err = 0;
	for (int tries = 0; tries < 64; tries++) {
		ipri_table_name(name, atomic_fetch_add(&table_seq, 1));
		spec->table = name;
		err = ipri_rules_install(h->filter, spec);
		if (err != -EEXIST)
			break;
	}
	if (err < 0)
		return err;
	h->nft_fd = err;
	snprintf(h->table, sizeof(h->table), "%s", name);
	if (spec->hang_ms) {
		/* The elements went in with the rules, alive for the hang
		 * time from now. */
		h->heartbeat = true;
		uint64_t now = ipri_now_mono();
		for (unsigned i = 0; i < h->nqueues; i++) {
			h->q[i].hb_hang = spec->hang_ms;
			h->q[i].hb_due = now + (uint64_t)spec->hang_ms * 250000ull;
		}
	}
	/* The keeper answers for a hung program, and without the owner
	 * flag (the table would outlive the program) deletes the table if
	 * the program dies without ipr_close.  Without it (no fork allowed)
	 * the handle works, packets queued before a hang wait for the
	 * program, and the sweep of the next open deletes a table left. */
	h->unowned = spec->unowned;
	(void)ipri_keeper_start(h);
	return 0;
}

IPR_API ipr_handle *ipr_open_ex(const char *filter, enum ipr_layer layer,
				int16_t priority, uint64_t flags,
				const struct ipr_open_opts *opts)
{
	int err = 0;
	ipri_detail_clear(); /* what ipr_last_error says is about this open */
	if (!open_args_ok(filter, layer, priority, flags)) {
		errno = EINVAL;
		return NULL;
	}
	struct ipr_open_opts o;
	if (ipri_opts_copy(&o, sizeof(o), opts) < 0)
		return NULL;

	struct ipr_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->nft_fd = h->raw4 = h->raw6 = h->keep_fd = -1;
	pthread_mutex_init(&h->nft_lock, NULL);
	h->layer = layer;
	h->priority = priority;
	h->flags = flags;
	unsigned nq;
	err = handle_opts(h, &o, &nq);
	if (!err)
		err = handle_filter(h, filter);
	if (err)
		goto fail;
	if (!(flags & IPR_FLAG_RECV_ONLY)) {
		/* EPERM without CAP_NET_RAW: only injection fails then, except
		 * on a handle that is for nothing else. */
		err = ipri_inject_open(h);
		if (err && (flags & IPR_FLAG_SEND_ONLY))
			goto fail;
		err = 0;
	}
	if (flags & IPR_FLAG_SEND_ONLY)
		return h;

	struct ipr_rules_spec spec = {
		.priority = priority, .layer = layer,
		.bypass = !(flags & IPR_FLAG_FAIL_CLOSED),
	};
	if (flags & IPR_FLAG_DROP)
		spec.action = IPR_ACT_DROP;
	else
		err = open_queues(h, nq, &spec);
	if (!err)
		err = install_rules(h, &spec);
	if (err)
		goto fail;
	return h;
fail:
	handle_free(h);
	errno = -err;
	return NULL;
}

IPR_API ipr_handle *ipr_open(const char *filter, enum ipr_layer layer,
			     int16_t priority, uint64_t flags)
{
	return ipr_open_ex(filter, layer, priority, flags, NULL);
}

IPR_API unsigned ipr_queue_count(const ipr_handle *h)
{
	return h ? h->nqueues : 0;
}

IPR_API int ipr_queue_fd(const ipr_handle *h, unsigned queue)
{
	if (!h)
		return ipr_err(EINVAL);
	if (queue >= h->nqueues)
		return ipr_err(h->nqueues ? EINVAL : EOPNOTSUPP);
	return h->q[queue].fd;
}

IPR_API int ipr_queue_timeout(const ipr_handle *h, unsigned queue, int *ms)
{
	if (!h || !ms)
		return ipr_err(EINVAL);
	if (queue >= h->nqueues)
		return ipr_err(h->nqueues ? EINVAL : EOPNOTSUPP);
	*ms = ipri_nfq_timeout(&h->q[queue]);
	return 0;
}

/* Refreshed at a quarter of the hang time: a refresh may come up to twice
 * that late (the receive wait is capped at it) and still be in time. */
int ipri_heartbeat(struct ipr_queue *q, uint64_t now)
{
	struct ipr_handle *h = q->h;
	uint32_t hang = atomic_load_explicit(&h->hang_time,
					     memory_order_relaxed);
	q->hb_hang = hang;
	q->hb_due = now + (uint64_t)hang * 250000ull;
	int err = 0;
	struct ipr_keep_q *kq = h->keep ? &h->keep->q[q->index] : NULL;
	/* The keeper waits a hang time from the last of these stores: from
	 * now, before the kernel may queue to us again (a program that
	 * resumes is not taken for hung), and from when the kernel has the
	 * refresh (its element lives until hang ms from then at the latest). */
	if (kq)
		atomic_store_explicit(&kq->beat_ns, ipri_now_mono(),
				      memory_order_release);
	pthread_mutex_lock(&h->nft_lock);
	if (!h->rules_off)
		err = ipri_rules_heartbeat(h->nft_fd, h->table, q->index, hang);
	pthread_mutex_unlock(&h->nft_lock);
	if (!err && kq) {
		atomic_store_explicit(&kq->hang_ms, hang, memory_order_relaxed);
		atomic_store_explicit(&kq->beat_ns, ipri_now_mono(),
				      memory_order_release);
	}
	return err;
}

IPR_API int ipr_recv_batch(ipr_handle *h, unsigned queue, void *buf,
			   size_t cap, struct ipr_packet *pkts, unsigned max,
			   int timeout_ms)
{
	if (!h || !buf || !pkts || !max)
		return ipr_err(EINVAL);
	if (queue >= h->nqueues)
		return ipr_err(h->nqueues ? EINVAL : EOPNOTSUPP);
	return ipri_nfq_recv(&h->q[queue], buf, cap, pkts, max, timeout_ms);
}

IPR_API int ipr_recv(ipr_handle *h, void *pkt, size_t cap, size_t *len,
		     struct ipr_addr *addr)
{
	if (!h || (!pkt && cap) || !addr)
		return ipr_err(EINVAL);
	if (!h->nqueues)
		return ipr_err(EOPNOTSUPP);
	struct ipr_queue *q = &h->q[0];
	struct ipr_packet p;
	int n = ipri_nfq_recv(q, q->onebuf, IPR_BATCH_SLOT, &p, 1, -1);
	if (n < 0)
		return n;
	*addr = p.addr;
	if (len)
		*len = p.len;
	if (cap)
		memcpy(pkt, p.data, p.len < cap ? p.len : cap);
	if (p.len > cap)
		return ipr_err(EMSGSIZE);
	return 0;
}

static int send_check(ipr_handle *h)
{
	if (!h)
		return -EINVAL;
	if (h->shut_send)
		return -ESHUTDOWN;
	if (h->flags & IPR_FLAG_RECV_ONLY)
		return -EPERM;
	return 0;
}

static int answer(ipr_handle *h, struct ipr_packet *p, bool constdata)
{
	if (p->addr.queue >= h->nqueues || (p->addr.flags & IPR_ADDR_SNIFFED))
		return ipr_err(EINVAL);
	int n = ipri_nfq_send(&h->q[p->addr.queue], p, 1, constdata);
	return n < 0 ? n : 0;
}

IPR_API int ipr_send(ipr_handle *h, const void *pkt, size_t len,
		     const struct ipr_addr *addr)
{
	int err = send_check(h);
	if (err)
		return ipr_err(-err);
	if (!addr)
		return ipr_err(EINVAL);
	if (addr->flags & IPR_ADDR_SNIFFED)
		return ipr_err(EINVAL); /* a copy: clear the flag to inject it */
	if (!addr->packet_id) {
		if (!pkt)
			return ipr_err(EINVAL);
		err = ipri_inject(h, pkt, len, addr);
		return err ? ipr_err(-err) : 0;
	}
	if (len > IPR_MTU_MAX)
		return ipr_err(EMSGSIZE);
	struct ipr_packet p = {
		.data = (void *)pkt, .len = (uint32_t)len,
		.verdict = pkt ? IPR_VERDICT_REPLACE : IPR_VERDICT_PASS,
		.addr = *addr,
	};
	return answer(h, &p, true);
}

IPR_API int ipr_drop(ipr_handle *h, const struct ipr_addr *addr)
{
	if (!h || !addr || !addr->packet_id)
		return ipr_err(EINVAL);
	struct ipr_packet p = { .verdict = IPR_VERDICT_DROP, .addr = *addr };
	return answer(h, &p, true);
}

IPR_API int ipr_send_batch(ipr_handle *h, struct ipr_packet *pkts, unsigned n)
{
	int err = send_check(h);
	if (err)
		return ipr_err(-err);
	if (!pkts && n)
		return ipr_err(EINVAL);
	unsigned i = 0;
	while (i < n) {
		struct ipr_packet *p = &pkts[i];
		if (p->addr.flags & IPR_ADDR_SNIFFED) {
			err = -EINVAL;
			goto fail;
		}
		if (!p->addr.packet_id) {
			if (p->verdict == IPR_VERDICT_DROP) {
				i++;
				continue;
			}
			err = ipri_inject(h, p->data, p->len, &p->addr);
			if (err)
				goto fail;
			i++;
			continue;
		}
		/* A run of packets of one queue goes in one system call. */
		unsigned j = i + 1;
		while (j < n && pkts[j].addr.packet_id &&
		       pkts[j].addr.queue == p->addr.queue)
			j++;
		if (p->addr.queue >= h->nqueues) {
			err = -EINVAL;
			goto fail;
		}
		int r = ipri_nfq_send(&h->q[p->addr.queue], p, j - i, false);
		if (r < 0) {
			err = r;
			goto fail;
		}
		i += (unsigned)r;
		if (i < j) {
			err = -EINVAL;
			goto fail;
		}
	}
	return (int)n;
fail:
	if (i)
		return (int)i;
	return ipr_err(-err);
}

IPR_API int ipr_shutdown(ipr_handle *h, enum ipr_shutdown_how how)
{
	if (!h || !(how & IPR_SHUTDOWN_BOTH) || (how & ~IPR_SHUTDOWN_BOTH))
		return ipr_err(EINVAL);
	if (how & IPR_SHUTDOWN_RECV) {
		/* Nothing new is queued; what is queued can still be read
		 * (the table stays until close: deleting its chains would
		 * make the kernel drop the queued packets). */
		pthread_mutex_lock(&h->nft_lock);
		int e = 0;
		if (h->nft_fd >= 0 && !h->rules_off) {
			e = ipri_rules_disable(h->nft_fd, h->table);
			if (!e)
				h->rules_off = true;
		}
		pthread_mutex_unlock(&h->nft_lock);
		if (e)
			return ipr_err(-e);
		h->shut_recv = 1;
		for (unsigned i = 0; i < h->nqueues; i++)
			ipri_nfq_wake(&h->q[i]);
	}
	if (how & IPR_SHUTDOWN_SEND)
		h->shut_send = 1;
	return 0;
}

IPR_API int ipr_close(ipr_handle *h)
{
	if (!h)
		return ipr_err(EINVAL);
	/* Stop the queueing first and answer what is queued and held; only
	 * then remove the table (which would drop whatever is still queued). */
	pthread_mutex_lock(&h->nft_lock);
	if (h->nft_fd >= 0 && !h->rules_off &&
	    !ipri_rules_disable(h->nft_fd, h->table))
		h->rules_off = true;
	pthread_mutex_unlock(&h->nft_lock);
	if (!(h->flags & IPR_FLAG_SNIFF)) {
		bool accept = !(h->flags & IPR_FLAG_FAIL_CLOSED);
		for (unsigned i = 0; i < h->nqueues; i++)
			ipri_nfq_drain(&h->q[i], accept);
	}
	if (h->unowned && h->nft_fd >= 0)
		(void)ipri_table_delete(NFPROTO_INET, h->table);
	handle_free(h);
	return 0;
}

IPR_API int ipr_param_set(ipr_handle *h, enum ipr_param param, uint64_t v)
{
	if (!h)
		return ipr_err(EINVAL);
	switch (param) {
	case IPR_PARAM_QUEUE_LENGTH:
		if (v < IPR_QUEUE_LENGTH_MIN || v > IPR_QUEUE_LENGTH_MAX)
			return ipr_err(EINVAL);
		h->queue_length = (uint32_t)v;
		if (!(h->flags & IPR_FLAG_SNIFF))
			for (unsigned i = 0; i < h->nqueues; i++) {
				int e = ipri_nfq_set_maxlen(&h->q[i], h->queue_length);
				if (e)
					return ipr_err(-e);
			}
		return 0;
	case IPR_PARAM_QUEUE_TIME:
		if (v < IPR_QUEUE_TIME_MIN || v > IPR_QUEUE_TIME_MAX)
			return ipr_err(EINVAL);
		h->queue_time = (uint32_t)v;
		return 0;
	case IPR_PARAM_BUSY_POLL:
		if (v > IPR_BUSY_POLL_MAX)
			return ipr_err(EINVAL);
		h->busy_poll = (uint32_t)v;
		return 0;
	case IPR_PARAM_HANG_TIME:
		if (v < IPR_HANG_TIME_MIN || v > IPR_HANG_TIME_MAX)
			return ipr_err(EINVAL);
		atomic_store(&h->hang_time, (uint32_t)v);
		/* Each queue's receive path sees the change and refreshes
		 * with the new time; wake those that wait. */
		if (h->heartbeat)
			for (unsigned i = 0; i < h->nqueues; i++)
				ipri_nfq_wake(&h->q[i]);
		return 0;
	case IPR_PARAM_QUEUE_SIZE:
		if (v < IPR_QUEUE_SIZE_MIN || v > IPR_QUEUE_SIZE_MAX)
			return ipr_err(EINVAL);
		h->queue_size = (uint32_t)v;
		for (unsigned i = 0; i < h->nqueues; i++) {
			int sz = (int)v;
			if (setsockopt(h->q[i].fd, SOL_SOCKET, SO_RCVBUFFORCE,
				       &sz, sizeof(sz)) < 0 &&
			    setsockopt(h->q[i].fd, SOL_SOCKET, SO_RCVBUF, &sz,
				       sizeof(sz)) < 0)
				return ipr_err(errno);
		}
		return 0;
	default:
		return ipr_err(EINVAL);
	}
}

IPR_API int ipr_param_get(ipr_handle *h, enum ipr_param param, uint64_t *v)
{
	if (!h || !v)
		return ipr_err(EINVAL);
	switch (param) {
	case IPR_PARAM_QUEUE_LENGTH: *v = h->queue_length; return 0;
	case IPR_PARAM_QUEUE_TIME: *v = h->queue_time; return 0;
	case IPR_PARAM_QUEUE_SIZE: *v = h->queue_size; return 0;
	case IPR_PARAM_BUSY_POLL: *v = h->busy_poll; return 0;
	case IPR_PARAM_HANG_TIME: *v = h->hang_time; return 0;
	case IPR_PARAM_VERSION_MAJOR: *v = IPR_VERSION_MAJOR; return 0;
	case IPR_PARAM_VERSION_MINOR: *v = IPR_VERSION_MINOR; return 0;
	}
	return ipr_err(EINVAL);
}

IPR_API int ipr_stats_get(ipr_handle *h, struct ipr_stats *st)
{
	if (!h || !st)
		return ipr_err(EINVAL);
	memset(st, 0, sizeof(*st));
	st->injected_packets = atomic_load(&h->injected);
	/* Read the rules' count first: packets counted since then in the
	 * queues can only make the difference smaller, never invent a
	 * bypass. */
	bool failopen = !(h->flags & (IPR_FLAG_SNIFF | IPR_FLAG_DROP |
				      IPR_FLAG_SEND_ONLY |
				      IPR_FLAG_FAIL_CLOSED));
	uint64_t taken = 0, reached = 0, gaps = 0, hung = 0;
	/* The switch's count first: every packet in it was in the rules'
	 * count before, so it can be taken off that. */
	if (h->heartbeat && !ipri_rules_hung(h->table, &hung))
		st->hung_packets = hung;
	if (failopen && ipri_rules_queued(h->table, &taken) < 0)
		failopen = false;
	for (unsigned i = 0; i < h->nqueues; i++) {
		const struct ipr_queue *q = &h->q[i];
		st->recv_packets += ipr_qst_get(&q->st.recv_packets);
		st->recv_bytes += ipr_qst_get(&q->st.recv_bytes);
		st->sent_packets += ipr_qst_get(&q->st.sent_packets);
		st->dropped_verdict += ipr_qst_get(&q->st.dropped_verdict);
		st->dropped_timeout += ipr_qst_get(&q->st.dropped_timeout);
		st->segmented += ipr_qst_get(&q->st.segmented);
		st->errors += ipr_qst_get(&q->st.errors);
		if (h->flags & IPR_FLAG_SNIFF)
			continue;
		gaps += ipr_qst_get(&q->st.id_gaps);
		uint16_t nums[2] = { q->qnum, q->seg_qnum };
		for (int k = 0; k < 2; k++) {
			struct ipr_proc_queue c = { 0 };
			if (!ipri_proc_queue_counters(nums[k], &c)) {
				st->kernel_queue_dropped += c.queue_dropped;
				st->kernel_user_dropped += c.user_dropped;
				/* The companion queue gets its packets from us,
				 * not from the rules. */
				if (k == 0)
					reached += c.id_sequence;
			}
		}
	}
	/* Taken by the rules but given no id: passed by a full queue (or with
	 * no program bound); given an id but never in our socket: passed by
	 * a full socket buffer. */
	if (failopen) {
		taken = taken > hung ? taken - hung : 0;
		st->kernel_bypassed = (taken > reached ? taken - reached : 0) +
				      gaps;
	}
	return 0;
}
