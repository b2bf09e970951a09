#include "ipc/rpc_outbuf.h"

#include <stdlib.h>
#include <string.h>

int nr_rpc_outbuf_write(void *data, const char *buf, size_t len)
{
	struct nr_rpc_outbuf *b = data;

	if (b->oom)
		return -1;
	if (len > b->cap - b->len) {
		size_t ncap = b->cap ? b->cap : 256;
		char *n;

		while (ncap - b->len < len) {
			if (ncap > ((size_t)-1) / 2) {
				b->oom = true;
				return -1;
			}
			ncap *= 2;
		}
		n = realloc(b->data, ncap);
		if (!n) {
			b->oom = true;
			return -1;
		}
		b->data = n;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

void nr_rpc_outbuf_reset(struct nr_rpc_outbuf *b, size_t keep)
{
	b->len = 0;
	b->oom = false;
	if (b->cap > keep) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

void nr_rpc_outbuf_free(struct nr_rpc_outbuf *b)
{
	free(b->data);
	*b = (struct nr_rpc_outbuf){ 0 };
}
