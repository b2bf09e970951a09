/* The real kernel behind the controller's seam (ctl_kernel.h): the netlink
 * functions themselves (and the eBPF purge), plus three adapters for the operations whose
 * libmnl/libnftables form takes no channel. */
#include "ctl/ctl_kernel.h"

#include <errno.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_netns.h"
#include "netlink/nl_sysctl.h"

static int real_open(void *ctx, const char *netns, unsigned int flags, struct nr_nl **ret,
		     struct nr_err *err)
{
	(void)ctx;
	return nr_nl_open(netns, flags, ret, err);
}

static int real_sysctl_forwarding(void *ctx, const char *netns, int family, bool on,
				  struct nr_err *err)
{
	const char *path = family == AF_INET6 ? "net/ipv6/conf/all/forwarding" : "net/ipv4/ip_forward";
	char was[16] = "";
	int rc;

	(void)ctx;
	if (family != AF_INET && family != AF_INET6)
		return nr_err_set(err, -EAFNOSUPPORT, "forwarding: address family %d", family);
	rc = nr_nl_sysctl_read(netns, path, was, sizeof(was), err);
	if (rc < 0)
		return rc;
	if (strcmp(was, on ? "1" : "0")) {
		rc = nr_nl_sysctl_write(netns, path, on ? "1" : "0", err);
		if (rc < 0)
			return rc;
	}
	return strcmp(was, "0") ? 1 : 0;
}

static void sync_in_netns(void *arg)
{
	nr_nft_sync_run(arg);
}

static void real_nft_sync(void *ctx, int netns_fd, struct nr_nft_sync *sync, struct nr_err *err)
{
	(void)ctx;
	nr_nft_in_netns(netns_fd, sync_in_netns, sync, err);
}

static int real_tc_run(void *ctx, int netns_fd, int (*fn)(void *arg), void *arg,
		       struct nr_err *err)
{
	(void)ctx;
	return nr_nl_netns_run_fd(netns_fd, fn, arg, err);
}

const struct nr_kernel_ops nr_kernel_netlink = {
	.open = real_open,
	.close = nr_nl_close,
	.fd = nr_nl_fd,
	.dump_kstate = nr_nl_dump_kstate,
	.dump_nexthops = nr_nl_dump_nexthops,
	.dump_nexthops_foreign = nr_nl_dump_nexthops_foreign,
	.dumper_new = nr_nl_dumper_new,
	.dumper_step = nr_nl_dumper_step,
	.dumper_run = nr_nl_dumper_run,
	.dumper_take = nr_nl_dumper_take,
	.dumper_free = nr_nl_dumper_free,
	.dumper_finish = nr_nl_dumper_finish,
	.nexthops_supported = nr_nl_nexthops_supported,
	.batch_begin = nr_nl_batch_begin,
	.batch_pump = nr_nl_batch_pump,
	.batch_commit = nr_nl_batch_commit,
	.batch_send = nr_nl_batch_send_claimed,
	.batch_read = nr_nl_batch_read_acks,
	.reach = nr_nl_reach,
	.reach_many = nr_nl_reach_many,
	.reach_pump = nr_nl_reach_pump,
	.reach_run = nr_nl_reach_run,
	.link_get = nr_nl_link_get,
	.link_index = nr_nl_link_index,
	.link_set_up = nr_nl_link_set_up,
	.link_delete = nr_nl_link_delete,
	.addr_add = nr_nl_addr_add,
	.addr_del = nr_nl_addr_del,
	.addr_present = nr_nl_addr_present,
	.addr_restore = nr_nl_addr_restore,
	.addr_find = nr_nl_addr_find,
	.vxlan_get = nr_nl_vxlan_get,
	.vxlan_ensure = nr_nl_vxlan_ensure,
	.event_read = nr_nl_event_read,
	.event_ignore_echoes = nr_nl_event_ignore_echoes,
	.sysctl_forwarding = real_sysctl_forwarding,
	.nft_sync = real_nft_sync,
	.bpf_purge = nr_ctl_bpf_purge,
	.tc_run = real_tc_run,
};
