#include "ipc/rpc_sockfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int make_parent_dirs(const char *path, struct nr_err *err)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return nr_err_set(err, -errno, "%s: cannot create directory: %s", buf,
					  strerror(errno));
		*p = '/';
	}
	return 0;
}

/* A socket file left by a daemon that died is replaced; one that somebody
 * still accepts on is not ours to take. */
static int clear_stale_socket(const char *path, struct nr_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : nr_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return nr_err_set(err, -EEXIST, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nr_err_set(err, -errno, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, path, strlen(path));
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0)
		return nr_err_set(err, -EADDRINUSE, "%s: another daemon is listening there", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return nr_err_set(err, -errno, "%s: cannot remove stale socket: %s", path,
				  strerror(errno));
	return 0;
}

int nr_rpc_sockfile_prepare(const char *path, struct nr_err *err)
{
	int rc = make_parent_dirs(path, err);

	return rc < 0 ? rc : clear_stale_socket(path, err);
}
