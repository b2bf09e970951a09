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
 * nr_endpoint_info, by name), or as a table row (after the table's header
 * line), each line starting with indent. `const void *` so that one list
 * printer serves all three. */
void json_node(struct json *j, const void *item);
void table_node_header(const char *indent);
void table_node_row(const void *item, const char *indent);
void json_route(struct json *j, const void *item);
void table_route_header(const char *indent);
void table_route_row(const void *item, const char *indent);
void json_endpoint(struct json *j, const void *item);
void table_endpoint_header(const char *indent);
void table_endpoint_row(const void *item, const char *indent);

void print_status_text(const struct nr_status *st);
/* key NULL at the top of the document. */
void json_status(struct json *j, const char *key, const struct nr_status *st);

/* How a list of one kind is shown. */
struct list_view {
	const char *key;   /* its JSON key under `status --verbose` */
	const char *title; /* its table's title there */
	void (*json_item)(struct json *j, const void *item);
	void (*table_header)(const char *indent);
	void (*table_row)(const void *item, const char *indent);
};

extern const struct list_view nodes_view, routes_view, endpoints_view;

/* A list, item by item (as the client's walks deliver them): begin, each
 * item, end. The whole output (j: JSON document; NULL: table), or with
 * `section` one part of `status --verbose`: a keyed array inside the open
 * JSON object, or a titled, indented table. */
void list_begin(struct json *j, const struct list_view *v, bool section);
void list_item(struct json *j, const struct list_view *v, const void *item, bool section);
void list_end(struct json *j, const struct list_view *v, bool section);

#endif
