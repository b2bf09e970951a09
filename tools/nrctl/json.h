/* Minimal JSON writer for `nrctl -o json`: the field names and shapes are
 * those of the RPC results (docs/PROTOCOL.md), so a script can switch from
 * nrctl to the socket without relearning anything. */
#ifndef NRCTL_JSON_H
#define NRCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *out;
	int depth;
	bool first[32]; /* per level: no comma before the next item */
};

void json_init(struct json *j, FILE *out);
void json_begin_obj(struct json *j, const char *key);   /* key NULL inside arrays/top */
void json_end_obj(struct json *j);
void json_begin_arr(struct json *j, const char *key);
void json_end_arr(struct json *j);
void json_str(struct json *j, const char *key, const char *val);   /* NULL -> null */
/* "" as null: the controller's "none" */
void json_opt_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
void json_bool(struct json *j, const char *key, bool val);
/* End the document with a newline. */
void json_done(struct json *j);

#endif
