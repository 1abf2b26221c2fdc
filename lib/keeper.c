/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keeper.c - the keeper: a process per handle that answers for the program
 * when the program cannot.
 *
 * The dead-man switch (rules_nft.c) stops the kernel queueing to a queue
 * whose program has not been in ipr_recv* for the hang time, but what was
 * queued before still waits for the program.  A TCP segment among it
 * stalls its connection: the kernel does not retransmit a segment while a
 * copy of it waits in a local queue.  So the keeper, which holds a
 * duplicate of each queue socket (the same socket, so the kernel takes its
 * verdicts), gives those packets the handle's failure verdict, pass
 * (fail-open) or drop (fail-closed), with one NFQNL_MSG_VERDICT_BATCH up
 * to the queue's last id, and tells the library (shared memory) up to
 * which id it did, so that the program, once it reads again, is not handed
 * packets that are gone.  It does the same when the program is gone (the
 * end of a pipe whose write end only the program holds: ipr_close, exit,
 * kill -9), and then deletes a table without the owner flag (kernels
 * before 5.12), which the kernel would keep; a sweep at the next open (and
 * `ipredir cleanup`) removes those of dead programs that even the keeper
 * missed.
 *
 * It is a grandchild of the opening thread, in a session of its own (a
 * terminal's ^C or a kill of the program's process group must not take it
 * first).  Between fork and exit it makes only async-signal-safe calls:
 * the program may have threads.  It wakes a few times per hang time and
 * reads /proc only while a queue is hung.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* What the keeper needs, built before the fork: it allocates nothing. */
struct keeper {
	int rd;                 /* the pipe */
	int nl;                 /* for the table's deletion, or -1 */
	unsigned nq;
	int fd[IPR_QUEUES_MAX];
	uint16_t qnum[IPR_QUEUES_MAX], seg[IPR_QUEUES_MAX];
	uint32_t verdict;       /* NF_ACCEPT or NF_DROP */
	struct ipr_keep *shm;
	size_t del_len;
	char del[IPR_TABLE_DEL_BATCH];
};

struct qline {
	uint32_t waiting, last_id;
	bool found;
};

/* Queues @a and @b in the kernel's list of this namespace: how many
 * packets wait in each, and the last id each gave out. */
static void kernel_queues(uint16_t a, uint16_t b, struct qline *ra,
			  struct qline *rb)
{
	ra->found = rb->found = false;
	int fd = open("/proc/self/net/netfilter/nfnetlink_queue",
		      O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* queue portid waiting copy_mode copy_range dropped user_dropped
	 * id_sequence 1, in decimal, a line per queue */
	char buf[1024];
	uint32_t f[9];
	unsigned nf = 0;
	uint64_t cur = 0;
	bool in = false;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];
			if (c >= '0' && c <= '9') {
				cur = cur * 10 + (uint64_t)(c - '0');
				if (cur > UINT32_MAX)
					cur = UINT32_MAX;
				in = true;
				continue;
			}
			if (in && nf < 9)
				f[nf++] = (uint32_t)cur;
			cur = 0;
			in = false;
			if (c != '\n')
				continue;
			struct qline *r = nf < 8 ? NULL
				: f[0] == a ? ra : f[0] == b ? rb : NULL;
			if (r)
				*r = (struct qline){ f[2], f[7], true };
			nf = 0;
		}
	}
	close(fd);
}

/* One NFQNL_MSG_VERDICT_BATCH: @verdict for every packet of queue @qnum
 * up to @id, at @at; returns its length. */
static size_t batch_msg(char *at, uint16_t qnum, uint32_t verdict,
			uint32_t id)
{
	struct nlmsghdr *nlh = ipri_nfnl_put(
		at, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH, 0,
		AF_UNSPEC, qnum, IPR_KEEP_SEQ);
	struct nfqnl_msg_verdict_hdr vh = { htonl(verdict), htonl(id) };
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	return nlh->nlmsg_len;
}

/* Answer what waits in queue @i (its main and its segmenting kernel
 * queue), then say so to the library: it answered nothing of it yet, so a
 * message it reads before it learns of this is answered in vain (the
 * kernel refuses the verdict), never lost. */
static void release(const struct keeper *k, unsigned i, uint64_t beat)
{
	struct qline m, s;
	kernel_queues(k->qnum[i], k->seg[i], &m, &s);
	/* Not if the program came back meanwhile: what waits is for it. */
	if (beat && atomic_load_explicit(&k->shm->q[i].beat_ns,
					 memory_order_acquire) != beat)
		return;
	char buf[256];
	size_t len = 0;
	if (m.found && m.waiting)
		len += batch_msg(buf, k->qnum[i], k->verdict, m.last_id);
	if (s.found && s.waiting)
		len += batch_msg(buf + len, k->seg[i], k->verdict, s.last_id);
	if (!len)
		return;
	while (send(k->fd[i], buf, len, 0) < 0 && errno == EINTR)
		;
	struct ipr_keep_q *kq = &k->shm->q[i];
	if (m.found && m.waiting)
		atomic_store_explicit(&kq->upto, IPR_KEEP_SET | m.last_id,
				      memory_order_relaxed);
	if (s.found && s.waiting)
		atomic_store_explicit(&kq->seg_upto, IPR_KEEP_SET | s.last_id,
				      memory_order_relaxed);
	atomic_fetch_add_explicit(&kq->epoch, 1, memory_order_release);
}

/* Close descriptors @from to @to (to the end if @to < 0). */
static void close_fds(int from, int to)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)from,
		    to < 0 ? ~0u : (unsigned)to, 0u) == 0)
		return;
#endif
	if (to < 0) { /* kernels before 5.9: every descriptor it may have */
		struct rlimit rl;
		to = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
				     rl.rlim_cur != RLIM_INFINITY &&
				     rl.rlim_cur <= (1u << 20)
			     ? (int)rl.rlim_cur - 1
			     : (1 << 20) - 1;
	}
	for (int fd = from; fd <= to; fd++)
		(void)close(fd);
}

/* Close every descriptor but those @k keeps: the keeper must not keep
 * the program's other sockets or files open. */
static void close_others(const struct keeper *k)
{
	int keep[IPR_QUEUES_MAX + 2];
	unsigned n = 0;
	keep[n++] = k->rd;
	if (k->nl >= 0)
		keep[n++] = k->nl;
	for (unsigned i = 0; i < k->nq; i++)
		keep[n++] = k->fd[i];
	for (unsigned i = 1; i < n; i++) /* insertion sort: a few */
		for (unsigned j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	int from = 0;
	for (unsigned i = 0; i < n; i++) {
		if (keep[i] > from)
			close_fds(from, keep[i] - 1);
		from = keep[i] + 1;
	}
	close_fds(from, -1);
}

/* Keep only CAP_NET_ADMIN (verdicts, the table's deletion): the keeper
 * has the program's privileges of the open, and the program may drop its
 * own later (passthru --user).  Nothing it runs can gain any back. */
static void drop_privileges(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof(d));
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
		d[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
			CAP_TO_MASK(CAP_NET_ADMIN);
	(void)syscall(SYS_capset, &hdr, d); /* fails only if it lacks it */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void keeper_main(const struct keeper *k)
{
	setsid();
	/* None of the program's handlers or blocked signals.  It ends when
	 * the program is gone, and only then: a stop of the service sends
	 * SIGTERM to every process of its group, the keeper among them,
	 * while the program may still need it (hung, or killed at the end
	 * of the stop's time); what comes from the program's terminal does
	 * not end it either.  SIGKILL does. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	for (int sig = 1; sig < NSIG; sig++) {
		sa.sa_handler = sig == SIGINT || sig == SIGHUP ||
				sig == SIGTERM || sig == SIGPIPE ? SIG_IGN
								 : SIG_DFL;
		(void)sigaction(sig, &sa, NULL); /* EINVAL for KILL, STOP */
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	drop_privileges();
	for (;;) {
		/* Look a few times per hang time (it may change); with no
		 * queues to look after, wait for the program's end alone. */
		int tick = k->shm ? 250 : -1;
		for (unsigned i = 0; k->shm && i < k->nq; i++) {
			uint32_t h = atomic_load_explicit(&k->shm->q[i].hang_ms,
							  memory_order_relaxed);
			if (h && (int)(h / 4) < tick)
				tick = h / 4 ? (int)(h / 4) : 1;
		}
		struct pollfd pf = { .fd = k->rd, .events = POLLIN };
		int r = poll(&pf, 1, tick);
		if (r > 0 || (r < 0 && errno != EINTR))
			break; /* the program closed the handle or is gone */
		uint64_t now = ipri_now_mono();
		for (unsigned i = 0; k->shm && i < k->nq; i++) {
			struct ipr_keep_q *kq = &k->shm->q[i];
			uint64_t beat = atomic_load_explicit(
				&kq->beat_ns, memory_order_acquire);
			uint32_t h = atomic_load_explicit(&kq->hang_ms,
							  memory_order_relaxed);
			/* The library stores the time as it starts a refresh
			 * and again once the kernel has it, so the queue's
			 * element is gone by beat + hang (a tick of slack for
			 * the kernel's clock): nothing is queued to it any
			 * more, and what waits, waits for a hung program. */
			if (beat && h &&
			    now > beat + (uint64_t)h * 1000000u + 10000000u)
				release(k, i, beat);
		}
	}
	if (k->shm)
		for (unsigned i = 0; i < k->nq; i++)
			release(k, i, 0);
	for (unsigned i = 0; i < k->nq; i++)
		close(k->fd[i]); /* unbound: the kernel passes (bypass) */
	if (k->nl >= 0 && send(k->nl, k->del, k->del_len, 0) >= 0) {
		/* wait for the ack: the deletion is done before we go */
		char rbuf[1024];
		(void)recv(k->nl, rbuf, sizeof(rbuf), 0);
	}
	_exit(0);
}

int ipri_keeper_start(struct ipr_handle *h)
{
	/* The page's 64-bit stamps are read across processes: an atomic
	 * that takes a lock (some 32-bit machines) would lock in one
	 * process only.  There the keeper only deletes the table. */
	bool hold = ATOMIC_LLONG_LOCK_FREE == 2 &&
		    !(h->flags & IPR_FLAG_SNIFF) && h->heartbeat && h->nqueues;
	if (!hold && !h->unowned)
		return 0;
	struct keeper k = { .rd = -1, .nl = -1 };
	if (h->unowned) {
		uint32_t seq = (uint32_t)time(NULL) | 1;
		k.del_len = ipri_table_del_batch(k.del, NFPROTO_INET, h->table,
						 seq);
		k.nl = ipri_nl_socket();
		if (k.nl < 0)
			return k.nl;
	}
	if (hold) {
		void *m = mmap(NULL, sizeof(struct ipr_keep),
			       PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			int e = -errno;
			if (k.nl >= 0)
				close(k.nl);
			return e;
		}
		h->keep = m;
		k.shm = m;
		k.nq = h->nqueues;
		k.verdict = h->flags & IPR_FLAG_FAIL_CLOSED ? NF_DROP
							    : NF_ACCEPT;
		uint64_t now = ipri_now_mono();
		for (unsigned i = 0; i < h->nqueues; i++) {
			k.fd[i] = h->q[i].fd;
			k.qnum[i] = h->q[i].qnum;
			k.seg[i] = h->q[i].seg_qnum;
			/* the elements went in with the rules, just now */
			atomic_store_explicit(&k.shm->q[i].hang_ms,
					      h->q[i].hb_hang,
					      memory_order_relaxed);
			atomic_store_explicit(&k.shm->q[i].beat_ns, now,
					      memory_order_release);
		}
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = -errno;
		if (k.nl >= 0)
			close(k.nl);
		return e;
	}
	k.rd = p[0];
	/* No signal between the forks and the keeper's own handlers: a
	 * ^C to the program's process group must not run the program's
	 * handler (which may exit, flushing stdio) in a child. */
	sigset_t all, old;
	sigfillset(&all);
	bool masked = pthread_sigmask(SIG_BLOCK, &all, &old) == 0;
	pid_t pid = fork();
	if (pid == 0) {
		/* Named, and every other descriptor closed, before it forks
		 * the keeper, while the open waits for it: by the time the
		 * open returns the keeper has its name and no reference to
		 * another handle's sockets, whose close would otherwise
		 * leave their table and queues (and their port ids, see
		 * ipri_nl_bind) until the keeper got round to closing them. */
		prctl(PR_SET_NAME, "ipredir-keeper", 0, 0, 0);
		close_others(&k);
		pid_t kp = fork();
		if (kp == 0)
			keeper_main(&k);
		_exit(kp < 0 ? 1 : 0);
	}
	int e = pid < 0 ? -errno : 0;
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (k.nl >= 0)
		close(k.nl);
	if (pid > 0) {
		int st = 0;
		pid_t w;
		while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		/* (a program that ignores SIGCHLD gets ECHILD: no status) */
		if (w == pid && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			e = -EAGAIN; /* no keeper: the second fork failed */
	}
	if (e) {
		close(p[1]);
		return e;
	}
	h->keep_fd = p[1];
	return 0;
}

void ipri_keeper_stop(struct ipr_handle *h)
{
	if (h->keep_fd >= 0)
		close(h->keep_fd); /* the keeper answers and deletes, if left */
	h->keep_fd = -1;
	if (h->keep)
		munmap(h->keep, sizeof(struct ipr_keep));
	h->keep = NULL;
}

struct sweep {
	char names[64][NFT_TABLE_MAXNAMELEN];
	unsigned n;
};

static int sweep_cb(const struct ipr_table_info *t, void *data)
{
	struct sweep *s = data;
	if ((t->flags & NFT_TABLE_F_OWNER) || s->n >= 64)
		return 0;
	int pid = ipri_table_name_pid(t->name);
	/* Only a pid that no longer exists: a live one (or one reused by
	 * another program since) keeps its table. */
	if (pid && kill(pid, 0) < 0 && errno == ESRCH)
		snprintf(s->names[s->n++], NFT_TABLE_MAXNAMELEN, "%s", t->name);
	return 0;
}

int ipri_tables_sweep(void)
{
	struct sweep *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int err = ipri_tables_list(NFPROTO_INET, sweep_cb, s);
	for (unsigned i = 0; !err && i < s->n; i++) {
		int e = ipri_table_delete(NFPROTO_INET, s->names[i]);
		if (e && e != -ENOENT && !err)
			err = e;
	}
	free(s);
	return err;
}
