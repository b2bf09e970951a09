#include "ipc/rpc_readbuf.h"

#include <stdlib.h>
#include <string.h>

#define READ_CHUNK 65536

uv_buf_t nr_rpc_readbuf_space(struct nr_rpc_readbuf *rb, size_t max_msg)
{
	size_t limit = max_msg + READ_CHUNK;

	if (rb->cap - rb->len < READ_CHUNK && rb->cap < limit) {
		size_t ncap = rb->cap ? rb->cap * 2 : READ_CHUNK * 2;
		char *n;

		if (ncap > limit)
			ncap = limit;
		/* On failure the old, smaller buffer still serves. */
		n = realloc(rb->data, ncap);
		if (n) {
			rb->data = n;
			rb->cap = ncap;
		}
	}
	return uv_buf_init(rb->data + rb->len, (unsigned int)(rb->cap - rb->len));
}

void nr_rpc_readbuf_consume(struct nr_rpc_readbuf *rb, size_t n)
{
	memmove(rb->data, rb->data + n, rb->len - n);
	rb->len -= n;
	/* A buffer grown for one large message is not kept for small ones:
	 * idle connections must not each hold a megabyte. */
	if (rb->len == 0 && rb->cap > 2 * READ_CHUNK) {
		free(rb->data);
		rb->data = NULL;
		rb->cap = 0;
	}
}
