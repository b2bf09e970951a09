#include "ctl/ctl_lock.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netlink/nl_netns.h"

struct nr_ctl_lock {
	int fd;
};

struct take {
	struct sockaddr_un sa;
	socklen_t salen;
	int fd;       /* the bound socket, on success */
	pid_t holder; /* when the name is taken: who has it, 0 = unknown */
};

/* Who listens on the name: connect (without waiting) and ask the kernel. */
static pid_t holder_pid(const struct take *t)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	pid_t pid = 0;

	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)&t->sa, t->salen) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		pid = cred.pid;
	close(fd);
	return pid;
}

/* Runs inside the namespace: the socket belongs to the namespace it is
 * created in, and so does its abstract name. */
static int take_in_netns(void *arg)
{
	struct take *t = arg;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)&t->sa, t->salen) < 0) {
		int e = errno;

		close(fd);
		if (e == EADDRINUSE)
			t->holder = holder_pid(t);
		return -e;
	}
	/* Listening only so that a refused controller can name our pid; we
	 * never accept, and a full backlog merely loses the pid. */
	listen(fd, 4);
	t->fd = fd;
	return 0;
}

int nr_ctl_lock_take(const char *netns, uint32_t table, uint8_t protocol,
		     struct nr_ctl_lock **ret, struct nr_err *err)
{
	struct take t = { .sa = { .sun_family = AF_UNIX }, .fd = -1 };
	struct nr_ctl_lock *lock;
	int n, rc;

	/* sun_path[0] = '\0': the abstract namespace. */
	n = snprintf(t.sa.sun_path + 1, sizeof(t.sa.sun_path) - 1,
		     "nativeroute/ctl/table/%u/protocol/%u", table, protocol);
	t.salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	rc = nr_nl_netns_run(netns, take_in_netns, &t, err);
	if (rc == -EADDRINUSE) {
		char who[32] = "";

		if (t.holder > 0)
			snprintf(who, sizeof(who), " (pid %d)", (int)t.holder);
		return nr_err_set(err, -EBUSY,
				  "another controller%s already manages route table %u with route "
				  "protocol %u in %s%s: two would undo each other's routes; stop it "
				  "first (or give each its own table or protocol)",
				  who, table, protocol, netns ? "network namespace " : "this network namespace",
				  netns ? netns : "");
	}
	if (rc < 0) {
		if (!err || !err->msg[0])
			nr_err_set(err, rc, "controller lock: %s", strerror(-rc));
		return rc;
	}
	lock = malloc(sizeof(*lock));
	if (!lock) {
		close(t.fd);
		return nr_err_set(err, -ENOMEM, "out of memory");
	}
	lock->fd = t.fd;
	*ret = lock;
	return 0;
}

void nr_ctl_lock_release(struct nr_ctl_lock *lock)
{
	if (!lock)
		return;
	close(lock->fd);
	free(lock);
}
