/* nr_nft_in_netns: a short-lived thread that enters a network namespace.
 * setns() moves only the calling thread; a thread made for the purpose can
 * end inside the namespace, so no thread ever has to find its way back (a
 * pool thread left in the wrong namespace would be a silent disaster for
 * whatever runs on it next). */
#include "nft/nft_run.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

struct ns_call {
	int netns_fd;
	void (*fn)(void *arg);
	void *arg;
	int error;
};

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
	int rc = pthread_create(&t, NULL, ns_thread, &c);

	if (rc != 0)
		return nr_err_set(err, -rc, "nftables: cannot start a thread: %s", strerror(rc));
	pthread_join(t, NULL);
	if (c.error < 0)
		return nr_err_set(err, c.error, "nftables: cannot enter the network namespace: %s",
				  strerror(-c.error));
	return 0;
}
