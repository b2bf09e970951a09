/* nr_nft_in_netns: run a function inside a network namespace.
 *
 * A thread already in it (the controller manages its own namespace, no
 * netns named) runs the function in place: entering a namespace (setns)
 * needs CAP_SYS_ADMIN, which nftables itself does not (CAP_NET_ADMIN is
 * enough), and a CNI plugin or a container often runs without it.
 * Otherwise a short-lived thread enters the namespace. setns() moves only
 * the calling thread; a thread made for the purpose can end inside the
 * namespace, so no thread ever has to find its way back (a pool thread left
 * in the wrong namespace would be a silent disaster for whatever runs on it
 * next). */
#include "nft/nft_run.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>

struct ns_call {
	int netns_fd;
	void (*fn)(void *arg);
	void *arg;
	int error;
};

/* Is the calling thread in the namespace of netns_fd? Same device and
 * inode of the nsfs object: the same namespace. When either cannot be
 * read, say no (the thread then enters it, as before). */
static bool already_inside(int netns_fd)
{
	struct stat want, here;

	return fstat(netns_fd, &want) == 0 && stat("/proc/thread-self/ns/net", &here) == 0 &&
	       want.st_dev == here.st_dev && want.st_ino == here.st_ino;
}

static void *ns_thread(void *p)
{
	struct ns_call *c = p;

	if (setns(c->netns_fd, CLONE_NEWNET) < 0) {
		c->error = -errno;
		return NULL;
	}
	c->fn(c->arg);
	return NULL;
}

int nr_nft_in_netns(int netns_fd, void (*fn)(void *arg), void *arg, struct nr_err *err)
{
	struct ns_call c = { .netns_fd = netns_fd, .fn = fn, .arg = arg };
	pthread_t t;
	int rc;

	if (already_inside(netns_fd)) {
		fn(arg);
		return 0;
	}
	rc = pthread_create(&t, NULL, ns_thread, &c);
	if (rc != 0)
		return nr_err_set(err, -rc, "nftables: cannot start a thread: %s", strerror(rc));
	pthread_join(t, NULL);
	if (c.error < 0)
		return nr_err_set(err, c.error, "nftables: cannot enter the network namespace: %s",
				  strerror(-c.error));
	return 0;
}
