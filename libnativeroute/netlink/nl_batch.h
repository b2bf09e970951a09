/* Many kernel changes in few syscalls: operations are queued, then commit
 * packs them into large buffers (mnl_nlmsg_batch), one sendmsg per buffer,
 * every message with its own seq and NLM_F_ACK, and reads every ACK back so
 * each operation ends with its own result. The kernel carries on after a
 * failed message, so one bad route does not stop the others.
 *
 * Synchronous: commit returns when every ACK has been read. Use a command
 * socket (not the event socket); a non-blocking one is fine. */
#ifndef NR_NETLINK_NL_BATCH_H
#define NR_NETLINK_NL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "netlink/nl_encode.h"
#include "netlink/nl_socket.h"

struct nr_nl_batch;

/* One queued operation and, after commit, its result. */
struct nr_nl_batch_op {
	struct nr_nl_object obj;
	enum nr_nl_op op;
	int error; /* after commit: 0 or -errno; 1 while not yet acknowledged */
};

/* Called from inside nr_nl_batch_commit once per failed operation, in ACK
 * order. `text` names the object and carries the kernel's extended-ACK
 * message: "route 10.0.1.0/24 via 192.168.1.11 nhid 268435458: Nexthop id
 * does not exist (EINVAL)". `text` is valid during the call only. */
typedef void (*nr_nl_batch_fail_cb)(size_t index, const struct nr_nl_batch_op *op,
				    const char *text, void *data);

/* A batch that sends through `nl` (borrowed; must outlive the batch) and
 * stamps routes/nexthops with owner->table and owner->protocol. */
int nr_nl_batch_new(struct nr_nl *nl, const struct nr_nl_owner *owner,
		    struct nr_nl_batch **ret);

/* Free the batch and its queued operations. NULL is fine. */
void nr_nl_batch_free(struct nr_nl_batch *b);

/* Room for n operations at once, so queueing them never copies the batch
 * to grow it (a slice of a loop's work must stay small). 0 or -ENOMEM. */
int nr_nl_batch_reserve(struct nr_nl_batch *b, size_t n);

/* Queue `op` on a copy of `obj`. Returns the operation's index (>= 0), or
 * -EINVAL/-EAFNOSUPPORT (text in err) when the object cannot be sent, or
 * -ENOMEM. Nothing is sent until commit. */
int nr_nl_batch_add(struct nr_nl_batch *b, enum nr_nl_op op,
		    const struct nr_nl_object *obj, struct nr_err *err);

/* Typed shorthands for nr_nl_batch_add. */
int nr_nl_batch_nexthop(struct nr_nl_batch *b, enum nr_nl_op op,
			const struct nr_knexthop *nh, struct nr_err *err);
int nr_nl_batch_route(struct nr_nl_batch *b, enum nr_nl_op op,
		      const struct nr_kroute *r, struct nr_err *err);
int nr_nl_batch_neigh(struct nr_nl_batch *b, enum nr_nl_op op,
		      const struct nr_kneigh *n, struct nr_err *err);
int nr_nl_batch_fdb(struct nr_nl_batch *b, enum nr_nl_op op,
		    const struct nr_kfdb *f, struct nr_err *err);

/* Number of queued operations. */
size_t nr_nl_batch_count(const struct nr_nl_batch *b);

/* Operation `index` and its result (valid until reset/free). */
const struct nr_nl_batch_op *nr_nl_batch_op(const struct nr_nl_batch *b, size_t index);

/* Send everything queued, in order, and collect every ACK. Returns the
 * number of failed operations (0 = all applied); on failures err holds the
 * first one's text and fail_cb (may be NULL) runs for each. Returns -errno
 * when the socket itself fails (send error, ENOBUFS, timeout): operations
 * not acknowledged by then keep error == 1 (unknown: dump to find out). */
int nr_nl_batch_commit(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb,
		       void *data, struct nr_err *err);

/* The same, driven by a caller's poll loop on a non-blocking socket, so a
 * large batch never holds the loop: begin reserves the sequence numbers;
 * each pump reads the ACKs that have arrived and sends more, in slices of
 * NR_NL_BATCH_SLICE messages, for at most `budget_ns` of work. pump
 * returns NR_NL_BATCH_WAIT (ACKs outstanding: call again when the socket is
 * readable), NR_NL_BATCH_MORE (call again soon: more to send), 0 when every
 * operation has its result (nr_nl_batch_failures tells how many failed;
 * fail_cb ran for each, err holds the first), or -errno when the socket
 * failed (unacknowledged operations keep error == 1). */
/* The kernel applies a slice inside sendmsg (~10-20 us per route or
 * nexthop, more on a busy machine): 16 keep one call well below the
 * loop's time budget. */
#define NR_NL_BATCH_SLICE 16
enum { NR_NL_BATCH_WAIT = 1, NR_NL_BATCH_MORE = 2 };
int nr_nl_batch_begin(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
		      struct nr_err *err);
int nr_nl_batch_pump(struct nr_nl_batch *b, uint64_t budget_ns);
int nr_nl_batch_failures(const struct nr_nl_batch *b);

/* ---- the sends on another thread -------------------------------------------
 * The kernel applies a message inside sendmsg, in the sender's thread:
 * usually a few microseconds per route, but an insert that makes the FIB
 * trie resize a large node, or the fib_info hash grow, takes milliseconds
 * (measured at 10k routes: one sendmsg of 16 routes 9.3 ms, p50 64 us). A
 * caller whose thread must not stall (a libuv loop) sends from a worker,
 * after nr_nl_batch_begin:
 *   claim          (caller's thread) reserves the next operations whose ACKs
 *                  fit the receive buffer; they count as in flight from now
 *                  on. Returns how many (0: wait for ACKs, or all claimed).
 *   send_claimed   (worker) encodes and sends them, an ACK asked for by the
 *                  last one only (a failure is answered anyway); reads only those operations'
 *                  objects and uses a buffer of its own, so the caller may
 *                  read ACKs meanwhile (which write only results) - though
 *                  a loop had better wait for the worker instead (see
 *                  step_send_offloaded in ctl_reconcile.c).
 *                  *sent: how many went out; -errno when sendmsg failed.
 *   claim_end      (caller's thread, after the worker) the unsent ones are
 *                  no longer in flight (they keep error == 1: unknown).
 *   read_acks      (caller's thread, when the socket is readable) reads the
 *                  ACKs that arrived: 0 when every operation is answered,
 *                  NR_NL_BATCH_WAIT when some are unsent or unanswered,
 *                  -errno when the socket failed.
 * One claim at a time. */
size_t nr_nl_batch_claim(struct nr_nl_batch *b, size_t *first);
int nr_nl_batch_send_claimed(struct nr_nl_batch *b, size_t first, size_t n, size_t *sent);
void nr_nl_batch_claim_end(struct nr_nl_batch *b, size_t first, size_t n, size_t sent);
int nr_nl_batch_read_acks(struct nr_nl_batch *b);

/* ---- for a transport that is not a netlink socket (the unit tests' fake
 * kernel, ctl/ctl_kernel.h) ----------------------------------------------
 * expect prepares the results as begin does, without a socket; result then
 * hands in the outcome of operation `index` as its ACK would (0 or -errno;
 * kernel_msg: the extended-ACK text, or NULL): failures are counted, named
 * and reported through fail_cb exactly as for the kernel's. An operation
 * already answered is left alone. nl: the channel the batch was made on. */
void nr_nl_batch_expect(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
			struct nr_err *err);
void nr_nl_batch_result(struct nr_nl_batch *b, size_t index, int error, const char *kernel_msg);
struct nr_nl *nr_nl_batch_nl(const struct nr_nl_batch *b);

/* Forget all queued operations and results; the batch can be refilled. */
void nr_nl_batch_reset(struct nr_nl_batch *b);

#endif
