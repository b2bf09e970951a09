/* A growable byte buffer that msgpack packs into: the server's output queue
 * of one connection, and its scratch space for building one answer.
 *
 * Why not msgpack_sbuffer: an sbuffer allocates 8 KiB on its first write,
 * so a queue of small answers each in its own sbuffer cost 8 KiB per 30-byte
 * answer, and the per-client limit (which counted encoded bytes) was off by
 * a factor of ~250 (issue 11: 700 MB per pipelining client). Here the
 * capacity IS the memory, so limits can count it. */
#ifndef NR_IPC_RPC_OUTBUF_H
#define NR_IPC_RPC_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct nr_rpc_outbuf {
	char *data;
	size_t len;
	size_t cap;
	bool oom; /* an append failed: the content is incomplete */
};

/* msgpack_packer write callback (data = struct nr_rpc_outbuf *). Grows by
 * doubling from 256 bytes; on allocation failure sets oom and returns -1. */
int nr_rpc_outbuf_write(void *data, const char *buf, size_t len);

/* Forget the content; free the memory when it is larger than keep. */
void nr_rpc_outbuf_reset(struct nr_rpc_outbuf *b, size_t keep);

void nr_rpc_outbuf_free(struct nr_rpc_outbuf *b);

#endif
