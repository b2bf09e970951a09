#include "ipc/rpc_codec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nativeroute/error.h>

/* ---- framing ------------------------------------------------------------ */

static uint64_t be_read(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Decode the header of the object at p[0..avail): how many bytes the header
 * takes (*hdr), how many payload bytes follow (*payload) and how many child
 * objects it has (*children). Returns 1 on success, 0 when the header itself
 * is incomplete, -EBADMSG for the reserved byte. */
static int item_header(const uint8_t *p, size_t avail, size_t *hdr, uint64_t *payload,
		       uint64_t *children)
{
	uint8_t b = p[0];
	size_t lenbytes = 0, extra = 0; /* extra: ext type byte */
	int kind = 0;                   /* 0 scalar/str/bin/ext, 1 array, 2 map */

	*payload = 0;
	*children = 0;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
		*hdr = 1;
		return 1;
	}
	if ((b & 0xf0) == 0x80) {
		*hdr = 1;
		*children = 2u * (b & 0x0f);
		return 1;
	}
	if ((b & 0xf0) == 0x90) {
		*hdr = 1;
		*children = b & 0x0f;
		return 1;
	}
	if ((b & 0xe0) == 0xa0) {
		*hdr = 1;
		*payload = b & 0x1f;
		return 1;
	}
	switch (b) {
	case 0xc1:
		return -EBADMSG;
	case 0xc4: case 0xd9: lenbytes = 1; break;
	case 0xc5: case 0xda: lenbytes = 2; break;
	case 0xc6: case 0xdb: lenbytes = 4; break;
	case 0xc7: lenbytes = 1; extra = 1; break;
	case 0xc8: lenbytes = 2; extra = 1; break;
	case 0xc9: lenbytes = 4; extra = 1; break;
	case 0xca: *hdr = 1; *payload = 4; return 1;
	case 0xcb: *hdr = 1; *payload = 8; return 1;
	case 0xcc: case 0xd0: *hdr = 1; *payload = 1; return 1;
	case 0xcd: case 0xd1: *hdr = 1; *payload = 2; return 1;
	case 0xce: case 0xd2: *hdr = 1; *payload = 4; return 1;
	case 0xcf: case 0xd3: *hdr = 1; *payload = 8; return 1;
	case 0xd4: *hdr = 2; *payload = 1; return 1;
	case 0xd5: *hdr = 2; *payload = 2; return 1;
	case 0xd6: *hdr = 2; *payload = 4; return 1;
	case 0xd7: *hdr = 2; *payload = 8; return 1;
	case 0xd8: *hdr = 2; *payload = 16; return 1;
	case 0xdc: lenbytes = 2; kind = 1; break;
	case 0xdd: lenbytes = 4; kind = 1; break;
	case 0xde: lenbytes = 2; kind = 2; break;
	case 0xdf: lenbytes = 4; kind = 2; break;
	default:
		return -EBADMSG; /* unreachable: every byte value is covered */
	}
	*hdr = 1 + lenbytes + extra;
	if (avail < 1 + lenbytes)
		return 0;
	uint64_t n = be_read(p + 1, lenbytes);
	if (kind == 0)
		*payload = n;
	else
		*children = kind == 2 ? 2 * n : n;
	return 1;
}

ssize_t nr_rpc_framer_next(struct nr_rpc_framer *fr, const void *buf, size_t len,
			   const struct nr_rpc_limits *lim, struct nr_err *err)
{
	const uint8_t *p = buf;
	unsigned int max_depth = lim->max_depth;

	if (max_depth == 0 || max_depth > NR_RPC_MAX_DEPTH)
		max_depth = NR_RPC_MAX_DEPTH;
	if (!fr->started) {
		*fr = (struct nr_rpc_framer){ .started = true, .need = 1 };
	}
	while (!fr->done) {
		size_t hdr;
		uint64_t payload, children;
		int r;

		if (fr->pos >= len)
			goto incomplete;
		r = item_header(p + fr->pos, len - fr->pos, &hdr, &payload, &children);
		if (r < 0)
			return nr_err_set(err, -EBADMSG, "byte 0x%02x at offset %zu is not valid MessagePack",
					  p[fr->pos], fr->pos);
		if (r == 0)
			goto incomplete;
		if (++fr->objects > lim->max_objects && lim->max_objects)
			return nr_err_set(err, -EMSGSIZE, "message has more than %zu objects",
					  lim->max_objects);
		/* Every child takes at least one byte: a count larger than what
		 * the size limit leaves is a lie, refuse it before waiting. */
		if (payload > lim->max_msg || children > lim->max_msg ||
		    fr->pos + hdr + payload + children > lim->max_msg)
			return nr_err_set(err, -EMSGSIZE, "message larger than the limit of %zu bytes",
					  lim->max_msg);
		fr->pos += hdr + payload;
		if (children > 0) {
			if (fr->depth + 1 > max_depth)
				return nr_err_set(err, -EBADMSG, "message nested deeper than %u levels",
						  max_depth);
			fr->stack[fr->depth++] = fr->need - 1;
			fr->need = children;
			continue;
		}
		fr->need--;
		while (fr->need == 0 && !fr->done) {
			if (fr->depth == 0)
				fr->done = true;
			else
				fr->need = fr->stack[--fr->depth];
		}
	}
	/* The last item's payload may still be arriving. */
	if (fr->pos > len)
		goto incomplete;
	len = fr->pos;
	fr->started = false;
	return (ssize_t)len;
incomplete:
	if (len >= lim->max_msg)
		return nr_err_set(err, -EMSGSIZE, "message larger than the limit of %zu bytes",
				  lim->max_msg);
	return 0;
}

ssize_t nr_rpc_frame(const void *buf, size_t len, const struct nr_rpc_limits *lim,
		     struct nr_err *err)
{
	struct nr_rpc_framer fr = { 0 };

	return nr_rpc_framer_next(&fr, buf, len, lim, err);
}

/* ---- decoding ----------------------------------------------------------- */

const msgpack_object *nr_rpc_map_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
		    memcmp(kv->key.via.str.ptr, key, klen) == 0)
			return &kv->val;
	}
	return NULL;
}

const char *nr_rpc_strdup(msgpack_zone *zone, const msgpack_object *o)
{
	char *s;

	if (o->type != MSGPACK_OBJECT_STR)
		return NULL;
	s = msgpack_zone_malloc(zone, o->via.str.size + 1);
	if (!s)
		return NULL;
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	return s;
}

static bool as_u64(const msgpack_object *o, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = o->via.u64;
	return true;
}

static int msgid_of(const msgpack_object *o, uint32_t *out)
{
	uint64_t v;

	if (!as_u64(o, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int method_of(msgpack_zone *zone, const msgpack_object *o, const char **out,
		     struct nr_err *err)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return nr_err_set(err, -EBADMSG, "method name is not a string");
	if (o->via.str.size == 0 || o->via.str.size > 64 ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size))
		return nr_err_set(err, -EBADMSG, "method name is empty, too long or contains NUL");
	*out = nr_rpc_strdup(zone, o);
	return *out ? 0 : nr_err_set(err, -ENOMEM, "out of memory");
}

static int decode_request(const msgpack_object_array *a, msgpack_zone *zone,
			  struct nr_rpc_msg *msg, struct nr_err *err)
{
	const msgpack_object *params;

	if (a->size != 4)
		return nr_err_set(err, -EBADMSG, "request must have 4 elements, has %" PRIu32, a->size);
	if (msgid_of(&a->ptr[1], &msg->msgid) < 0)
		return nr_err_set(err, -EBADMSG, "msgid is not an unsigned 32-bit integer");
	msg->has_msgid = true;
	if (method_of(zone, &a->ptr[2], &msg->method, err) < 0)
		return err ? err->code : -EBADMSG;
	params = &a->ptr[3];
	if (params->type != MSGPACK_OBJECT_ARRAY)
		return nr_err_set(err, -EINVAL, "params must be an array ([] or [{...}])");
	if (params->via.array.size == 0)
		return 0;
	if (params->via.array.size != 1 || params->via.array.ptr[0].type != MSGPACK_OBJECT_MAP)
		return nr_err_set(err, -EINVAL, "params must be [] or [map] (one map of named fields)");
	if (params->via.array.ptr[0].via.map.size > 0)
		msg->params = &params->via.array.ptr[0];
	return 0;
}

int nr_rpc_decode(const void *buf, size_t len, msgpack_unpacked *u, struct nr_rpc_msg *msg,
		  struct nr_err *err)
{
	const msgpack_object_array *a;
	size_t off = 0;
	uint64_t type;

	memset(msg, 0, sizeof(*msg));
	if (msgpack_unpack_next(u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
		return nr_err_set(err, -EBADMSG, "not one complete MessagePack object");
	msg->zone = u->zone;
	if (u->data.type != MSGPACK_OBJECT_ARRAY)
		return nr_err_set(err, -EBADMSG, "message is not an array");
	a = &u->data.via.array;
	if (a->size < 3 || !as_u64(&a->ptr[0], &type) || type > NR_RPC_NOTIFICATION)
		return nr_err_set(err, -EBADMSG, "message type must be 0, 1 or 2");
	msg->type = (enum nr_rpc_type)type;
	switch (msg->type) {
	case NR_RPC_REQUEST:
		return decode_request(a, u->zone, msg, err);
	case NR_RPC_RESPONSE:
		if (a->size != 4)
			return nr_err_set(err, -EBADMSG, "response must have 4 elements");
		if (msgid_of(&a->ptr[1], &msg->msgid) < 0)
			return nr_err_set(err, -EBADMSG, "msgid is not an unsigned 32-bit integer");
		msg->has_msgid = true;
		if (a->ptr[2].type != MSGPACK_OBJECT_NIL)
			msg->error = &a->ptr[2];
		msg->result = &a->ptr[3];
		return 0;
	case NR_RPC_NOTIFICATION:
		if (a->size != 3)
			return nr_err_set(err, -EBADMSG, "notification must have 3 elements");
		if (method_of(u->zone, &a->ptr[1], &msg->method, err) < 0)
			return err ? err->code : -EBADMSG;
		if (a->ptr[2].type != MSGPACK_OBJECT_ARRAY)
			return nr_err_set(err, -EBADMSG, "notification payload is not an array");
		msg->args = &a->ptr[2];
		return 0;
	}
	return -EBADMSG;
}

/* ---- typed getters ------------------------------------------------------ */

static const msgpack_object *field(const msgpack_object *map, const char *key, bool required,
				   int *rc, struct nr_err *err)
{
	const msgpack_object *v = nr_rpc_map_get(map, key);

	*rc = 0;
	if (!v || v->type == MSGPACK_OBJECT_NIL) {
		if (required)
			*rc = nr_err_set(err, -EINVAL, "missing field \"%s\"", key);
		return NULL;
	}
	return v;
}

int nr_rpc_check_keys(const msgpack_object *map, const char *const *known, struct nr_err *err)
{
	if (!map)
		return 0;
	if (map->type != MSGPACK_OBJECT_MAP)
		return nr_err_set(err, -EINVAL, "params is not a map");
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		bool found = false;

		if (k->type != MSGPACK_OBJECT_STR)
			return nr_err_set(err, -EINVAL, "field names must be strings");
		for (const char *const *p = known; *p && !found; p++)
			found = strlen(*p) == k->via.str.size &&
				memcmp(*p, k->via.str.ptr, k->via.str.size) == 0;
		if (!found)
			return nr_err_set(err, -EINVAL, "unknown field \"%.*s\"",
					  (int)(k->via.str.size > 64 ? 64 : k->via.str.size),
					  k->via.str.ptr);
		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object *k2 = &map->via.map.ptr[j].key;

			if (k2->via.str.size == k->via.str.size &&
			    memcmp(k2->via.str.ptr, k->via.str.ptr, k->via.str.size) == 0)
				return nr_err_set(err, -EINVAL, "field \"%.*s\" given twice",
						  (int)k->via.str.size, k->via.str.ptr);
		}
	}
	return 0;
}

int nr_rpc_get_str(msgpack_zone *zone, const msgpack_object *map, const char *key,
		   bool required, const char **out, struct nr_err *err)
{
	int rc;
	const msgpack_object *v = field(map, key, required, &rc, err);

	if (!v)
		return rc;
	if (v->type != MSGPACK_OBJECT_STR)
		return nr_err_set(err, -EINVAL, "field \"%s\" must be a string", key);
	if (memchr(v->via.str.ptr, '\0', v->via.str.size))
		return nr_err_set(err, -EINVAL, "field \"%s\" contains a NUL byte", key);
	*out = nr_rpc_strdup(zone, v);
	return *out ? 0 : nr_err_set(err, -ENOMEM, "out of memory");
}

int nr_rpc_get_u64(const msgpack_object *map, const char *key, bool required,
		   uint64_t *out, struct nr_err *err)
{
	int rc;
	const msgpack_object *v = field(map, key, required, &rc, err);

	if (!v)
		return rc;
	if (!as_u64(v, out))
		return nr_err_set(err, -EINVAL, "field \"%s\" must be a non-negative integer", key);
	return 0;
}

int nr_rpc_get_u32(const msgpack_object *map, const char *key, bool required,
		   uint32_t *out, struct nr_err *err)
{
	uint64_t v = 0;
	int rc;
	const msgpack_object *o = field(map, key, required, &rc, err);

	if (!o)
		return rc;
	if (!as_u64(o, &v))
		return nr_err_set(err, -EINVAL, "field \"%s\" must be a non-negative integer", key);
	if (v > UINT32_MAX)
		return nr_err_set(err, -EINVAL, "field \"%s\": %" PRIu64 " does not fit 32 bits", key, v);
	*out = (uint32_t)v;
	return 0;
}

int nr_rpc_get_i64(const msgpack_object *map, const char *key, bool required,
		   int64_t *out, struct nr_err *err)
{
	int rc;
	const msgpack_object *v = field(map, key, required, &rc, err);

	if (!v)
		return rc;
	if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*out = v->via.i64;
	else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
		*out = (int64_t)v->via.u64;
	else
		return nr_err_set(err, -EINVAL, "field \"%s\" must be an integer", key);
	return 0;
}

int nr_rpc_get_bool(const msgpack_object *map, const char *key, bool required,
		    bool *out, struct nr_err *err)
{
	int rc;
	const msgpack_object *v = field(map, key, required, &rc, err);

	if (!v)
		return rc;
	if (v->type != MSGPACK_OBJECT_BOOLEAN)
		return nr_err_set(err, -EINVAL, "field \"%s\" must be true or false", key);
	*out = v->via.boolean;
	return 0;
}

int nr_rpc_get_str_array(msgpack_zone *zone, const msgpack_object *map, const char *key,
			 bool required, const char *const **out, size_t *n_out,
			 struct nr_err *err)
{
	int rc;
	const msgpack_object *v = field(map, key, required, &rc, err);
	const char **arr;
	uint32_t n;

	if (!v)
		return rc;
	if (v->type != MSGPACK_OBJECT_ARRAY)
		return nr_err_set(err, -EINVAL, "field \"%s\" must be an array of strings", key);
	n = v->via.array.size;
	arr = msgpack_zone_malloc(zone, ((size_t)n + 1) * sizeof(*arr));
	if (!arr)
		return nr_err_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *e = &v->via.array.ptr[i];

		if (e->type != MSGPACK_OBJECT_STR || memchr(e->via.str.ptr, '\0', e->via.str.size))
			return nr_err_set(err, -EINVAL, "field \"%s\"[%" PRIu32 "] must be a string",
					  key, i);
		arr[i] = nr_rpc_strdup(zone, e);
		if (!arr[i])
			return nr_err_set(err, -ENOMEM, "out of memory");
	}
	arr[n] = NULL;
	*out = arr;
	if (n_out)
		*n_out = n;
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

void nr_rpc_pack_str(msgpack_packer *pk, const char *s)
{
	size_t n;

	if (!s) {
		msgpack_pack_nil(pk);
		return;
	}
	n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void nr_rpc_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
	nr_rpc_pack_str(pk, key);
	nr_rpc_pack_str(pk, val);
}

void nr_rpc_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t val)
{
	nr_rpc_pack_str(pk, key);
	msgpack_pack_uint64(pk, val);
}

void nr_rpc_pack_kv_bool(msgpack_packer *pk, const char *key, bool val)
{
	nr_rpc_pack_str(pk, key);
	if (val)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void nr_rpc_pack_request_head(msgpack_packer *pk, uint32_t msgid, const char *method,
			      bool has_params)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, NR_RPC_REQUEST);
	msgpack_pack_uint32(pk, msgid);
	nr_rpc_pack_str(pk, method);
	msgpack_pack_array(pk, has_params ? 1 : 0);
}

void nr_rpc_pack_response_head(msgpack_packer *pk, uint32_t msgid)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, NR_RPC_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_nil(pk);
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char b = p[0];
	size_t n;
	uint32_t cp;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		n = 2, cp = b & 0x1f;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3, cp = b & 0x0f;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4, cp = b & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t nr_rpc_clean_text(char *out, size_t outlen, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	if (!outlen)
		return 0;
	while (*p) {
		size_t n = utf8_seq(p);

		if (n == 1 && *p >= 0x20 && *p != 0x7f) {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)*p++;
		} else if (n > 1) {
			if (o + n >= outlen)
				break;
			memcpy(out + o, p, n);
			o += n;
			p += n;
		} else {
			if (o + 4 >= outlen)
				break;
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p++);
		}
	}
	out[o] = '\0';
	return o;
}

void nr_rpc_pack_error_response(msgpack_packer *pk, uint32_t msgid, int code,
				const char *message)
{
	char clean[1024];

	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, NR_RPC_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_map(pk, 3);
	nr_rpc_pack_str(pk, "code");
	msgpack_pack_int(pk, code);
	nr_rpc_pack_kv_str(pk, "name", nr_err_name(code));
	/* Messages quote values from the request; what goes back is always
	 * valid UTF-8 without control bytes, whatever the peer sent. */
	nr_rpc_clean_text(clean, sizeof(clean), message && *message ? message : nr_strerror(code));
	nr_rpc_pack_kv_str(pk, "message", clean);
	msgpack_pack_nil(pk);
}

void nr_rpc_pack_notification_head(msgpack_packer *pk, const char *method)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, NR_RPC_NOTIFICATION);
	nr_rpc_pack_str(pk, method);
	msgpack_pack_array(pk, 1);
}

int nr_rpc_error_decode(msgpack_zone *zone, const msgpack_object *error, const char **message)
{
	int64_t code = 0;
	const char *msg = NULL;

	*message = "malformed error object from the server";
	if (!error || error->type != MSGPACK_OBJECT_MAP)
		return -EPROTO;
	if (nr_rpc_get_i64(error, "code", true, &code, NULL) < 0 || code >= 0 || code < -4095)
		return -EPROTO;
	if (nr_rpc_get_str(zone, error, "message", false, &msg, NULL) == 0 && msg)
		*message = msg;
	else
		*message = nr_strerror((int)code);
	return (int)code;
}
