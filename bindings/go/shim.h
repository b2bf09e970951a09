/* C side of the Go binding: the loop the binding owns, and trampolines that
 * turn the library's callbacks into calls of exported Go functions (Go
 * function values cannot be C callbacks). The `uintptr_t tok` arguments are
 * the binding's call ids, carried through the library's `void *data`. */
#ifndef NRGO_SHIM_H
#define NRGO_SHIM_H

#include <stdint.h>
#include <stdlib.h>

#include <nativeroute/bpf.h>
#include <nativeroute/nativeroute.h>

/* A uv loop with a wakeup (uv_async_t): the one thread that runs the loop is
 * the only one that calls the library; other goroutines queue work and wake
 * it. */
struct nrgo_loop;
struct nrgo_loop *nrgo_loop_new(uintptr_t tok);
uv_loop_t *nrgo_loop_uv(struct nrgo_loop *l);
int nrgo_loop_wake(struct nrgo_loop *l); /* thread-safe */
void nrgo_loop_run(struct nrgo_loop *l); /* until every handle has closed */
void nrgo_loop_stop_waking(struct nrgo_loop *l); /* close the wakeup handle */
void nrgo_loop_free(struct nrgo_loop *l);

/* ---- the client (client.h) ---- */
int nrgo_client_new(uv_loop_t *loop, const char *path, unsigned int timeout_ms, uintptr_t tok,
		    struct nr_client **ret);
int nrgo_client_connect(struct nr_client *c, uintptr_t tok);
int nrgo_client_close(struct nr_client *c, uintptr_t tok);
int nrgo_client_status(struct nr_client *c, uintptr_t tok);
int nrgo_client_node_add(struct nr_client *c, const struct nr_node_spec *s, int update,
			 uintptr_t tok);
int nrgo_client_node_remove(struct nr_client *c, const char *name, uintptr_t tok);
int nrgo_client_node_get(struct nr_client *c, const char *name, uintptr_t tok);
int nrgo_client_node_foreach(struct nr_client *c, uintptr_t tok);
int nrgo_client_endpoint_add(struct nr_client *c, const struct nr_endpoint_spec *s, uintptr_t tok);
int nrgo_client_endpoint_get(struct nr_client *c, const char *id, uintptr_t tok);
int nrgo_client_endpoint_remove(struct nr_client *c, const char *id, uintptr_t tok);
int nrgo_client_endpoint_foreach(struct nr_client *c, uintptr_t tok);
int nrgo_client_route_foreach(struct nr_client *c, uintptr_t tok);
int nrgo_client_ipam_status(struct nr_client *c, uintptr_t tok);
int nrgo_client_mode_get(struct nr_client *c, uintptr_t tok);
int nrgo_client_mode_set(struct nr_client *c, const struct nr_mode_opts *o, uintptr_t tok);
int nrgo_client_subscribe(struct nr_client *c, uintptr_t tok);

/* ---- the in-process controller (controller.h) ---- */
int nrgo_ctl_new(uv_loop_t *loop, const struct nr_ctl_opts *o, uintptr_t tok, struct nr_ctl **ret);
int nrgo_ctl_start(struct nr_ctl *ctl, uintptr_t tok);
int nrgo_ctl_close(struct nr_ctl *ctl, uintptr_t tok);
int nrgo_ctl_node_add(struct nr_ctl *ctl, const struct nr_node_spec *s, int update, uintptr_t tok);
int nrgo_ctl_node_remove(struct nr_ctl *ctl, const char *name, uintptr_t tok);
int nrgo_ctl_endpoint_add(struct nr_ctl *ctl, const struct nr_endpoint_spec *s, uintptr_t tok);
int nrgo_ctl_endpoint_remove(struct nr_ctl *ctl, const char *id, uintptr_t tok);
int nrgo_ctl_mode_set(struct nr_ctl *ctl, const struct nr_mode_opts *o, uintptr_t tok);
int nrgo_ctl_node_foreach(struct nr_ctl *ctl, uintptr_t tok);
int nrgo_ctl_endpoint_foreach(struct nr_ctl *ctl, uintptr_t tok);
int nrgo_ctl_route_foreach(struct nr_ctl *ctl, uintptr_t tok);

/* NULL-terminated string arrays for the specs and options (free() the
 * array; the strings are the caller's). */
const char **nrgo_strv_new(size_t n);
void nrgo_strv_set(const char **v, size_t i, const char *s);

/* An option struct of `size` bytes as NR_OPTS makes it: zeroed, its
 * leading size_t sz set (every opts struct starts so); free() it. */
void *nrgo_opts_new(size_t size);

/* The name of fast-path verdict i (< NR_BPF_VERDICTS), as RPC status shows it. */
const char *nrgo_bpf_verdict_name(int i);

/* The i-th pod CIDR of a node (nr_node_info.pod_cidrs). */
const char *nrgo_node_cidr(const struct nr_node_info *n, size_t i);

#endif
