/* The durable state of a controller: one snapshot file, `<dir>/state`,
 * holding the whole model (cluster config, nodes with their index and CIDRs,
 * local endpoints, routing mode and switches) in a versioned, checksummed
 * text format (see store_codec.c for the grammar).
 *
 * Crash safety: a save writes `<dir>/state.tmp`, fsyncs it, renames it over
 * `state` and fsyncs the directory, so after a crash at any moment the file
 * is the old snapshot or the new one, never a mix. The checksum and the
 * closing `end` record catch what the file system cannot promise (a torn
 * write after power loss, a bit flip, an edit by hand): loading refuses such
 * a file and says which file and what is wrong, instead of starting empty
 * and re-allocating CIDRs that running nodes still use.
 *
 * One controller per directory: nr_store_open takes an exclusive lock on
 * `<dir>/lock` (released by the kernel when the process dies, so kill -9
 * never leaves a stale lock). No I/O happens outside these calls. */
#ifndef NR_STORE_STORE_H
#define NR_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/model.h"
#include "util/addr.h"
#include "util/err.h"

/* Written by this library; older formats are read and migrated. */
#define NR_STORE_FORMAT 2
#define NR_STORE_FILE "state"
#define NR_STORE_TMP "state.tmp"
#define NR_STORE_LOCK "lock"
/* A state file larger than this is refused as corrupt (10 M nodes fit). */
#define NR_STORE_MAX_BYTES (1u << 30)

/* Routing mode and the direct-routing switches, as a unit. */
struct nr_store_mode {
	enum nr_routing_mode mode;
	bool auto_direct_node_routes;
	bool skip_unreachable;
};

/* What the file records besides the model. */
struct nr_store_meta {
	uint8_t route_protocol;        /* whose routes these are */
	uint32_t route_table;
	struct nr_store_mode opts_mode; /* what the options asked for at the last start */
};

struct nr_store_node {
	uint32_t index;
	char *name;
	struct nr_addr ip4, ip6;
	struct nr_prefix cidr4, cidr6;
	unsigned int line;
};

struct nr_store_endpoint {
	char *id;
	char ifname[NR_IFNAME_MAX + 1];
	uint32_t ifindex;
	struct nr_addr ip4, ip6;
	unsigned int line;
};

/* A decoded file, migrated to the current format. */
struct nr_state {
	unsigned int format;           /* the version the file was written in */
	char *local_name;
	bool has_meta;                 /* false for format 1: no owner/opts_mode records */
	struct nr_store_meta meta;
	struct nr_cluster_config cfg;  /* pools, masks, IPAM mode, current mode + switches */
	struct nr_store_node *nodes;   /* ascending index */
	size_t n_nodes;
	struct nr_store_endpoint *eps; /* insertion order */
	size_t n_eps;
};

void nr_state_free(struct nr_state *st);

/* ---- codec (store_codec.c): pure, no I/O ---------------------------------- */

/* Serialize the model in the current format into a malloc'd buffer.
 * Errors: -ENOMEM. */
int nr_store_encode(const struct nr_model *m, const struct nr_store_meta *meta,
		    char **out, size_t *len);
/* A copy of what the state file records, which a controller keeps up to
 * date per changed node (nr_model_journal_*) so that encoding - O(nodes),
 * milliseconds at 10,000 - runs on the thread pool while the model goes on
 * changing on the loop. nodes[] by index (name NULL: none), top = highest
 * used index + 1; eps in the model's order. */
struct nr_store_image {
	struct nr_store_node *nodes;
	size_t cap_nodes, top;
	char *local_name;
	struct nr_cluster_config cfg;
	struct nr_store_meta meta;
	struct nr_store_endpoint *eps;
	size_t n_eps, cap_eps;
};
/* The same bytes nr_store_encode makes of the model the image copies.
 * Errors: -ENOMEM. */
int nr_store_encode_image(const struct nr_store_image *img, char **out, size_t *len);
void nr_store_image_free(struct nr_store_image *img);

/* Parse, check and migrate `text`; every message starts with `path`
 * (e.g. "/var/lib/nativeroute/state: line 7: node: bad IPv4 \"10.0.0\"").
 * Errors: -EBADMSG (torn, corrupt or unknown content), -EPROTONOSUPPORT (a
 * newer format), -ENOMEM. */
int nr_store_decode(const char *text, size_t len, const char *path, struct nr_state *st,
		    struct nr_err *err);

/* ---- restore (store_restore.c): state + options -> model -------------------- */

struct nr_store_restore {
	const struct nr_cluster_config *cfg;  /* from the options, validated */
	const struct nr_store_meta *meta;     /* from the options */
	const struct nr_node_req *local;      /* this node as the options describe it;
						 CIDRs of family 0: keep the saved ones */
	bool allow_config_migration;
	/* told about every change migration made (may be NULL) */
	void (*note)(const char *msg, void *data);
	void *note_data;
};

/* Build the model the saved state describes, under the options' config.
 * Refused (-EINVAL, message naming path and both values): another node's
 * state; a changed IPAM mode, cluster CIDR list, mask size or route
 * protocol/table, unless allow_config_migration (then nodes whose CIDR no
 * longer fits get a new one, endpoints that no longer fit are dropped, each
 * reported through note). The saved routing mode and switches win over the
 * options unless the options changed since the state was written. */
int nr_store_restore(const struct nr_state *st, const char *path,
		     const struct nr_store_restore *o, struct nr_model **ret, struct nr_err *err);

/* ---- files (store_file.c) ------------------------------------------------- */

struct nr_store;

/* Open (creating it, mode 0700, if missing) and lock `dir`. Errors: -EBUSY
 * (another process holds the lock), -errno of mkdir/open. */
int nr_store_open(const char *dir, struct nr_store **ret, struct nr_err *err);
/* NULL is fine. Releases the lock. */
void nr_store_close(struct nr_store *s);
/* Close, and remove what nr_store_open made: the lock file (when it held
 * it) and the directories (dir: the path it was opened with), for a
 * caller that fails after opening ("an error means nothing changed").
 * Only before anything was saved; NULL is fine. */
void nr_store_discard(struct nr_store *s, const char *dir);
const char *nr_store_path(const struct nr_store *s); /* <dir>/state */

/* Read and decode the state file. -ENOENT when there is none (a fresh
 * directory), otherwise as nr_store_decode or -errno of reading. */
int nr_store_load(struct nr_store *s, struct nr_state *st, struct nr_err *err);
/* Write the model crash-safely (see above); returns once it is durable.
 * Bytes equal to what the file is known to hold (loaded or last written)
 * are not written again. Errors: -errno of write/fsync/rename, naming the
 * file. Equivalent to encode + nr_store_unchanged + nr_store_write +
 * nr_store_written, which let the writing run on another thread. */
int nr_store_save(struct nr_store *s, const struct nr_model *m, const struct nr_store_meta *meta,
		  struct nr_err *err);
/* Whether `text` is what the state file is known to hold. */
bool nr_store_unchanged(const struct nr_store *s, const char *text, size_t len);
/* The I/O of a save: temporary file, fsync, rename, directory fsync. Reads
 * only fields that are fixed after open, so it may run on a worker thread
 * while the loop thread keeps out of the store (no load/save/remove/close)
 * until it returns. */
int nr_store_write(struct nr_store *s, const char *text, size_t len, struct nr_err *err);
/* The bytes the state file is known to hold (loaded or last written), NULL
 * when unknown: what the model goes back to when a save fails. */
const char *nr_store_durable(const struct nr_store *s, size_t *len);
/* Whether a write since the last call found the directory deleted and
 * created it again (to be told to a person). A write does that by itself. */
bool nr_store_take_recreated(struct nr_store *s);
/* On the loop thread, after nr_store_write succeeded with these bytes. */
void nr_store_written(struct nr_store *s, const char *text, size_t len);
/* The same in two parts, for a save whose writing thread is not the loop:
 * remember (on the writing thread, the loop keeping out of the store) takes
 * the bytes over without a copy; count_save afterwards on the loop. */
void nr_store_remember(struct nr_store *s, char *text, size_t len);
void nr_store_count_save(struct nr_store *s);
/* Remove the state, temporary and lock files (the directory stays). */
int nr_store_remove(struct nr_store *s, struct nr_err *err);
/* How many saves succeeded (tests, status). */
uint64_t nr_store_saves(const struct nr_store *s);

#endif
