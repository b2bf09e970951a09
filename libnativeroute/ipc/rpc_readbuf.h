/* The read buffer of one RPC connection, shared by the client and the
 * server: bytes arrive in chunks of any size, and a message that is not
 * complete yet has to wait at the start of the buffer for the rest. */
#ifndef NR_IPC_RPC_READBUF_H
#define NR_IPC_RPC_READBUF_H

#include <stddef.h>

#include <uv.h>

struct nr_rpc_readbuf {
	char *data;
	size_t len; /* bytes read, not yet consumed */
	size_t cap;
};

/* The free space for uv_read_start's alloc callback. The buffer grows (by
 * doubling) only up to one largest message plus one read chunk: a peer
 * that sends more than max_msg is caught by the framing, not by memory. */
uv_buf_t nr_rpc_readbuf_space(struct nr_rpc_readbuf *rb, size_t max_msg);

/* Drop the first n bytes (whole messages already handled). An emptied
 * buffer larger than two read chunks is freed. */
void nr_rpc_readbuf_consume(struct nr_rpc_readbuf *rb, size_t n);

#endif
