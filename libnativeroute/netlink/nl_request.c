#include "netlink/nl_request.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "nativeroute/error.h"
#include "netlink/nl_ack.h"

struct request_state {
	uint32_t seq;
	nr_nl_reply_cb cb;
	void *data;
	bool done;
	bool single_reply;     /* a plain GET: its one answer ends it, no ACK */
	bool interrupted;
	int error;             /* first error seen */
	char kmsg[NR_ERR_MSG_MAX]; /* kernel's extended-ACK text for it */
};

static void request_fail(struct request_state *st, int code, const char *kmsg)
{
	if (st->error)
		return;
	st->error = code;
	if (kmsg)
		snprintf(st->kmsg, sizeof(st->kmsg), "%s", kmsg);
}

/* NLMSG_DONE carries the dump's result as an int, like an error code. */
static void request_done(struct request_state *st, const struct nlmsghdr *nlh)
{
	st->done = true;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int code = *(const int *)mnl_nlmsg_get_payload(nlh);

		if (code < 0)
			request_fail(st, code, NULL);
	}
}

static void request_handle(struct request_state *st, const struct nlmsghdr *nlh)
{
	const char *kmsg;
	int code;

	if (nlh->nlmsg_seq != st->seq)
		return; /* late reply to an earlier, abandoned request */
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		st->interrupted = true;
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		st->done = true;
		code = nr_nl_ack_parse(nlh, &kmsg);
		if (code < 0)
			request_fail(st, code, kmsg);
		return;
	case NLMSG_DONE:
		request_done(st, nlh);
		return;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;
	if (st->single_reply)
		st->done = true;
	if (!st->cb || st->error)
		return;
	if (st->cb(nlh, st->data) == MNL_CB_ERROR)
		request_fail(st, errno ? -errno : -EINVAL, NULL);
}

static int request_read(struct nr_nl *nl, struct request_state *st)
{
	char buf[NR_NL_RECV_SIZE];

	while (!st->done) {
		int n = nr_nl_recv(nl, buf, sizeof(buf), NR_NL_TIMEOUT_MS);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (n < 0)
			return n;
		for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
			request_handle(st, nlh);
	}
	return 0;
}

/* rtnetlink GET types are base + 4n + 2. */
static bool request_is_get(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type >= RTM_BASE && ((nlh->nlmsg_type - RTM_BASE) & 3) == 2;
}

/* NLM_F_DUMP's two bits double as NLM_F_REPLACE|NLM_F_EXCL on NEW
 * requests, so the flags alone do not tell: only a GET with both bits is a
 * dump. */
static bool request_is_dump(const struct nlmsghdr *nlh)
{
	return request_is_get(nlh) && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
}

int nr_nl_err_set(struct nr_err *err, int code, const char *what,
		  const char *kernel_msg)
{
	return nr_err_set(err, code, "%s: %s (%s)", what ? what : "netlink",
			  kernel_msg && *kernel_msg ? kernel_msg : nr_strerror(code),
			  nr_err_name(code));
}

int nr_nl_request(struct nr_nl *nl, struct nlmsghdr *nlh, nr_nl_reply_cb cb,
		  void *data, const char *what, struct nr_err *err)
{
	struct request_state st = { .cb = cb, .data = data };
	int r;

	if (nl->batch_out)
		return nr_err_set(err, -EBUSY, "%s: this netlink socket has a batch in flight (a request "
				  "would read its answers): use another socket", what ? what : "netlink");
	st.seq = nlh->nlmsg_seq = nr_nl_next_seq(nl);
	/* A plain GET is answered by one message (or an error): asking for an
	 * ACK as well would cost a second receive per lookup, which adds up to
	 * 10,000 extra syscalls when every node's reachability is asked. */
	st.single_reply = request_is_get(nlh) && !request_is_dump(nlh);
	if (!request_is_dump(nlh) && !st.single_reply)
		nlh->nlmsg_flags |= NLM_F_ACK;
	r = nr_nl_send(nl, nlh, nlh->nlmsg_len);
	if (r == 0)
		r = request_read(nl, &st);
	if (r == 0 && st.error)
		r = st.error;
	else if (r == 0 && st.interrupted)
		r = -EINTR;
	if (r < 0)
		return nr_nl_err_set(err, r, what, st.kmsg);
	return 0;
}
