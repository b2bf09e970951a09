/* libFuzzer target: the state file decoder and the restore of a model from
 * it. The file ends in `end RECORDS CRC32C`, so random bytes would almost
 * never get past the checksum: when the first byte is odd the rest is
 * taken as the body and sealed with a correct end record (the way a file
 * written by hand and "fixed up" would look), so the record parser and the
 * restore are fuzzed too; otherwise the bytes are decoded as they are. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/model.h"
#include "store/crc32c.h"
#include "store/store.h"

static char *seal(const uint8_t *body, size_t len, size_t *out_len)
{
	size_t lines = 0;
	char *text = malloc(len + 64);

	if (!text)
		return NULL;
	memcpy(text, body, len);
	for (size_t i = 0; i < len; i++)
		lines += body[i] == '\n';
	*out_len = len + (size_t)snprintf(text + len, 64, "end\t%zu\t%08x\n", lines,
					  (unsigned int)nr_crc32c(0, text, len));
	return text;
}

static void restore(const struct nr_state *st)
{
	struct nr_cluster_config c;
	struct nr_store_meta meta = { .route_protocol = 201, .route_table = 254 };
	struct nr_node_req self = { .name = "node-1" };
	struct nr_store_restore ro = { .cfg = &c, .meta = &meta, .local = &self };
	struct nr_model *m = NULL;

	nr_config_init(&c);
	nr_prefix_parse("10.0.0.0/16", &c.cluster_cidrs[c.n_cluster_cidrs++], NULL);
	nr_prefix_parse("fd00::/104", &c.cluster_cidrs[c.n_cluster_cidrs++], NULL);
	nr_addr_parse("192.168.1.10", &self.ip4, NULL);
	if (nr_store_restore(st, "fuzz", &ro, &m, NULL) == 0)
		nr_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nr_state st;
	char *text;
	size_t len;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		text = seal(data + 1, size - 1, &len);
	} else {
		text = malloc(size);
		len = size - 1;
		if (text)
			memcpy(text, data + 1, len);
	}
	if (!text)
		return 0;
	memset(&st, 0, sizeof(st));
	if (nr_store_decode(text, len, "fuzz", &st, NULL) == 0)
		restore(&st);
	nr_state_free(&st);
	free(text);
	return 0;
}
