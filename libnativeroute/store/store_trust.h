/* Whether the state directory and its files may be trusted: the daemon
 * typically runs as root, and a directory or file another user controls
 * would let that user feed it a state (CIDRs, nodes) or make it create,
 * lock or overwrite files elsewhere through a link (issue 11, item 8).
 *
 * Trusted means: owned by our effective uid (or root), a directory or
 * regular file as expected, writable by nobody but the owner; ancestors of
 * the directory writable by others only with the sticky bit (/tmp); files
 * we write or lock have no second name (a hard link) and are never opened
 * through a symlink. Every refusal names the path and what is wrong. */
#ifndef NR_STORE_STORE_TRUST_H
#define NR_STORE_STORE_TRUST_H

#include "util/err.h"

/* The opened state directory (dir_fd, path `dir` for messages) and the
 * directories above it. */
int nr_store_trust_dir(int dir_fd, const char *dir, struct nr_err *err);

/* An opened file of the directory: regular, ours, not group/other
 * writable; with single_link, not a hard link to anything else. */
int nr_store_trust_file(int fd, const char *dir, const char *name, bool single_link,
			struct nr_err *err);

/* Open (creating it 0600 if needed) `name` in the directory for locking or
 * reading and writing: never through a symlink, and trusted as above. */
int nr_store_open_owned(int dir_fd, const char *dir, const char *name, struct nr_err *err);

/* Create `name` afresh for writing: an old file of that name (left by a
 * crash, or planted as a hard link to another file) is unlinked first, and
 * the new one is created with O_EXCL, so we never write through a name we
 * did not just create. Returns the fd or -errno (errno-style, no message). */
int nr_store_create_fresh(int dir_fd, const char *name);

#endif
