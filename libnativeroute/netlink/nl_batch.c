#include "netlink/nl_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nativeroute/error.h"
#include "netlink/nl_ack.h"
#include "netlink/nl_request.h"
#include "util/clock.h"
#include "util/worker_yield.h"

/* Bytes per sendmsg. Must stay below the socket's sndbuf (default ~208 KiB)
 * or the kernel answers EMSGSIZE; 64 KiB holds ~600 routes. mnl's batch
 * wants a buffer twice the limit (the overflowing message lands in the
 * second half and is moved to the front on reset). */
#define BATCH_LIMIT (64 * 1024)
/* What one ACK costs in the receive buffer (skb truesize, error ACKs carry
 * text). In-flight messages are capped so their ACKs always fit: a dropped
 * ACK would leave an operation's fate unknown. */
#define ACK_COST 2048
#define OP_PENDING 1

/* Only the last message of a sendmsg, and every ACK_EVERY-th, asks for an
 * ACK. The kernel answers a failed message whether or not it asked
 * (netlink_rcv_skb), and handles the messages of one socket in order: when
 * the ACK of message i arrives, every earlier message without an error
 * answer succeeded. An ACK per 64 messages instead of per route spares the
 * reader thousands of receives (the in-flight cap still counts an answer
 * per message: each may fail), and still shows progress inside a long
 * sendmsg to a reader on another thread: with 100,000 neighbours a single
 * change can take milliseconds, and a sendmsg of 600 of them seconds - a
 * timeout counts the silence between two answers. The sends from a worker
 * (nr_nl_batch_send_claimed) have their ACKs read only once the worker is
 * done: only the claim's last message asks (every == 0). */
#define ACK_EVERY 64
static void ack_last_only(struct nlmsghdr *nlh, struct nlmsghdr **last, uint32_t every)
{
	if (!every || nlh->nlmsg_seq % every != every - 1)
		nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	*last = nlh;
}

static void ack_ask(struct nlmsghdr *last)
{
	if (last)
		last->nlmsg_flags |= NLM_F_ACK;
}

struct commit_state {
	struct nr_nl_batch *b;
	uint32_t base_seq;   /* seq of ops[0] */
	size_t decided;      /* every operation before this one has its result */
	size_t inflight;     /* sent, result not known yet */
	size_t max_inflight;
	int failures;
	nr_nl_batch_fail_cb cb;
	void *data;
	struct nr_err *err;
};

struct nr_nl_batch {
	struct nr_nl *nl;
	struct nr_nl_owner owner;
	struct nr_nl_batch_op *ops;
	size_t n_ops, cap_ops;
	/* the asynchronous commit (nr_nl_batch_begin/pump) */
	struct commit_state cs;
	size_t next;      /* first operation not sent yet */
	char *buf;        /* one slice, encoded */
	bool out;         /* it set nl->batch_out */
};

static void batch_settled(struct nr_nl_batch *b)
{
	if (b->out)
		b->nl->batch_out = false;
	b->out = false;
}

int nr_nl_batch_new(struct nr_nl *nl, const struct nr_nl_owner *owner,
		    struct nr_nl_batch **ret)
{
	struct nr_nl_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->nl = nl;
	b->owner = *owner;
	*ret = b;
	return 0;
}

void nr_nl_batch_free(struct nr_nl_batch *b)
{
	if (!b)
		return;
	batch_settled(b);
	free(b->buf);
	free(b->ops);
	free(b);
}

static int batch_grow(struct nr_nl_batch *b)
{
	size_t cap = b->cap_ops ? b->cap_ops * 2 : 64;
	struct nr_nl_batch_op *ops = realloc(b->ops, cap * sizeof(*ops));

	if (!ops)
		return -ENOMEM;
	b->ops = ops;
	b->cap_ops = cap;
	return 0;
}

int nr_nl_batch_reserve(struct nr_nl_batch *b, size_t n)
{
	struct nr_nl_batch_op *ops;

	if (n <= b->cap_ops)
		return 0;
	ops = realloc(b->ops, n * sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	b->ops = ops;
	b->cap_ops = n;
	return 0;
}

int nr_nl_batch_add(struct nr_nl_batch *b, enum nr_nl_op op,
		    const struct nr_nl_object *obj, struct nr_err *err)
{
	int r = nr_nl_object_check(obj, op, err);

	if (r < 0)
		return r;
	if (b->n_ops == b->cap_ops && batch_grow(b) < 0)
		return nr_err_set(err, -ENOMEM, "netlink batch: out of memory");
	if (b->n_ops >= (size_t)INT32_MAX)
		return nr_err_set(err, -E2BIG, "netlink batch: too many operations");
	b->ops[b->n_ops] = (struct nr_nl_batch_op){ .obj = *obj, .op = op, .error = OP_PENDING };
	return (int)b->n_ops++;
}

int nr_nl_batch_nexthop(struct nr_nl_batch *b, enum nr_nl_op op,
			const struct nr_knexthop *nh, struct nr_err *err)
{
	struct nr_nl_object o = { .kind = NR_NL_NEXTHOP, .u.nh = *nh };

	return nr_nl_batch_add(b, op, &o, err);
}

int nr_nl_batch_route(struct nr_nl_batch *b, enum nr_nl_op op,
		      const struct nr_kroute *r, struct nr_err *err)
{
	struct nr_nl_object o = { .kind = NR_NL_ROUTE, .u.route = *r };

	return nr_nl_batch_add(b, op, &o, err);
}

int nr_nl_batch_neigh(struct nr_nl_batch *b, enum nr_nl_op op,
		      const struct nr_kneigh *n, struct nr_err *err)
{
	struct nr_nl_object o = { .kind = NR_NL_NEIGH, .u.neigh = *n };

	return nr_nl_batch_add(b, op, &o, err);
}

int nr_nl_batch_fdb(struct nr_nl_batch *b, enum nr_nl_op op,
		    const struct nr_kfdb *f, struct nr_err *err)
{
	struct nr_nl_object o = { .kind = NR_NL_FDB, .u.fdb = *f };

	return nr_nl_batch_add(b, op, &o, err);
}

size_t nr_nl_batch_count(const struct nr_nl_batch *b)
{
	return b->n_ops;
}

const struct nr_nl_batch_op *nr_nl_batch_op(const struct nr_nl_batch *b, size_t index)
{
	return index < b->n_ops ? &b->ops[index] : NULL;
}

void nr_nl_batch_reset(struct nr_nl_batch *b)
{
	batch_settled(b);
	b->n_ops = 0;
}

/* The nexthop a failed route points at, if this batch programs it, so the
 * error can name the gateway. Searched backwards: the planner queues a
 * node's nexthop just before its routes. Error path only. */
static const struct nr_knexthop *batch_find_nexthop(const struct nr_nl_batch *b,
						    size_t from, uint32_t id)
{
	for (size_t i = from; i-- > 0;) {
		const struct nr_nl_batch_op *o = &b->ops[i];

		if (o->obj.kind == NR_NL_NEXTHOP && o->obj.u.nh.id == id)
			return &o->obj.u.nh;
	}
	return NULL;
}

static void commit_fail(struct commit_state *st, size_t idx, const char *kmsg)
{
	struct nr_nl_batch_op *op = &st->b->ops[idx];
	const struct nr_knexthop *nh = NULL;
	char what[NR_NL_OBJECT_STRLEN];
	struct nr_err e;

	if (op->obj.kind == NR_NL_ROUTE && op->obj.u.route.nh_id)
		nh = batch_find_nexthop(st->b, idx, op->obj.u.route.nh_id);
	nr_nl_object_str(&op->obj, op->op, nh, what, sizeof(what));
	nr_nl_err_set(&e, op->error, what, kmsg);
	if (st->failures++ == 0 && st->err)
		*st->err = e;
	if (st->cb)
		st->cb(idx, op, e.msg, st->data);
}

static void commit_ack(struct commit_state *st, const struct nlmsghdr *nlh)
{
	size_t idx = nlh->nlmsg_seq - st->base_seq; /* u32 wrap-safe */
	const char *kmsg;

	if (nlh->nlmsg_type != NLMSG_ERROR || idx >= st->b->n_ops)
		return; /* not ours: a stale reply of an earlier request */
	/* the messages before it that did not ask for an ACK succeeded */
	for (; st->decided < idx; st->decided++) {
		if (st->b->ops[st->decided].error == OP_PENDING) {
			st->b->ops[st->decided].error = 0;
			st->inflight--;
		}
	}
	if (st->b->ops[idx].error != OP_PENDING)
		return;
	st->decided = idx + 1;
	st->b->ops[idx].error = nr_nl_ack_parse(nlh, &kmsg);
	st->inflight--;
	if (st->b->ops[idx].error < 0)
		commit_fail(st, idx, kmsg);
}

void nr_nl_batch_expect(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
			struct nr_err *err)
{
	b->cs = (struct commit_state){ .b = b, .cb = fail_cb, .data = data, .err = err };
	b->next = b->n_ops;
}

void nr_nl_batch_result(struct nr_nl_batch *b, size_t index, int error, const char *kernel_msg)
{
	if (index >= b->n_ops || b->ops[index].error != OP_PENDING)
		return;
	b->ops[index].error = error > 0 ? -error : error;
	if (b->ops[index].error < 0)
		commit_fail(&b->cs, index, kernel_msg);
}

struct nr_nl *nr_nl_batch_nl(const struct nr_nl_batch *b)
{
	return b->nl;
}

static int commit_read_acks(struct commit_state *st)
{
	char buf[NR_NL_RECV_SIZE];

	while (st->inflight) {
		int n = nr_nl_recv(st->b->nl, buf, sizeof(buf), NR_NL_TIMEOUT_MS);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (n < 0)
			return n;
		for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
			commit_ack(st, nlh);
	}
	return 0;
}

/* Send the filled part of the batch, read its ACKs, and make room. */
static int commit_flush(struct commit_state *st, struct mnl_nlmsg_batch *mb,
			size_t n_msgs)
{
	int r = 0;

	if (n_msgs) {
		struct nlmsghdr *nlh = mnl_nlmsg_batch_head(mb), *last = NULL;
		int left = (int)mnl_nlmsg_batch_size(mb);

		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			ack_last_only(nlh, &last, ACK_EVERY);
		ack_ask(last);
		r = nr_nl_send(st->b->nl, mnl_nlmsg_batch_head(mb),
			       mnl_nlmsg_batch_size(mb));
		st->inflight = n_msgs;
		if (r == 0)
			r = commit_read_acks(st);
	}
	mnl_nlmsg_batch_reset(mb);
	return r;
}

static int commit_all(struct commit_state *st, struct mnl_nlmsg_batch *mb)
{
	struct nr_nl_batch *b = st->b;
	size_t queued = 0;
	int r;

	for (size_t i = 0; i < b->n_ops; i++) {
		struct nlmsghdr *nlh = nr_nl_encode(mnl_nlmsg_batch_current(mb),
						    &b->ops[i].obj, b->ops[i].op, &b->owner);

		nlh->nlmsg_seq = st->base_seq + (uint32_t)i;
		if (mnl_nlmsg_batch_next(mb)) {
			if (++queued < st->max_inflight)
				continue;
			r = commit_flush(st, mb, queued);
			queued = 0;
		} else {
			/* Message i overflowed: send the others; reset moves
			 * i to the front of the next buffer. */
			r = commit_flush(st, mb, queued);
			queued = 1;
		}
		if (r < 0)
			return r;
	}
	return commit_flush(st, mb, queued);
}

static size_t commit_max_inflight(struct nr_nl *nl)
{
	int rcvbuf = nr_nl_rcvbuf(nl);
	size_t n = rcvbuf > 0 ? (size_t)rcvbuf / ACK_COST : 0;

	return n < 16 ? 16 : n;
}

int nr_nl_batch_commit(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb,
		       void *data, struct nr_err *err)
{
	struct commit_state st = { .b = b, .cb = fail_cb, .data = data, .err = err };
	struct mnl_nlmsg_batch *mb;
	void *buf;
	int r;

	if (!b->n_ops)
		return 0;
	buf = malloc(2 * BATCH_LIMIT);
	mb = buf ? mnl_nlmsg_batch_start(buf, BATCH_LIMIT) : NULL;
	if (!mb) {
		free(buf);
		return nr_err_set(err, -ENOMEM, "netlink batch: out of memory");
	}
	st.max_inflight = commit_max_inflight(b->nl);
	/* Reserve one seq per operation so an ACK's seq is its index. */
	st.base_seq = nr_nl_next_seq(b->nl);
	b->nl->seq = st.base_seq + (uint32_t)(b->n_ops - 1);
	r = commit_all(&st, mb);
	mnl_nlmsg_batch_stop(mb);
	free(buf);
	if (r < 0)
		return nr_err_set(err, r, "netlink batch of %zu operations: %s (%s)",
				  b->n_ops, nr_strerror(r), nr_err_name(r));
	return st.failures;
}

/* ---- asynchronous commit --------------------------------------------------- */

int nr_nl_batch_begin(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
		      struct nr_err *err)
{
	b->cs = (struct commit_state){ .b = b, .cb = fail_cb, .data = data, .err = err };
	b->next = 0;
	if (!b->n_ops)
		return 0;
	if (!b->buf && !(b->buf = malloc(BATCH_LIMIT)))
		return nr_err_set(err, -ENOMEM, "netlink batch: out of memory");
	b->cs.max_inflight = commit_max_inflight(b->nl);
	b->cs.base_seq = nr_nl_next_seq(b->nl);
	b->nl->seq = b->cs.base_seq + (uint32_t)(b->n_ops - 1);
	b->nl->batch_out = b->out = true;
	return 0;
}

/* The ACKs already queued on the socket; -EAGAIN is not an error here. */
static void pump_ack(const struct nlmsghdr *nlh, void *data)
{
	commit_ack(data, nlh);
}

static int pump_read(struct nr_nl_batch *b)
{
	return nr_nl_read_queued(b->nl, &b->cs.inflight, pump_ack, &b->cs);
}

/* Encode and send the next slice. */
static int pump_send(struct nr_nl_batch *b)
{
	size_t len = 0, k = 0;
	struct nlmsghdr *last = NULL;
	int r;

	while (b->next + k < b->n_ops && k < NR_NL_BATCH_SLICE) {
		size_t i = b->next + k;
		char tmp[NR_NL_MSG_MAX];
		struct nlmsghdr *nlh = nr_nl_encode(tmp, &b->ops[i].obj, b->ops[i].op, &b->owner);

		if (len + NLMSG_ALIGN(nlh->nlmsg_len) > BATCH_LIMIT)
			break;
		nlh->nlmsg_seq = b->cs.base_seq + (uint32_t)i;
		memcpy(b->buf + len, nlh, nlh->nlmsg_len);
		ack_last_only((struct nlmsghdr *)(b->buf + len), &last, ACK_EVERY);
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		k++;
	}
	ack_ask(last);
	r = nr_nl_send(b->nl, b->buf, len);
	if (r < 0)
		return r;
	b->next += k;
	b->cs.inflight += k;
	return 0;
}

int nr_nl_batch_pump(struct nr_nl_batch *b, uint64_t budget_ns)
{
	uint64_t t0 = nr_mono_ns();
	int r;

	for (;;) {
		r = pump_read(b);
		if (r < 0) {
			batch_settled(b);
			return r;
		}
		if (b->next == b->n_ops && !b->cs.inflight) {
			batch_settled(b);
			return 0;
		}
		if (b->next == b->n_ops)
			return NR_NL_BATCH_WAIT;
		if (b->cs.inflight + NR_NL_BATCH_SLICE > b->cs.max_inflight)
			return NR_NL_BATCH_WAIT; /* their ACKs must fit first */
		if (nr_mono_ns() - t0 >= budget_ns)
			return NR_NL_BATCH_MORE;
		r = pump_send(b);
		if (r < 0) {
			batch_settled(b);
			return r;
		}
	}
}

/* ---- sends from another thread --------------------------------------------- */

size_t nr_nl_batch_claim(struct nr_nl_batch *b, size_t *first)
{
	size_t room = b->cs.max_inflight > b->cs.inflight ? b->cs.max_inflight - b->cs.inflight : 0;
	size_t n = b->n_ops - b->next;

	if (n > room)
		n = room;
	*first = b->next;
	b->next += n;
	b->cs.inflight += n; /* their ACKs may be read before the sender returns */
	return n;
}

/* A worker's sendmsg calls are short, and it yields the CPU between them.
 * It shares the CPUs with the caller's loop thread, and a kernel without
 * preemption (PREEMPT_NONE, as here) runs a sendmsg to its end: a wakeup of
 * the loop thread (its timer, an eventfd) that the scheduler queues on the
 * worker's CPU - it does, even with another CPU idle - waits for it. Traced:
 * the loop 2.3 ms behind a 64 KiB sendmsg, 3.3 ms behind a 16 KiB one on a
 * busy machine (~150 routes at ~20 us each). WORKER_SLICE messages are a
 * few hundred microseconds at most, even then. */
#define WORKER_SLICE 32

int nr_nl_batch_send_claimed(struct nr_nl_batch *b, size_t first, size_t n, size_t *sent)
{
	char *buf = malloc(WORKER_SLICE * NR_NL_MSG_MAX);
	size_t k = 0;
	int r = 0;

	*sent = 0;
	if (!buf)
		return -ENOMEM;
	while (k < n && r == 0) {
		size_t len = 0, m = 0;
		struct nlmsghdr *last = NULL;

		if (k)
			nr_worker_yield_now();
		/* encoded in place: NR_NL_MSG_MAX bounds one message */
		while (k + m < n && m < WORKER_SLICE) {
			const struct nr_nl_batch_op *op = &b->ops[first + k + m];
			struct nlmsghdr *nlh = nr_nl_encode(buf + len, &op->obj, op->op, &b->owner);

			nlh->nlmsg_seq = b->cs.base_seq + (uint32_t)(first + k + m);
			ack_last_only(nlh, &last, 0);
			len += NLMSG_ALIGN(nlh->nlmsg_len);
			m++;
		}
		if (k + m == n) /* the claim's last ACK settles all of it */
			ack_ask(last);
		r = nr_nl_send(b->nl, buf, len);
		if (r == 0)
			k += m;
	}
	free(buf);
	*sent = k;
	return r;
}

void nr_nl_batch_claim_end(struct nr_nl_batch *b, size_t first, size_t n, size_t sent)
{
	(void)first;
	b->cs.inflight -= n - sent; /* never sent: no ACK comes (error stays 1) */
}

int nr_nl_batch_read_acks(struct nr_nl_batch *b)
{
	int r = pump_read(b);

	if (r == 0 && (b->next < b->n_ops || b->cs.inflight))
		return NR_NL_BATCH_WAIT;
	batch_settled(b); /* every answer read, or the socket failed */
	return r;
}

int nr_nl_batch_failures(const struct nr_nl_batch *b)
{
	return b->cs.failures;
}
