/* One synchronous request/response exchange on a command socket: a single
 * request with its ACK (or reply + ACK), or a dump until NLMSG_DONE. Batches
 * of many requests are nl_batch's job. */
#ifndef NR_NETLINK_NL_REQUEST_H
#define NR_NETLINK_NL_REQUEST_H

#include "netlink/nl_socket.h"

/* Called for each reply message (not NLMSG_ERROR/DONE/NOOP). Return
 * MNL_CB_OK to go on, MNL_CB_ERROR (errno set) to fail the request. The
 * remaining replies are still read and dropped, so the socket stays in
 * step for the next request. */
typedef int (*nr_nl_reply_cb)(const struct nlmsghdr *nlh, void *data);

/* Send `nlh` (its seq is assigned here; NLM_F_ACK is added unless it is a
 * dump) and read replies until the ACK or NLMSG_DONE. `cb` may be NULL.
 * Returns 0 or -errno; on failure err reads "<what>: <kernel text or
 * strerror> (ENAME)". A dump the kernel marks interrupted (the table
 * changed while it ran) returns -EINTR: dump again. */
int nr_nl_request(struct nr_nl *nl, struct nlmsghdr *nlh, nr_nl_reply_cb cb,
		  void *data, const char *what, struct nr_err *err);

/* Format the standard failure text "<what>: <text> (ENAME)" into err, where
 * text is the kernel's extended-ACK message when there is one. Returns code. */
int nr_nl_err_set(struct nr_err *err, int code, const char *what,
		  const char *kernel_msg);

#endif
