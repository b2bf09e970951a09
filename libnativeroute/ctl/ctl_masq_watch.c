/* nftables events: someone touching our table is noticed at once, not at
 * the next periodic resync. A netlink socket of the controller's namespace
 * listens to NFNLGRP_NFTABLES; any message about a table, chain, rule, set
 * or element of "inet nativeroute" (every one of them names its table in
 * attribute 1) asks for a look at the kernel (ctl_masq.c), debounced. Our
 * own changes echo back too: the look then finds the table as planned and
 * changes nothing. An overflow means events were lost: look as well. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* first: glibc's netinet/in.h (through uv.h) must precede linux/in.h */
#include "ctl/ctl_masq.h"
#include "nft/masq_plan.h"
#include "nft/nft_run.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#define NR_MASQ_WATCH_RCVBUF (4 * 1024 * 1024)

struct nr_masq_watch {
	uv_poll_t poll;       /* data: the controller */
	void (*changed)(struct nr_ctl *ctl); /* our table may have changed */
	int fd;
	struct mnl_socket *sock;
	int error;            /* of the opening thread */
	char table[NR_MASQ_TABLE_NAME_MAX]; /* ours */
	bool started;         /* the poll handle is initialised (and not closing) */
};

static void open_in_netns(void *arg)
{
	struct nr_masq_watch *w = arg;
	int size = NR_MASQ_WATCH_RCVBUF;

	w->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->sock) {
		w->error = -errno;
		return;
	}
	if (setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_bind(w->sock, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
		w->error = -errno;
		mnl_socket_close(w->sock);
		w->sock = NULL;
	}
}

/* Whether the message is about our table. */
static bool about_us(const struct nr_masq_watch *w, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *nfg;
	const struct nlattr *a;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*nfg)))
		return false;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != NFPROTO_INET)
		return false;
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		if (mnl_attr_get_type(a) == 1 /* NFTA_{TABLE_NAME,CHAIN_TABLE,RULE_TABLE,...} */)
			return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
			       !strcmp(mnl_attr_get_str(a), w->table);
	}
	return false;
}

static void watch_cb(uv_poll_t *h, int status, int events)
{
	struct nr_masq_watch *w = (struct nr_masq_watch *)h; /* poll is the first member */
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool ours = status < 0;

	(void)events;
	for (;;) {
		ssize_t got = recv(w->fd, buf, sizeof(buf), 0);
		int len = (int)got;

		if (got < 0) {
			if (errno == ENOBUFS) /* lost some: they may have been about us */
				ours = true;
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			break; /* EAGAIN: drained */
		}
		for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		     !ours && mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			ours = about_us(w, nlh);
	}
	if (ours)
		w->changed(h->data);
}

int nr_masq_watch_open(int netns_fd, const char *table, struct nr_masq_watch **ret,
		       struct nr_err *err)
{
	struct nr_masq_watch *w = calloc(1, sizeof(*w));
	int rc;

	*ret = NULL;
	if (!w)
		return nr_err_set(err, -ENOMEM, "out of memory");
	snprintf(w->table, sizeof(w->table), "%s", table);
	rc = nr_nft_in_netns(netns_fd, open_in_netns, w, err);
	if (rc == 0 && w->error < 0)
		rc = nr_err_set(err, w->error, "nftables events: %s", strerror(-w->error));
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->fd = mnl_socket_get_fd(w->sock);
	*ret = w;
	return 0;
}

int nr_masq_watch_start(struct nr_masq_watch *w, uv_loop_t *loop, struct nr_ctl *ctl,
			void (*changed)(struct nr_ctl *ctl))
{
	if (!w || uv_poll_init(loop, &w->poll, w->fd) < 0)
		return 0;
	w->poll.data = ctl;
	w->changed = changed;
	uv_poll_start(&w->poll, UV_READABLE, watch_cb);
	w->started = true;
	return 1;
}

void nr_masq_watch_stop(struct nr_masq_watch *w)
{
	if (w && w->started)
		uv_poll_stop(&w->poll);
}

int nr_masq_watch_close(struct nr_masq_watch *w, uv_close_cb cb)
{
	if (!w || !w->started)
		return 0;
	uv_close((uv_handle_t *)&w->poll, cb);
	w->started = false;
	return 1;
}

void nr_masq_watch_free(struct nr_masq_watch *w)
{
	if (!w)
		return;
	mnl_socket_close(w->sock);
	free(w);
}
