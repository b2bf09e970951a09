/* The clsact qdiscs the tc fast path hangs on: made when a device has none,
 * and taken away again - by purge, or when the plan no longer has the
 * device - only when this controller made it and no other filter is on it
 * (someone else's filter keeps it). Which ones we made is
 * recorded in the private pinned map tc_qdiscs (bpf_maps.h): it outlives a
 * restart, and purge from another process reads it. A clsact that was there
 * before us is never recorded, so never removed.
 * Every call runs inside the controller's network namespace (ifindexes and
 * the netlink sockets of libbpf's tc calls belong to it). */
#ifndef NR_BPF_BPF_QDISC_H
#define NR_BPF_BPF_QDISC_H

#include <stdint.h>

#include "util/err.h"

/* ifindex has a clsact qdisc after this; when this call made it, it is
 * recorded in rec_fd (a failure to record removes it again: nothing made
 * is left unrecorded). rec_fd < 0: nothing is recorded (no map). */
int nr_bpf_qdisc_ensure(int rec_fd, uint32_t ifindex, struct nr_err *err);

/* Our filter is off ifindex: remove its clsact when it is recorded as ours,
 * the device still has the name it had then, and no filter is left on it
 * (ingress or egress). The record goes with the qdisc, or when the device
 * is gone or renamed; a qdisc someone else's filter uses stays recorded. */
int nr_bpf_qdisc_release(int rec_fd, uint32_t ifindex, struct nr_err *err);

/* Purge: nr_bpf_qdisc_release for every recorded device. */
int nr_bpf_qdisc_release_all(int rec_fd, struct nr_err *err);

/* The record map of `instance` for a purge in a process that did not open
 * the maps: an fd, -ENOENT when nothing is pinned, else -errno. */
int nr_bpf_qdisc_record_get(const char *instance);

#endif
