#include "netlink/nl_reach.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "nativeroute/error.h"
#include "netlink/nl_ack.h"
#include "netlink/nl_encode.h"
#include "netlink/nl_request.h"
#include "util/clock.h"
#include "util/worker_yield.h"

/* Lookups per sendmsg in nr_nl_reach_many: ~40 bytes each, and their
 * answers (a few hundred bytes of receive buffer each) fit easily. */
#define REACH_CHUNK 512

struct reach_reply {
	struct nr_nl_reach *out;
	uint8_t family;
	uint8_t type;
	bool seen;
};

static void reach_addr(const struct nlattr *attr, uint8_t family, struct nr_addr *a)
{
	size_t size = nr_addr_size(family);

	if (mnl_attr_get_payload_len(attr) != size)
		return;
	a->family = family;
	memcpy(a->bytes, mnl_attr_get_payload(attr), size);
}

static int reach_attr_cb(const struct nlattr *attr, void *data)
{
	struct reach_reply *rr = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_GATEWAY:
		reach_addr(attr, rr->family, &rr->out->gw);
		break;
	case RTA_PREFSRC:
		reach_addr(attr, rr->family, &rr->out->src);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			rr->out->ifindex = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int reach_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reach_reply *rr = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || rr->seen ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return MNL_CB_OK;
	rr->seen = true;
	rr->type = rtm->rtm_type;
	return mnl_attr_parse(nlh, sizeof(*rtm), reach_attr_cb, rr) < 0 ? MNL_CB_ERROR
									: MNL_CB_OK;
}

static struct nlmsghdr *reach_request(void *buf, const struct nr_addr *ip)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm->rtm_family = ip->family;
	rtm->rtm_dst_len = nr_addr_bits(ip->family);
	mnl_attr_put(nlh, RTA_DST, nr_addr_size(ip->family), ip->bytes);
	return nlh;
}

/* RTN_LOCAL: our own address. Anything but unicast (the kernel answers
 * blackhole/unreachable lookups with an error already) is unreachable. */
static int reach_classify(const struct reach_reply *rr, const char *what,
			  struct nr_err *err)
{
	if (!rr->seen)
		return nr_nl_err_set(err, -ENETUNREACH, what, "no answer to the route lookup");
	if (rr->type == RTN_LOCAL) {
		rr->out->kind = NR_NL_REACH_LOCAL;
		return 0;
	}
	if (rr->type != RTN_UNICAST)
		return nr_nl_err_set(err, -ENETUNREACH, what, NULL);
	rr->out->kind = rr->out->gw.family ? NR_NL_REACH_GATEWAY : NR_NL_REACH_DIRECT;
	return 0;
}

int nr_nl_reach(struct nr_nl *nl, const struct nr_addr *ip,
		struct nr_nl_reach *out, struct nr_err *err)
{
	struct reach_reply rr = { .out = out, .family = ip->family };
	char buf[NR_NL_MSG_MAX], addr[NR_ADDR_STRLEN], what[NR_ADDR_STRLEN + 8];
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "node %s", nr_addr_str(ip, addr, sizeof(addr)));
	if (!nr_addr_size(ip->family))
		return nr_err_set(err, -EAFNOSUPPORT, "reachability: address family %u",
				  ip->family);
	r = nr_nl_request(nl, reach_request(buf, ip), reach_reply_cb, &rr, what, err);
	if (r < 0)
		return r;
	return reach_classify(&rr, what, err);
}

/* ---- pipelined ------------------------------------------------------------ */


static void reach_many_answer(struct nr_nl_reach_async *m, const struct nlmsghdr *nlh)
{
	size_t i = nlh->nlmsg_seq - m->base_seq; /* u32 wrap-safe */
	struct reach_reply rr;
	const char *kmsg;

	if (i >= m->ready || m->rc[i] != 1)
		return; /* not one of ours, or answered already */
	rr = (struct reach_reply){ .out = &m->out[i], .family = m->ips[i].family };
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		int code = nr_nl_ack_parse(nlh, &kmsg);

		m->rc[i] = code < 0 ? code : -ENETUNREACH;
	} else if (nlh->nlmsg_type == RTM_NEWROUTE) {
		struct nr_err e;

		reach_reply_cb(nlh, &rr);
		m->rc[i] = reach_classify(&rr, NULL, &e);
	} else {
		return;
	}
	m->inflight--;
}

static int reach_many_read(struct nr_nl_reach_async *m)
{
	char buf[NR_NL_RECV_SIZE];

	while (m->inflight) {
		int n = nr_nl_recv(m->nl, buf, sizeof(buf), NR_NL_TIMEOUT_MS);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (n < 0)
			return n;
		for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
			reach_many_answer(m, nlh);
	}
	return 0;
}

int nr_nl_reach_many(struct nr_nl *nl, const struct nr_addr *ips, size_t n,
		     struct nr_nl_reach *out, int *rc, struct nr_err *err)
{
	struct nr_nl_reach_async m = { .nl = nl, .ips = ips, .out = out, .rc = rc, .n = n, .ready = n };
	char buf[REACH_CHUNK * 64];
	int r = 0;

	if (!n)
		return 0;
	m.base_seq = nr_nl_next_seq(nl);
	nl->seq = m.base_seq + (uint32_t)(n - 1); /* one seq per address */
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		rc[i] = nr_addr_size(ips[i].family) ? 1 : -EAFNOSUPPORT;
	}
	for (size_t from = 0; from < n && r == 0; from += REACH_CHUNK) {
		size_t to = from + REACH_CHUNK < n ? from + REACH_CHUNK : n, len = 0;

		for (size_t i = from; i < to; i++) {
			struct nlmsghdr *nlh;

			if (rc[i] != 1)
				continue;
			nlh = reach_request(buf + len, &ips[i]);
			nlh->nlmsg_seq = m.base_seq + (uint32_t)i;
			len += NLMSG_ALIGN(nlh->nlmsg_len);
			m.inflight++;
		}
		if (len)
			r = nr_nl_send(nl, buf, len);
		if (r == 0)
			r = reach_many_read(&m);
	}
	for (size_t i = 0; i < n; i++)
		if (rc[i] == 1)
			rc[i] = -EIO;
	if (r < 0)
		return nr_err_set(err, r, "route lookups: %s (%s)", nr_strerror(r), nr_err_name(r));
	return 0;
}

/* ---- pipelined, driven by the caller's loop ------------------------------- */

/* Lookups per sendmsg: the kernel answers them inside the call, ~2 us
 * each, so a slice stays well below the loop's time budget. */
#define REACH_SLICE 32
/* Receive-buffer cost of one answer (skb truesize); answers in flight are
 * capped so they always fit: a dropped answer would stay unknown. */
#define ANSWER_COST 2048

void nr_nl_reach_begin_open(struct nr_nl_reach_async *a, struct nr_nl *nl, const struct nr_addr *ips,
			    size_t n, struct nr_nl_reach *out, int *rc)
{
	*a = (struct nr_nl_reach_async){ .nl = nl, .ips = ips, .out = out, .rc = rc, .n = n };
	if (!n)
		return;
	a->base_seq = nr_nl_next_seq(nl);
	nl->seq = a->base_seq + (uint32_t)(n - 1); /* one seq per address */
}

void nr_nl_reach_ready(struct nr_nl_reach_async *a, size_t ready, bool complete)
{
	if (ready > a->n)
		ready = a->n;
	for (size_t i = a->ready; i < ready; i++) {
		memset(&a->out[i], 0, sizeof(a->out[i]));
		a->rc[i] = nr_addr_size(a->ips[i].family) ? 1 : -EAFNOSUPPORT;
	}
	a->ready = ready;
	a->complete = complete;
}

void nr_nl_reach_begin(struct nr_nl_reach_async *a, struct nr_nl *nl, const struct nr_addr *ips,
		       size_t n, struct nr_nl_reach *out, int *rc)
{
	nr_nl_reach_begin_open(a, nl, ips, n, out, rc);
	nr_nl_reach_ready(a, n, true);
}

static void pump_answer(const struct nlmsghdr *nlh, void *data)
{
	reach_many_answer(data, nlh);
}

/* The answers already queued (nr_nl_read_queued: bounded, so the caller's
 * budget is checked between two calls). */
static int pump_read(struct nr_nl_reach_async *a)
{
	return nr_nl_read_queued(a->nl, &a->inflight, pump_answer, a);
}

static int pump_send(struct nr_nl_reach_async *a)
{
	char buf[REACH_SLICE * 64];
	size_t len = 0, k = 0, i = a->next;
	int r;

	for (; i < a->ready && k < REACH_SLICE; i++) {
		struct nlmsghdr *nlh;

		if (a->rc[i] != 1)
			continue;
		nlh = reach_request(buf + len, &a->ips[i]);
		nlh->nlmsg_seq = a->base_seq + (uint32_t)i;
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		k++;
	}
	if (len && (r = nr_nl_send(a->nl, buf, len)) < 0)
		return r;
	a->next = i;
	a->inflight += k;
	return 0;
}

static void size_inflight(struct nr_nl_reach_async *a)
{
	int rcvbuf;

	if (a->max_inflight) /* here, not at begin: begin is bookkeeping only */
		return;
	rcvbuf = nr_nl_rcvbuf(a->nl);
	a->max_inflight = rcvbuf > 0 ? (size_t)rcvbuf / ANSWER_COST : 0;
	if (a->max_inflight < REACH_SLICE)
		a->max_inflight = REACH_SLICE;
}

int nr_nl_reach_pump(struct nr_nl_reach_async *a, uint64_t budget_ns)
{
	uint64_t t0 = nr_mono_ns();
	int r;

	size_inflight(a);
	for (;;) {
		if ((r = pump_read(a)) < 0)
			return r;
		if (a->next == a->ready) {
			if (a->inflight)
				return NR_NL_REACH_WAIT;
			return a->complete ? 0 : NR_NL_REACH_MORE;
		}
		if (a->inflight + REACH_SLICE > a->max_inflight)
			return NR_NL_REACH_WAIT; /* their answers must fit first */
		if (nr_mono_ns() - t0 >= budget_ns)
			return NR_NL_REACH_MORE;
		if ((r = pump_send(a)) < 0)
			return r;
	}
}

int nr_nl_reach_run(struct nr_nl_reach_async *a)
{
	int r;

	if (!a->complete)
		return -EINVAL;
	size_inflight(a);
	for (;;) {
		if ((r = pump_read(a)) < 0)
			return r;
		if (a->next == a->ready && !a->inflight)
			return 0;
		if (a->next == a->ready || a->inflight + REACH_SLICE > a->max_inflight) {
			if ((r = nr_nl_wait_readable(a->nl, NR_NL_TIMEOUT_MS)) < 0)
				return r;
			continue;
		}
		if ((r = pump_send(a)) < 0)
			return r;
		nr_worker_yield_now(); /* why: nr_nl_batch_send_claimed (nl_batch.c) */
	}
}

void nr_nl_reach_end(struct nr_nl_reach_async *a)
{
	for (size_t i = 0; i < a->ready; i++)
		if (a->rc[i] == 1)
			a->rc[i] = -EIO;
	a->inflight = 0;
}
