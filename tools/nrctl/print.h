/* How nrctl shows the daemon's answers: a table for people, JSON with the
 * RPC field names for scripts (docs/PROTOCOL.md). */
#ifndef NRCTL_PRINT_H
#define NRCTL_PRINT_H

#include <stdbool.h>
#include <stddef.h>

#include <nativeroute/client.h>

#include "json.h"

/* "-" for an absent (NULL or "") value in a table. */
const char *dash(const char *s);

/* One item as a JSON object (item: struct nr_node_info, nr_route_info or
 * nr_endpoint_info, by name), or items as a table whose rows start with
 * indent. `const void *` so that one list printer serves all three. */
void json_node(struct json *j, const void *item);
void table_nodes(const void *items, size_t n, const char *indent);
void json_route(struct json *j, const void *item);
void table_routes(const void *items, size_t n, const char *indent);
void json_endpoint(struct json *j, const void *item);
void table_endpoints(const void *items, size_t n, const char *indent);

void print_status_text(const struct nr_status *st);
/* key NULL at the top of the document. */
void json_status(struct json *j, const char *key, const struct nr_status *st);

/* How a list of one kind is shown. */
struct list_view {
	const char *key;   /* its JSON key under `status --verbose` */
	const char *title; /* its table's title there */
	size_t item_size;
	void (*json_item)(struct json *j, const void *item);
	void (*table)(const void *items, size_t n, const char *indent);
};

extern const struct list_view nodes_view, routes_view, endpoints_view;

/* A list as the whole output (j: JSON document; NULL: table), or with
 * `section` as one part of `status --verbose`: a keyed array inside the
 * open JSON object, or a titled, indented table. */
void print_list(struct json *j, const struct list_view *v, const void *items, size_t n,
		bool section);

#endif
