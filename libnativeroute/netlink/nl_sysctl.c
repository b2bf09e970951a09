#include "netlink/nl_sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink/nl_netns.h"

struct sysctl_io {
	char path[PATH_MAX];
	const char *value; /* write */
	char *buf;         /* read */
	size_t len;
	int error;         /* what the file operation itself returned */
};

static int sysctl_write_in_ns(void *arg)
{
	struct sysctl_io *io = arg;
	size_t len = strlen(io->value);
	int fd = open(io->path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return io->error = -errno;
	n = write(fd, io->value, len);
	if (n < 0)
		n = -errno;
	close(fd);
	io->error = n < 0 ? (int)n : ((size_t)n == len ? 0 : -EIO);
	return io->error;
}

static int sysctl_read_in_ns(void *arg)
{
	struct sysctl_io *io = arg;
	int fd = open(io->path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return io->error = -errno;
	n = read(fd, io->buf, io->len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return io->error = (int)n;
	io->buf[n] = '\0';
	io->buf[strcspn(io->buf, "\n")] = '\0';
	return 0;
}

static int sysctl_path(struct sysctl_io *io, const char *path, struct nr_err *err)
{
	/* No "..": the path must stay under /proc/sys. */
	if (strstr(path, "..") || path[0] == '/')
		return nr_err_set(err, -EINVAL, "sysctl %s: invalid path", path);
	snprintf(io->path, sizeof(io->path), "/proc/sys/%s", path);
	return 0;
}

int nr_nl_sysctl_write(const char *netns, const char *path, const char *value,
		       struct nr_err *err)
{
	struct sysctl_io io = { .value = value };
	int r = sysctl_path(&io, path, err);

	if (r < 0)
		return r;
	r = nr_nl_netns_run(netns, sysctl_write_in_ns, &io, err);
	if (io.error)
		nr_err_set(err, r, "sysctl %s = %s in netns %s: %s", path, value,
			   netns ? netns : "(current)", strerror(-r));
	return r;
}

int nr_nl_sysctl_read(const char *netns, const char *path, char *buf, size_t len,
		      struct nr_err *err)
{
	struct sysctl_io io = { .buf = buf, .len = len };
	int r = sysctl_path(&io, path, err);

	if (r < 0)
		return r;
	if (len < 2)
		return nr_err_set(err, -EINVAL, "sysctl %s: buffer too small", path);
	r = nr_nl_netns_run(netns, sysctl_read_in_ns, &io, err);
	if (io.error)
		nr_err_set(err, r, "sysctl %s in netns %s: %s", path,
			   netns ? netns : "(current)", strerror(-r));
	return r;
}

int nr_nl_sysctl_forwarding(const char *netns, int family, struct nr_err *err)
{
	if (family == AF_INET)
		return nr_nl_sysctl_write(netns, "net/ipv4/ip_forward", "1", err);
	if (family == AF_INET6)
		return nr_nl_sysctl_write(netns, "net/ipv6/conf/all/forwarding", "1", err);
	return nr_err_set(err, -EAFNOSUPPORT, "forwarding: address family %d", family);
}

static int sysctl_per_link(const char *netns, const char *fmt, const char *ifname,
			   bool on, struct nr_err *err)
{
	char path[128];

	/* A name with '/' or ".." would escape the per-link directory. */
	if (!*ifname || strchr(ifname, '/') || !strcmp(ifname, ".") ||
	    !strcmp(ifname, "..") || strlen(ifname) >= 16)
		return nr_err_set(err, -EINVAL, "sysctl: invalid link name \"%s\"", ifname);
	snprintf(path, sizeof(path), fmt, ifname);
	return nr_nl_sysctl_write(netns, path, on ? "1" : "0", err);
}

int nr_nl_sysctl_proxy_arp(const char *netns, const char *ifname, bool on,
			   struct nr_err *err)
{
	return sysctl_per_link(netns, "net/ipv4/conf/%s/proxy_arp", ifname, on, err);
}

int nr_nl_sysctl_proxy_ndp(const char *netns, const char *ifname, bool on,
			   struct nr_err *err)
{
	return sysctl_per_link(netns, "net/ipv6/conf/%s/proxy_ndp", ifname, on, err);
}
