#include "bpf/bpf_qdisc.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/bpf_maps.h"

int nr_bpf_qdisc_ensure(int rec_fd, uint32_t ifindex, struct nr_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	struct nr_bpf_qdisc_val v = { { 0 } };
	int rc;

	if (!if_indextoname(ifindex, v.ifname))
		return nr_err_set(err, -ENODEV, "bpf: no link #%u", ifindex);
	rc = bpf_tc_hook_create(&hook); /* exclusive: EEXIST when one is there */
	if (rc == -EEXIST)
		return 0; /* someone else's, or ours from before (then recorded) */
	if (rc < 0)
		return nr_err_set(err, rc, "bpf: clsact on %s: %s", v.ifname, strerror(-rc));
	if (rec_fd < 0)
		return 0;
	rc = bpf_map_update_elem(rec_fd, &ifindex, &v, BPF_ANY);
	if (rc < 0) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS; /* the qdisc itself */
		bpf_tc_hook_destroy(&hook);
		return nr_err_set(err, rc, "bpf: recording the clsact made on %s: %s", v.ifname,
				  strerror(-rc));
	}
	return 0;
}

/* ---- how many filters a device's clsact holds ------------------------------ */

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(int *)data)++;
	return MNL_CB_OK;
}

static int dump_count(struct mnl_socket *nl, uint32_t ifindex, uint32_t parent, int *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = (unsigned int)ifindex ^ parent, portid = mnl_socket_get_portid(nl);
	struct tcmsg *t;
	ssize_t len;
	int rc;

	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = (int)ifindex;
	t->tcm_parent = parent;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		rc = mnl_cb_run(buf, (size_t)len, seq, portid, count_cb, n);
		if (rc < 0)
			return -errno;
	} while (rc == MNL_CB_OK);
	return 0;
}

/* Filters on the ingress and egress hooks of ifindex (0 when there is no
 * clsact at all). */
static int filters_on(uint32_t ifindex, int *n)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	struct timeval tv = { .tv_sec = 2 }; /* the kernel answers at once; never hang */
	int rc = 0;

	*n = 0;
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		rc = -errno;
	if (rc == 0)
		rc = dump_count(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), n);
	if (rc == 0)
		rc = dump_count(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), n);
	mnl_socket_close(nl);
	return rc == -ENOENT || rc == -EINVAL ? 0 : rc; /* no clsact: no filter */
}

/* ---- release --------------------------------------------------------------- */

int nr_bpf_qdisc_release(int rec_fd, uint32_t ifindex, struct nr_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct nr_bpf_qdisc_val v;
	char now[IF_NAMESIZE];
	int n, rc;

	if (rec_fd < 0 || bpf_map_lookup_elem(rec_fd, &ifindex, &v) < 0)
		return 0; /* not made by us: never ours to remove */
	v.ifname[sizeof(v.ifname) - 1] = 0;
	if (!if_indextoname(ifindex, now) || strcmp(now, v.ifname)) {
		/* gone (it took its qdisc along), or the index names another
		 * device now: nothing of ours is left there */
		bpf_map_delete_elem(rec_fd, &ifindex);
		return 0;
	}
	rc = filters_on(ifindex, &n);
	if (rc < 0)
		return nr_err_set(err, rc, "bpf: listing the tc filters of %s: %s", now, strerror(-rc));
	if (n > 0)
		return 0; /* someone else's filter uses it: kept (and still ours) */
	rc = bpf_tc_hook_destroy(&hook);
	if (rc < 0 && rc != -ENOENT && rc != -EINVAL && rc != -ENODEV)
		return nr_err_set(err, rc, "bpf: removing the clsact we made on %s: %s", now,
				  strerror(-rc));
	bpf_map_delete_elem(rec_fd, &ifindex);
	return 0;
}

int nr_bpf_qdisc_release_all(int rec_fd, struct nr_err *err)
{
	uint32_t *keys = NULL, key, *prev = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (rec_fd < 0)
		return 0;
	/* keys first: deleting while walking a hash map may skip some */
	while (bpf_map_get_next_key(rec_fd, prev, &key) == 0) {
		if (n == cap) {
			uint32_t *grown = realloc(keys, (cap = cap ? cap * 2 : 64) * sizeof(*keys));

			if (!grown) {
				free(keys);
				return nr_err_set(err, -ENOMEM, "bpf: out of memory");
			}
			keys = grown;
		}
		keys[n++] = key;
		prev = &keys[n - 1];
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = nr_bpf_qdisc_release(rec_fd, keys[i], err);
	free(keys);
	return rc;
}

int nr_bpf_qdisc_record_get(const char *instance)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/nativeroute/%s/%s", NR_BPF_FS, instance, NR_BPF_MAP_QDISCS);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}
