#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_trust.h"

static bool owner_ok(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

static int check_mode(const struct stat *st, const char *path, const char *what,
		      struct nr_err *err)
{
	if (!owner_ok(st->st_uid))
		return nr_err_set(err, -EPERM,
				  "%s: %s owned by uid %u, not by this controller's uid %u (or root): "
				  "refusing to trust it", path, what, (unsigned int)st->st_uid,
				  (unsigned int)geteuid());
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return nr_err_set(err, -EPERM, "%s: %s writable by %s (mode %04o): refusing to trust it; "
				  "chmod go-w it", path, what,
				  (st->st_mode & S_IWOTH) ? "everyone" : "its group",
				  (unsigned int)(st->st_mode & 07777));
	return 0;
}

/* Each directory above: whoever may write there may replace our directory
 * (unless the sticky bit restricts renames to the owner). */
static int check_ancestors(const char *dir, struct nr_err *err)
{
	char path[PATH_MAX];
	struct stat st;

	if (!realpath(dir, path))
		return nr_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	for (;;) {
		char *slash = strrchr(path, '/');

		if (!slash)
			return 0;
		if (slash == path)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(path, &st) < 0)
			return nr_err_set(err, -errno, "%s: %s", path, strerror(errno));
		if (!owner_ok(st.st_uid) ||
		    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
			return nr_err_set(err, -EPERM,
					  "state directory %s: its parent %s is owned by uid %u with "
					  "mode %04o: another user could replace the state directory",
					  dir, path, (unsigned int)st.st_uid,
					  (unsigned int)(st.st_mode & 07777));
		if (!strcmp(path, "/"))
			return 0;
	}
}

int nr_store_trust_dir(int dir_fd, const char *dir, struct nr_err *err)
{
	struct stat st;
	int rc;

	if (fstat(dir_fd, &st) < 0)
		return nr_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	rc = check_mode(&st, dir, "state directory", err);
	return rc < 0 ? rc : check_ancestors(dir, err);
}

int nr_store_trust_file(int fd, const char *dir, const char *name, bool single_link,
			struct nr_err *err)
{
	char path[PATH_MAX + 64];
	struct stat st;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fstat(fd, &st) < 0)
		return nr_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return nr_err_set(err, -EPERM, "%s: not a regular file: refusing to use it", path);
	rc = check_mode(&st, path, "file", err);
	if (rc < 0)
		return rc;
	if (single_link && st.st_nlink != 1)
		return nr_err_set(err, -EPERM, "%s: has %lu names (a hard link to another file?): "
				  "refusing to use it; remove it", path, (unsigned long)st.st_nlink);
	return 0;
}

int nr_store_open_owned(int dir_fd, const char *dir, const char *name, struct nr_err *err)
{
	int fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	int rc;

	if (fd < 0)
		return nr_err_set(err, -errno, "%s/%s: %s%s", dir, name, strerror(errno),
				  errno == ELOOP ? " (a symlink: refusing to follow it)" : "");
	rc = nr_store_trust_file(fd, dir, name, true, err);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int nr_store_create_fresh(int dir_fd, const char *name)
{
	int fd;

	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}
