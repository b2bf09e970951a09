/* MessagePack-RPC framing and decoding (docs/PROTOCOL.md).
 *
 * The wire carries MessagePack objects back to back with no length prefix,
 * so the reader must find where one object ends before it can decode it.
 * nr_rpc_frame() does that with a walk over the raw bytes that allocates
 * nothing and enforces the limits (size, nesting, object count) BEFORE
 * msgpack-c sees the data: msgpack-c allocates an array's elements up front,
 * so a 5-byte "array of 2^32 items" header must never reach it.
 * nr_rpc_decode() then unpacks one framed message and checks its shape. */
#ifndef NR_IPC_RPC_CODEC_H
#define NR_IPC_RPC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>

#include "util/err.h"

enum nr_rpc_type {
	NR_RPC_REQUEST = 0,
	NR_RPC_RESPONSE = 1,
	NR_RPC_NOTIFICATION = 2,
};

struct nr_rpc_limits {
	size_t max_msg;        /* bytes of one message */
	unsigned int max_depth; /* nesting of arrays/maps (envelope = 1), <= NR_RPC_MAX_DEPTH */
	size_t max_objects;    /* objects in one message, 0 = no limit */
};

/* Server side: requests are small; route.list answers are not, hence the
 * larger client defaults. */
#define NR_RPC_SERVER_MAX_MSG (1u << 20)
#define NR_RPC_CLIENT_MAX_MSG (256u << 20)
#define NR_RPC_MAX_DEPTH 16
#define NR_RPC_SERVER_MAX_OBJECTS 65536

/* Find the end of the first message in buf[0..len).
 * Returns its length (> 0), 0 when more bytes are needed, or a negative
 * errno with err filled: -EMSGSIZE (too big, too many objects), -EBADMSG
 * (reserved byte 0xc1, nesting too deep). Never reads past len. */
ssize_t nr_rpc_frame(const void *buf, size_t len, const struct nr_rpc_limits *lim,
		     struct nr_err *err);

/* The same walk, resumable: a connection keeps one framer and calls this
 * with the same message start (buf) and a growing len as bytes arrive; the
 * walk continues where it stopped instead of rescanning the whole partial
 * message on every read (a peer trickling a large message byte by byte
 * would otherwise cost O(n^2)). After a message is returned (> 0) the
 * framer is ready for the next one, which starts at buf + the result. After
 * an error the framer must not be used again. Zero-initialise before use. */
struct nr_rpc_framer {
	bool started, done;
	unsigned int depth;
	size_t pos, objects;
	uint64_t need;
	uint64_t stack[NR_RPC_MAX_DEPTH + 1]; /* children still to read, per level */
};
ssize_t nr_rpc_framer_next(struct nr_rpc_framer *fr, const void *buf, size_t len,
			   const struct nr_rpc_limits *lim, struct nr_err *err);
/* True while a message has started but is not complete. */
static inline bool nr_rpc_framer_partial(const struct nr_rpc_framer *fr)
{
	return fr->started;
}

/* One decoded message. Strings are NUL-terminated copies in the unpacked
 * object's zone: valid as long as the msgpack_unpacked it came from. */
struct nr_rpc_msg {
	enum nr_rpc_type type;
	bool has_msgid;               /* request/response with a usable msgid */
	uint32_t msgid;
	const char *method;           /* request, notification */
	const msgpack_object *params; /* request: the params map, NULL = none */
	const msgpack_object *args;   /* notification: the payload array */
	const msgpack_object *error;  /* response: NULL when nil */
	const msgpack_object *result; /* response */
	msgpack_zone *zone;
};

/* Decode one framed message (as delimited by nr_rpc_frame) into u / msg.
 * The caller has initialised u (msgpack_unpacked_init) and destroys it.
 * Errors: -EBADMSG for anything that is not a well-formed RPC message; when
 * msg->has_msgid is set the caller can still answer the request. */
int nr_rpc_decode(const void *buf, size_t len, msgpack_unpacked *u, struct nr_rpc_msg *msg,
		  struct nr_err *err);

/* ---- reading parameter maps ------------------------------------------- */

/* Value of key in a map object, NULL when absent (or obj not a map). */
const msgpack_object *nr_rpc_map_get(const msgpack_object *map, const char *key);
/* A NUL-terminated copy of a str object in zone; NULL on failure. */
const char *nr_rpc_strdup(msgpack_zone *zone, const msgpack_object *o);

/* Refuse keys not in the NULL-terminated `known` list, naming the first one
 * (-EINVAL), and non-string keys. A params map must be checked with this
 * first so a misspelt optional field is an error, not silently ignored. */
int nr_rpc_check_keys(const msgpack_object *map, const char *const *known, struct nr_err *err);

/* Typed getters. Absent (or nil) fields: *out untouched and 0 returned,
 * unless required (then -EINVAL "missing field"). Wrong type: -EINVAL naming
 * the field and the expected type. */
int nr_rpc_get_str(msgpack_zone *zone, const msgpack_object *map, const char *key,
		   bool required, const char **out, struct nr_err *err);
int nr_rpc_get_u32(const msgpack_object *map, const char *key, bool required,
		   uint32_t *out, struct nr_err *err);
int nr_rpc_get_i64(const msgpack_object *map, const char *key, bool required,
		   int64_t *out, struct nr_err *err);
int nr_rpc_get_u64(const msgpack_object *map, const char *key, bool required,
		   uint64_t *out, struct nr_err *err);
int nr_rpc_get_bool(const msgpack_object *map, const char *key, bool required,
		    bool *out, struct nr_err *err);
/* Array of strings, NULL-terminated, allocated in zone; *n_out (optional)
 * gets the count. */
int nr_rpc_get_str_array(msgpack_zone *zone, const msgpack_object *map, const char *key,
			 bool required, const char *const **out, size_t *n_out,
			 struct nr_err *err);

/* ---- writing ------------------------------------------------------------ */

/* Pack a C string (NULL packs as nil). */
void nr_rpc_pack_str(msgpack_packer *pk, const char *s);
/* Pack "key" then a string / unsigned / bool value. */
void nr_rpc_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);
void nr_rpc_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t val);
void nr_rpc_pack_kv_bool(msgpack_packer *pk, const char *key, bool val);

/* [0, msgid, method, [params]]: the caller packs the params map (or nothing:
 * has_params = false gives []). This writes the envelope up to the params. */
void nr_rpc_pack_request_head(msgpack_packer *pk, uint32_t msgid, const char *method,
			      bool has_params);
/* [1, msgid, nil, <result follows>]: the caller packs exactly one result. */
void nr_rpc_pack_response_head(msgpack_packer *pk, uint32_t msgid);
/* Copy text into out (NUL-terminated, truncated to fit) as valid UTF-8
 * without control bytes: every byte that is not part of a valid UTF-8
 * sequence, and every control byte, becomes "\xNN". For error messages
 * that quote what a peer sent. Returns the length written. */
size_t nr_rpc_clean_text(char *out, size_t outlen, const char *in);
/* [1, msgid, {code, name, message}, nil]; message goes through
 * nr_rpc_clean_text. */
void nr_rpc_pack_error_response(msgpack_packer *pk, uint32_t msgid, int code,
				const char *message);
/* [2, method, [<payload follows>]]: the caller packs exactly one payload. */
void nr_rpc_pack_notification_head(msgpack_packer *pk, const char *method);

/* Read an error object {code, name, message}; returns its (negative) code,
 * -EPROTO when it is not a valid error object. *message points into zone
 * (or to a static string). */
int nr_rpc_error_decode(msgpack_zone *zone, const msgpack_object *error, const char **message);

#endif
