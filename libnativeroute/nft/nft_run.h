/* Talking to nftables, in-process with libnftables, in a given network
 * namespace, off the caller's loop.
 *
 * libnftables opens its netlink socket in the namespace of the calling
 * thread and blocks on it, so nothing here may run on the loop thread, and
 * the loop thread must never change namespace. nr_nft_in_netns runs a
 * function in place when the calling thread is in the namespace already,
 * else on a short-lived thread of its own that enters it (the thread ends
 * there: nothing has to move back); the controller calls it from libuv's
 * thread pool. */
#ifndef NR_NFT_RUN_H
#define NR_NFT_RUN_H

#include <stdbool.h>

#include "util/err.h"

/* Whether the library was built with nftables (NR_WITH_NFTABLES). */
bool nr_nft_supported(void);

/* Run fn(arg) inside the namespace netns_fd (an open /proc/.../ns/net or
 * /run/netns/NAME): on the calling thread when it is there already (no
 * CAP_SYS_ADMIN needed), else on a new thread that enters it, and wait for
 * it. Errors (fn not run): -errno of pthread_create or setns, with err set. */
int nr_nft_in_netns(int netns_fd, void (*fn)(void *arg), void *arg, struct nr_err *err);

/* One synchronisation of our table, to be run inside the namespace. */
struct nr_nft_sync {
	/* in */
	const char *table;     /* our table's name (family inet) */
	const char *script;    /* replacement transaction; NULL = the table must not exist */
	const char *expect;    /* a listing that counts as "as planned" (white space ignored) */
	const char *expect2;   /* another one (what this nft printed last time), or NULL */
	/* out */
	bool was_present;      /* the table existed before */
	bool was_planned;      /* ... and matched expect/expect2 (or, with script NULL, was absent) */
	bool changed;          /* we sent a transaction */
	char *listing;         /* the table after (malloc'd), NULL when absent */
	bool readback_failed;  /* committed, but the table could not be read back */
	struct nr_err err;     /* code < 0: failed, and nothing changed */
};

/* Look at the table; when it is not as planned, send the transaction (or
 * delete it), then read it back. Must run inside the namespace. Thread-safe
 * (calls into libnftables are serialised). */
void nr_nft_sync_run(struct nr_nft_sync *s);
void nr_nft_sync_free(struct nr_nft_sync *s);

#endif
