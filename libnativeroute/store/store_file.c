/* The state directory on disk: lock, atomic snapshot writes, reads.
 *
 * A save is write(tmp) + fsync(tmp) + rename(tmp, state) + fsync(dir): after
 * a crash the name `state` refers to the complete old file or the complete
 * new one. The directory stays open (O_DIRECTORY) for the fsync and as the
 * base of every *at() call, so a rename of the path under us cannot make us
 * write elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/crc32c.h"
#include "store/store.h"
#include "store/store_trust.h"
#include "util/worker_yield.h"

struct nr_store {
	int dir_fd;
	int lock_fd;
	char *dir;
	char *path;      /* <dir>/state, for messages */
	/* what nr_store_open made, for nr_store_discard: the directories from
	 * the path prefix of this length on (0: none), the lock file */
	size_t made_len;
	bool lock_made, locked;
	uint64_t saves;
	/* what the state file holds, as far as we know (loaded or written):
	 * a save of the same bytes is skipped, so a restart that changed
	 * nothing writes nothing (and a full disk does not stop it) */
	bool disk_known;
	bool recreated;  /* the directory was deleted and made again (a save) */
	char *disk_text; /* those bytes: what a failed save rolls back to */
	size_t disk_len;
	uint32_t disk_crc, disk_fnv;
};

/* The work between two yield points of the loops below (they run on the
 * thread pool: util/worker_yield.h): tens of microseconds at most. A read
 * or write of the whole 5 MB of 100,000 nodes is milliseconds of copying
 * in one system call. */
#define PIECE 4096
#define READ_PIECE (256 * 1024)

static uint32_t fnv1a(const char *p, size_t len)
{
	uint32_t h = 2166136261u;

	while (len) {
		size_t k = len < PIECE ? len : PIECE;

		len -= k;
		while (k--)
			h = (h ^ (uint8_t)*p++) * 16777619u;
		nr_worker_yield_piece();
	}
	return h;
}

/* Two independent 32-bit sums and the length: a false "same" would lose a
 * save, so one checksum alone is not enough. */
static void remember_disk(struct nr_store *s, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	nr_worker_free(s->disk_text, s->disk_len);
	s->disk_text = copy;
	for (size_t off = 0; copy && off < len; off += READ_PIECE) {
		memcpy(copy + off, text + off, len - off < READ_PIECE ? len - off : READ_PIECE);
		nr_worker_yield_piece();
	}
	s->disk_known = true;
	s->disk_len = len;
	s->disk_crc = nr_crc32c(0, text, len);
	s->disk_fnv = fnv1a(text, len);
}

void nr_store_remember(struct nr_store *s, char *text, size_t len)
{
	nr_worker_free(s->disk_text, s->disk_len);
	s->disk_text = text;
	s->disk_known = true;
	s->disk_len = len;
	s->disk_crc = nr_crc32c(0, text, len);
	s->disk_fnv = fnv1a(text, len);
}

void nr_store_count_save(struct nr_store *s)
{
	s->saves++;
}

bool nr_store_unchanged(const struct nr_store *s, const char *text, size_t len)
{
	struct stat st;

	/* a deleted directory no longer holds what we wrote */
	if (fstat(s->dir_fd, &st) == 0 && st.st_nlink == 0)
		return false;
	return s->disk_known && s->disk_len == len && s->disk_crc == nr_crc32c(0, text, len) &&
	       s->disk_fnv == fnv1a(text, len);
}

/* Remove the directories mkdir_p made (those of dir down to its prefix of
 * made_len characters), deepest first; one that is not empty stays with
 * its parents (someone else's files). */
static void unmake_dirs(const char *dir, size_t made_len)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (!made_len || len >= sizeof(buf))
		return;
	memcpy(buf, dir, len + 1);
	while (len >= made_len && rmdir(buf) == 0) {
		while (len > 0 && buf[len - 1] == '/')
			len--; /* "a/b/" */
		while (len > 0 && buf[len - 1] != '/')
			len--;
		while (len > 1 && buf[len - 1] == '/')
			len--; /* "a//b" */
		buf[len] = '\0';
	}
}

/* *made_len: the length of the first path prefix this call created (0:
 * every level existed). On error, what it made is removed again. */
static int mkdir_p(const char *dir, size_t *made_len)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);
	int rc = 0;

	*made_len = 0;
	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p && rc == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == 0 && !*made_len)
			*made_len = (size_t)(p - buf);
		else if (errno != EEXIST)
			rc = -errno;
		*p = '/';
	}
	if (rc == 0 && mkdir(buf, 0700) == 0 && !*made_len)
		*made_len = len;
	else if (rc == 0 && errno != EEXIST)
		rc = -errno;
	if (rc < 0) {
		unmake_dirs(dir, *made_len);
		*made_len = 0;
	}
	return rc;
}

int nr_store_open(const char *dir, struct nr_store **ret, struct nr_err *err)
{
	struct nr_store *s;
	size_t made_len;
	int rc;

	if (!dir || !*dir)
		return nr_err_set(err, -EINVAL, "state directory: empty path");
	rc = mkdir_p(dir, &made_len);
	if (rc < 0)
		return nr_err_set(err, rc, "state directory %s: cannot create it: %s", dir, strerror(-rc));
	s = calloc(1, sizeof(*s));
	if (!s) {
		unmake_dirs(dir, made_len);
		return nr_err_set(err, -ENOMEM, "out of memory");
	}
	s->lock_fd = -1;
	s->made_len = made_len;
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		rc = nr_err_set(err, -errno, "state directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	rc = nr_store_trust_dir(s->dir_fd, dir, err);
	if (rc < 0)
		goto fail;
	s->dir = strdup(dir);
	if (!s->dir || asprintf(&s->path, "%s/%s", dir, NR_STORE_FILE) < 0) {
		s->path = NULL;
		rc = nr_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	/* Not through a symlink, not a hard link: else root would create or
	 * flock a file of somebody else's choosing. */
	s->lock_made = faccessat(s->dir_fd, NR_STORE_LOCK, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		       errno == ENOENT;
	s->lock_fd = nr_store_open_owned(s->dir_fd, dir, NR_STORE_LOCK, err);
	if (s->lock_fd < 0) {
		rc = s->lock_fd;
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK
			     ? nr_err_set(err, -EBUSY, "state directory %s is in use by another "
					  "controller (%s/%s is locked)", dir, dir, NR_STORE_LOCK)
			     : nr_err_set(err, -errno, "%s/%s: lock: %s", dir, NR_STORE_LOCK, strerror(errno));
		goto fail;
	}
	s->locked = true;
	*ret = s;
	return 0;
fail:
	nr_store_discard(s, dir);
	return rc;
}

void nr_store_discard(struct nr_store *s, const char *dir)
{
	if (!s)
		return;
	/* never another holder's lock file: it would stop locking anything */
	if (s->lock_made && s->locked && s->dir_fd >= 0)
		unlinkat(s->dir_fd, NR_STORE_LOCK, 0);
	unmake_dirs(dir, s->made_len); /* stays when not empty */
	nr_store_close(s);
}

void nr_store_close(struct nr_store *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the lock */
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s->dir);
	free(s->path);
	free(s->disk_text);
	free(s);
}

const char *nr_store_path(const struct nr_store *s) { return s->path; }
uint64_t nr_store_saves(const struct nr_store *s) { return s->saves; }

static int read_all(int fd, const char *path, char **out, size_t *len, struct nr_err *err)
{
	struct stat stbuf;
	size_t size, got = 0;
	char *buf;

	if (fstat(fd, &stbuf) < 0)
		return nr_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(stbuf.st_mode))
		return nr_err_set(err, -EBADMSG, "%s: not a regular file", path);
	if ((uint64_t)stbuf.st_size > NR_STORE_MAX_BYTES)
		return nr_err_set(err, -EBADMSG, "%s: %lld bytes, larger than any state file (%u)",
				  path, (long long)stbuf.st_size, NR_STORE_MAX_BYTES);
	size = (size_t)stbuf.st_size;
	buf = malloc(size + 1);
	if (!buf)
		return nr_err_set(err, -ENOMEM, "out of memory");
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got < READ_PIECE ? size - got : READ_PIECE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			return nr_err_set(err, -e, "%s: read: %s", path, strerror(e));
		}
		if (n == 0)
			break; /* shrank under us: the decoder will call it truncated */
		got += (size_t)n;
		nr_worker_yield_piece();
	}
	*out = buf;
	*len = got;
	return 0;
}

int nr_store_load(struct nr_store *s, struct nr_state *st, struct nr_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	fd = openat(s->dir_fd, NR_STORE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return -ENOENT; /* a fresh directory: not an error to report */
	if (fd < 0)
		return nr_err_set(err, -errno, "%s: %s", s->path, strerror(errno));
	rc = nr_store_trust_file(fd, s->dir, NR_STORE_FILE, false, err);
	if (rc == 0)
		rc = read_all(fd, s->path, &text, &len, err);
	close(fd);
	if (rc < 0)
		return rc;
	rc = nr_store_decode(text, len, s->path, st, err);
	if (rc == 0)
		remember_disk(s, text, len);
	nr_worker_free(text, len);
	return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len < READ_PIECE ? len : READ_PIECE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		nr_worker_yield_piece();
	}
	return 0;
}

/* The state directory was deleted under us (rm -rf by an operator, a
 * cleanup script): make it again, as trusted as at open, and hold its new
 * lock, so the state is not silently written into a removed directory
 * (where nobody would ever find it). */
static int reopen_dir(struct nr_store *s, struct nr_err *err)
{
	size_t made_len; /* (this runs after the first save: nothing to undo) */
	int rc = mkdir_p(s->dir, &made_len), fd, lock;

	if (rc < 0)
		return nr_err_set(err, rc, "state directory %s was deleted and cannot be created "
				  "again: %s", s->dir, strerror(-rc));
	fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return nr_err_set(err, -errno, "state directory %s: %s", s->dir, strerror(errno));
	rc = nr_store_trust_dir(fd, s->dir, err);
	lock = rc < 0 ? rc : nr_store_open_owned(fd, s->dir, NR_STORE_LOCK, err);
	if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0) {
		rc = nr_err_set(err, -EBUSY, "state directory %s was deleted and made again by "
				"another controller (%s/%s is locked)", s->dir, s->dir, NR_STORE_LOCK);
		close(lock);
		lock = rc;
	}
	if (lock < 0) {
		close(fd);
		return lock;
	}
	close(s->dir_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->dir_fd = fd;
	s->lock_fd = lock;
	s->recreated = true;
	return 0;
}

const char *nr_store_durable(const struct nr_store *s, size_t *len)
{
	*len = s->disk_len;
	return s->disk_known ? s->disk_text : NULL;
}

bool nr_store_take_recreated(struct nr_store *s)
{
	bool r = s->recreated;

	s->recreated = false;
	return r;
}

int nr_store_write(struct nr_store *s, const char *text, size_t len, struct nr_err *err)
{
	struct stat st;
	int fd, rc;
	const char *step = "create";

	/* a removed directory has no links left */
	if (fstat(s->dir_fd, &st) == 0 && st.st_nlink == 0) {
		rc = reopen_dir(s, err);
		if (rc < 0)
			return rc;
	}

	fd = nr_store_create_fresh(s->dir_fd, NR_STORE_TMP);
	rc = fd < 0 ? fd : 0;
	if (rc == 0 && (step = "write", rc = write_all(fd, text, len)) == 0)
		rc = (step = "fsync", fsync(fd) < 0 ? -errno : 0);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = (step = "close", -errno);
	if (rc < 0) {
		unlinkat(s->dir_fd, NR_STORE_TMP, 0);
		return nr_err_set(err, rc, "%s/%s: %s: %s", s->dir, NR_STORE_TMP, step, strerror(-rc));
	}
	if (renameat(s->dir_fd, NR_STORE_TMP, s->dir_fd, NR_STORE_FILE) < 0) {
		rc = -errno;
		unlinkat(s->dir_fd, NR_STORE_TMP, 0);
		return nr_err_set(err, rc, "%s: rename: %s", s->path, strerror(-rc));
	}
	/* the rename itself is durable only once the directory is */
	if (fsync(s->dir_fd) < 0)
		return nr_err_set(err, -errno, "%s: fsync: %s", s->dir, strerror(errno));
	return 0;
}

void nr_store_written(struct nr_store *s, const char *text, size_t len)
{
	remember_disk(s, text, len);
	s->saves++;
}

int nr_store_save(struct nr_store *s, const struct nr_model *m, const struct nr_store_meta *meta,
		  struct nr_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (nr_store_encode(m, meta, &text, &len) < 0)
		return nr_err_set(err, -ENOMEM, "%s: out of memory", s->path);
	if (!nr_store_unchanged(s, text, len)) {
		rc = nr_store_write(s, text, len, err);
		if (rc == 0)
			nr_store_written(s, text, len);
	}
	free(text);
	return rc;
}

int nr_store_remove(struct nr_store *s, struct nr_err *err)
{
	static const char *const names[] = { NR_STORE_FILE, NR_STORE_TMP, NR_STORE_LOCK };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (unlinkat(s->dir_fd, names[i], 0) < 0 && errno != ENOENT)
			return nr_err_set(err, -errno, "%s/%s: %s", s->dir, names[i], strerror(errno));
	}
	s->disk_known = false;
	free(s->disk_text);
	s->disk_text = NULL;
	if (fsync(s->dir_fd) < 0)
		return nr_err_set(err, -errno, "%s: fsync: %s", s->dir, strerror(errno));
	return 0;
}
