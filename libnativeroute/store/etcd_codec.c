/* etcd gateway JSON <-> C (see etcd_codec.h), on json-c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store/etcd_codec.h"

/* ---- base64 ------------------------------------------------------------ */

static const char b64_abc[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *nr_b64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64_abc[(v >> 18) & 63];
		*o++ = b64_abc[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_abc[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64_abc[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64_abc, c) : NULL;

	return p ? (int)(p - b64_abc) : -1;
}

int nr_b64_decode(const char *text, size_t text_len, char **out, size_t *len)
{
	char *buf, *o;
	uint32_t acc = 0;
	int bits = 0;
	size_t pad = 0;

	if (text_len % 4)
		return -EINVAL;
	buf = malloc(text_len / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	o = buf;
	for (size_t i = 0; i < text_len; i++) {
		int v;

		if (text[i] == '=') {
			/* only at the end, at most two */
			if (i + 2 < text_len || (i + 1 < text_len && text[i + 1] != '=')) {
				free(buf);
				return -EINVAL;
			}
			pad++;
			continue;
		}
		v = b64_val(text[i]);
		if (v < 0 || pad) {
			free(buf);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)((acc >> bits) & 0xff);
		}
	}
	*o = '\0';
	*out = buf;
	*len = (size_t)(o - buf);
	return 0;
}

char *nr_etcd_prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = malloc(n + 2);

	if (!end)
		return NULL;
	memcpy(end, prefix, n + 1);
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n == 0) {
		end[0] = '\0'; /* "\0": every key */
		return end;
	}
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	return end;
}

/* ---- requests ------------------------------------------------------------ */

static int add_b64(json_object *o, const char *field, const char *text)
{
	char *b = nr_b64_encode(text, strlen(text));

	if (!b)
		return -ENOMEM;
	json_object_object_add(o, field, json_object_new_string(b));
	free(b);
	return 0;
}

/* int64 as a string, as the gateway itself writes them */
static void add_i64(json_object *o, const char *field, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	json_object_object_add(o, field, json_object_new_string(buf));
}

static char *finish(json_object *o, int rc)
{
	char *s = NULL;

	if (rc == 0)
		s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

char *nr_etcd_req_range(const char *key, bool prefix)
{
	json_object *o = json_object_new_object();
	int rc = add_b64(o, "key", key);

	if (rc == 0 && prefix) {
		char *end = nr_etcd_prefix_end(key);

		rc = end ? add_b64(o, "range_end", end) : -ENOMEM;
		free(end);
	}
	return finish(o, rc);
}

static json_object *put_op(const char *key, const char *value, int64_t lease, int *rc)
{
	json_object *put = json_object_new_object();

	*rc = add_b64(put, "key", key);
	if (*rc == 0)
		*rc = add_b64(put, "value", value);
	if (lease)
		add_i64(put, "lease", lease);
	return put;
}

char *nr_etcd_req_put(const char *key, const char *value, int64_t lease)
{
	int rc;
	json_object *op = put_op(key, value, lease, &rc);

	return finish(op, rc);
}

/* {"compare":[{target, key, result EQUAL, <field>: rev}], "success":[op],
 *  "failure":[{"request_range":{"key":K}}]} */
static char *txn(const char *key, const char *target, const char *field, int64_t rev,
		 const char *op_name, json_object *op, int rc)
{
	json_object *o = json_object_new_object();
	json_object *cmp = json_object_new_object(), *cmps = json_object_new_array();
	json_object *succ = json_object_new_array(), *fail = json_object_new_array();
	json_object *sop = json_object_new_object(), *fop = json_object_new_object();
	json_object *range = json_object_new_object();

	json_object_object_add(cmp, "target", json_object_new_string(target));
	if (rc == 0)
		rc = add_b64(cmp, "key", key);
	json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
	add_i64(cmp, field, rev);
	json_object_array_add(cmps, cmp);
	json_object_object_add(o, "compare", cmps);
	json_object_object_add(sop, op_name, op);
	json_object_array_add(succ, sop);
	json_object_object_add(o, "success", succ);
	if (rc == 0)
		rc = add_b64(range, "key", key);
	json_object_object_add(fop, "request_range", range);
	json_object_array_add(fail, fop);
	json_object_object_add(o, "failure", fail);
	return finish(o, rc);
}

char *nr_etcd_req_create(const char *key, const char *value, int64_t lease)
{
	int rc;
	json_object *op = put_op(key, value, lease, &rc);

	return txn(key, "CREATE", "create_revision", 0, "request_put", op, rc);
}

char *nr_etcd_req_swap(const char *key, const char *value, int64_t lease, int64_t mod_rev)
{
	int rc;
	json_object *op = put_op(key, value, lease, &rc);

	return txn(key, "MOD", "mod_revision", mod_rev, "request_put", op, rc);
}

char *nr_etcd_req_delete_if(const char *key, int64_t mod_rev)
{
	json_object *op = json_object_new_object();
	int rc = add_b64(op, "key", key);

	return txn(key, "MOD", "mod_revision", mod_rev, "request_delete_range", op, rc);
}

char *nr_etcd_req_lease_grant(int64_t ttl_s)
{
	json_object *o = json_object_new_object();

	add_i64(o, "TTL", ttl_s);
	return finish(o, 0);
}

char *nr_etcd_req_lease_id(int64_t id)
{
	json_object *o = json_object_new_object();

	add_i64(o, "ID", id);
	return finish(o, 0);
}

char *nr_etcd_req_watch(const char *prefix, int64_t start_rev)
{
	json_object *o = json_object_new_object(), *c = json_object_new_object();
	char *end = nr_etcd_prefix_end(prefix);
	int rc = end ? add_b64(c, "key", prefix) : -ENOMEM;

	if (rc == 0)
		rc = add_b64(c, "range_end", end);
	free(end);
	if (start_rev > 0)
		add_i64(c, "start_revision", start_rev);
	json_object_object_add(o, "create_request", c);
	return finish(o, rc);
}

char *nr_etcd_req_auth(const char *user, const char *password)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(user));
	json_object_object_add(o, "password", json_object_new_string(password ? password : ""));
	return finish(o, 0);
}

/* ---- answers --------------------------------------------------------------- */

static json_object *parse(const char *body, size_t len, struct nr_err *err)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok) {
		nr_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		nr_err_set(err, -EBADMSG, "etcd answered something that is not a JSON object: %.60s",
			   body);
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static json_object *field(json_object *o, const char *name)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, name, &v) ? v : NULL;
}

/* int64 from a JSON string or number; absent = 0 (the gateway omits zeros) */
static int get_i64(json_object *o, const char *name, int64_t *out, struct nr_err *err)
{
	json_object *v = field(o, name);
	const char *s;
	char *end;

	*out = 0;
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return nr_err_set(err, -EBADMSG, "etcd: field %s is neither a string nor a number",
				  name);
	s = json_object_get_string(v);
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return nr_err_set(err, -EBADMSG, "etcd: field %s = \"%s\" is not an integer", name, s);
	return 0;
}

static bool get_bool(json_object *o, const char *name)
{
	json_object *v = field(o, name);

	return v && json_object_get_boolean(v);
}

/* base64 field -> decoded text; absent = "" */
static int get_b64(json_object *o, const char *name, char **out, size_t *len, struct nr_err *err)
{
	json_object *v = field(o, name);
	const char *s = v ? json_object_get_string(v) : "";
	int rc = nr_b64_decode(s, strlen(s), out, len);

	if (rc == -EINVAL)
		return nr_err_set(err, -EBADMSG, "etcd: field %s is not base64: %.40s", name, s);
	if (rc < 0)
		return nr_err_set(err, rc, "out of memory");
	return 0;
}

static int kv_of(json_object *o, struct nr_etcd_kv *kv, struct nr_err *err)
{
	size_t klen;
	int rc;

	memset(kv, 0, sizeof(*kv));
	if ((rc = get_b64(o, "key", &kv->key, &klen, err)) < 0 ||
	    (rc = get_b64(o, "value", &kv->value, &kv->value_len, err)) < 0 ||
	    (rc = get_i64(o, "create_revision", &kv->create_rev, err)) < 0 ||
	    (rc = get_i64(o, "mod_revision", &kv->mod_rev, err)) < 0 ||
	    (rc = get_i64(o, "lease", &kv->lease, err)) < 0)
		return rc;
	return 0;
}

static void kv_free(struct nr_etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	kv->key = kv->value = NULL;
}

void nr_etcd_kvs_free(struct nr_etcd_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++)
		kv_free(&kvs->v[i]);
	free(kvs->v);
	memset(kvs, 0, sizeof(*kvs));
}

static int kvs_of(json_object *o, struct nr_etcd_kvs *out, struct nr_err *err)
{
	json_object *arr = field(o, "kvs");
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	memset(out, 0, sizeof(*out));
	if (n && !(out->v = calloc(n, sizeof(*out->v))))
		return nr_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = kv_of(json_object_array_get_idx(arr, i), &out->v[i], err);

		out->n = i + 1;
		if (rc < 0) {
			nr_etcd_kvs_free(out);
			return rc;
		}
	}
	return 0;
}

int nr_etcd_parse_error(const char *body, size_t len, char *msg, size_t msglen)
{
	json_object *root = parse(body, len, NULL), *o = root, *e;
	int64_t code = 0;

	if (!root)
		return 0;
	e = field(root, "error");
	if (e && json_object_is_type(e, json_type_object)) /* streamed: {"error":{...}} */
		o = e;
	if ((field(o, "error") || field(o, "message")) && get_i64(o, "code", &code, NULL) == 0) {
		json_object *m = field(o, "message") ? field(o, "message") : field(o, "error");

		snprintf(msg, msglen, "%s", m ? json_object_get_string(m) : "");
		if (code <= 0)
			code = 2; /* unknown */
	}
	json_object_put(root);
	return (int)code;
}

int nr_etcd_parse_range(const char *body, size_t len, struct nr_etcd_kvs *out, struct nr_err *err)
{
	json_object *o = parse(body, len, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o)
		return err ? err->code : -EBADMSG;
	rc = kvs_of(o, out, err);
	if (rc == 0)
		rc = get_i64(field(o, "header"), "revision", &out->revision, err);
	if (rc < 0)
		nr_etcd_kvs_free(out);
	json_object_put(o);
	return rc;
}

int nr_etcd_parse_txn(const char *body, size_t len, bool *succeeded, struct nr_etcd_kvs *cur,
		      struct nr_err *err)
{
	json_object *o = parse(body, len, err), *resp, *range;
	int64_t rev = 0;
	int rc;

	memset(cur, 0, sizeof(*cur));
	if (!o)
		return err ? err->code : -EBADMSG;
	*succeeded = get_bool(o, "succeeded");
	rc = get_i64(field(o, "header"), "revision", &rev, err);
	resp = field(o, "responses");
	range = resp && json_object_is_type(resp, json_type_array) &&
			json_object_array_length(resp) > 0
		? field(json_object_array_get_idx(resp, 0), "response_range")
		: NULL;
	if (rc == 0 && !*succeeded && range)
		rc = kvs_of(range, cur, err);
	cur->revision = rev;
	json_object_put(o);
	return rc;
}

int nr_etcd_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl, struct nr_err *err)
{
	json_object *o = parse(body, len, err);
	int rc;

	if (!o)
		return err ? err->code : -EBADMSG;
	rc = get_i64(o, "ID", id, err);
	if (rc == 0)
		rc = get_i64(o, "TTL", ttl, err);
	if (rc == 0 && (*id == 0 || *ttl <= 0))
		rc = nr_err_set(err, -EBADMSG, "etcd: lease grant answer without ID or TTL");
	json_object_put(o);
	return rc;
}

int nr_etcd_parse_keepalive(const char *body, size_t len, int64_t *ttl, struct nr_err *err)
{
	json_object *o = parse(body, len, err), *r;
	int rc;

	if (!o)
		return err ? err->code : -EBADMSG;
	r = field(o, "result") ? field(o, "result") : o;
	rc = get_i64(r, "TTL", ttl, err);
	json_object_put(o);
	return rc;
}

int nr_etcd_parse_auth(const char *body, size_t len, char **token, struct nr_err *err)
{
	json_object *o = parse(body, len, err), *t;
	int rc = 0;

	if (!o)
		return err ? err->code : -EBADMSG;
	t = field(o, "token");
	if (!t || !*json_object_get_string(t))
		rc = nr_err_set(err, -EBADMSG, "etcd: authenticate answer without a token");
	else if (!(*token = strdup(json_object_get_string(t))))
		rc = nr_err_set(err, -ENOMEM, "out of memory");
	json_object_put(o);
	return rc;
}

void nr_etcd_watch_msg_free(struct nr_etcd_watch_msg *m)
{
	for (size_t i = 0; i < m->n_events; i++)
		kv_free(&m->events[i].kv);
	free(m->events);
	memset(m, 0, sizeof(*m));
}

static int events_of(json_object *r, struct nr_etcd_watch_msg *out, struct nr_err *err)
{
	json_object *arr = field(r, "events");
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	if (n && !(out->events = calloc(n, sizeof(*out->events))))
		return nr_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(arr, i), *type = field(ev, "type");
		int rc;

		out->n_events = i + 1;
		/* PUT is the default value: only DELETE is ever written */
		out->events[i].deleted = type && !strcmp(json_object_get_string(type), "DELETE");
		rc = kv_of(field(ev, "kv"), &out->events[i].kv, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int nr_etcd_parse_watch(const char *line, size_t len, struct nr_etcd_watch_msg *out,
			struct nr_err *err)
{
	json_object *o = parse(line, len, err), *r, *reason;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o)
		return err ? err->code : -EBADMSG;
	r = field(o, "result");
	if (!r) {
		json_object *e = field(o, "error");
		int64_t code = 0;

		get_i64(e && json_object_is_type(e, json_type_object) ? e : o, "code", &code, NULL);
		out->error_code = code > 0 ? (int)code : 2;
		snprintf(out->cancel_reason, sizeof(out->cancel_reason), "%s",
			 e && json_object_is_type(e, json_type_object) && field(e, "message")
				 ? json_object_get_string(field(e, "message"))
				 : "watch stream error");
		json_object_put(o);
		return 0;
	}
	out->created = get_bool(r, "created");
	out->canceled = get_bool(r, "canceled");
	reason = field(r, "cancel_reason");
	if (reason)
		snprintf(out->cancel_reason, sizeof(out->cancel_reason), "%s",
			 json_object_get_string(reason));
	rc = get_i64(r, "compact_revision", &out->compact_revision, err);
	if (rc == 0)
		rc = get_i64(field(r, "header"), "revision", &out->revision, err);
	if (rc == 0)
		rc = events_of(r, out, err);
	if (rc < 0)
		nr_etcd_watch_msg_free(out);
	json_object_put(o);
	return rc;
}

/* ---- our values ---------------------------------------------------------- */

static void add_str_if(json_object *o, const char *name, const char *v)
{
	if (v && *v)
		json_object_object_add(o, name, json_object_new_string(v));
}

static int copy_str(json_object *o, const char *name, char *out, size_t outlen, bool required,
		    struct nr_err *err)
{
	json_object *v = field(o, name);
	const char *s;

	out[0] = '\0';
	if (!v)
		return required ? nr_err_set(err, -EBADMSG, "no \"%s\"", name) : 0;
	if (!json_object_is_type(v, json_type_string))
		return nr_err_set(err, -EBADMSG, "\"%s\" is not a string", name);
	s = json_object_get_string(v);
	if (strlen(s) >= outlen)
		return nr_err_set(err, -EBADMSG, "\"%s\" is too long (%zu characters)", name, strlen(s));
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

char *nr_etcd_node_encode(const struct nr_etcd_node *n)
{
	json_object *o = json_object_new_object(), *cidrs = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(n->name));
	add_str_if(o, "ipv4", n->ipv4);
	add_str_if(o, "ipv6", n->ipv6);
	if (*n->cidr4)
		json_object_array_add(cidrs, json_object_new_string(n->cidr4));
	if (*n->cidr6)
		json_object_array_add(cidrs, json_object_new_string(n->cidr6));
	json_object_object_add(o, "pod_cidrs", cidrs);
	return finish(o, 0);
}

int nr_etcd_node_decode(const char *value, size_t len, struct nr_etcd_node *n, struct nr_err *err)
{
	json_object *o = parse(value, len, err), *cidrs;
	int rc;

	memset(n, 0, sizeof(*n));
	if (!o)
		return -EBADMSG;
	if ((rc = copy_str(o, "name", n->name, sizeof(n->name), true, err)) < 0 ||
	    (rc = copy_str(o, "ipv4", n->ipv4, sizeof(n->ipv4), false, err)) < 0 ||
	    (rc = copy_str(o, "ipv6", n->ipv6, sizeof(n->ipv6), false, err)) < 0)
		goto out;
	cidrs = field(o, "pod_cidrs");
	for (size_t i = 0; cidrs && json_object_is_type(cidrs, json_type_array) &&
			   i < json_object_array_length(cidrs); i++) {
		const char *c = json_object_get_string(json_object_array_get_idx(cidrs, i));
		char *slot = strchr(c, ':') ? n->cidr6 : n->cidr4;

		if (strlen(c) >= NR_ETCD_CIDR_LEN || *slot) {
			rc = nr_err_set(err, -EBADMSG, "pod_cidrs: bad or second CIDR of a family: %.60s", c);
			goto out;
		}
		memcpy(slot, c, strlen(c) + 1);
	}
	if (!*n->ipv4 && !*n->ipv6)
		rc = nr_err_set(err, -EBADMSG, "node %s has neither ipv4 nor ipv6", n->name);
out:
	json_object_put(o);
	return rc;
}

char *nr_etcd_owner_encode(const char *owner)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "owner", json_object_new_string(owner));
	return finish(o, 0);
}

int nr_etcd_owner_decode(const char *value, size_t len, char *owner, size_t owner_len,
			 struct nr_err *err)
{
	json_object *o = parse(value, len, err);
	int rc;

	if (!o)
		return -EBADMSG;
	rc = copy_str(o, "owner", owner, owner_len, true, err);
	json_object_put(o);
	return rc;
}

char *nr_etcd_config_encode(const struct nr_etcd_config *c)
{
	json_object *o = json_object_new_object(), *cidrs = json_object_new_array();

	json_object_object_add(o, "ipam", json_object_new_string(c->ipam));
	json_object_object_add(o, "mode", json_object_new_string(c->mode));
	for (unsigned int i = 0; i < c->n_cidrs; i++)
		json_object_array_add(cidrs, json_object_new_string(c->cidrs[i]));
	json_object_object_add(o, "cluster_cidrs", cidrs);
	json_object_object_add(o, "mask_size_v4", json_object_new_int((int)c->mask4));
	json_object_object_add(o, "mask_size_v6", json_object_new_int((int)c->mask6));
	return finish(o, 0);
}

int nr_etcd_config_decode(const char *value, size_t len, struct nr_etcd_config *c,
			  struct nr_err *err)
{
	json_object *o = parse(value, len, err), *cidrs;
	int64_t m4 = 0, m6 = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!o)
		return -EBADMSG;
	if ((rc = copy_str(o, "ipam", c->ipam, sizeof(c->ipam), true, err)) < 0 ||
	    (rc = copy_str(o, "mode", c->mode, sizeof(c->mode), true, err)) < 0 ||
	    (rc = get_i64(o, "mask_size_v4", &m4, err)) < 0 ||
	    (rc = get_i64(o, "mask_size_v6", &m6, err)) < 0)
		goto out;
	c->mask4 = (unsigned int)m4;
	c->mask6 = (unsigned int)m6;
	cidrs = field(o, "cluster_cidrs");
	for (size_t i = 0; cidrs && json_object_is_type(cidrs, json_type_array) &&
			   i < json_object_array_length(cidrs); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(cidrs, i));

		if (i >= 8 || strlen(s) >= NR_ETCD_CIDR_LEN) {
			rc = nr_err_set(err, -EBADMSG, "cluster_cidrs: too many or too long");
			goto out;
		}
		memcpy(c->cidrs[i], s, strlen(s) + 1);
		c->n_cidrs = (unsigned int)i + 1;
	}
out:
	json_object_put(o);
	return rc;
}

static void cidr_list(const struct nr_etcd_config *c, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < c->n_cidrs && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s", i ? "," : "", c->cidrs[i]);
	if (!c->n_cidrs)
		snprintf(out, len, "none");
}

int nr_etcd_config_compare(const struct nr_etcd_config *ours, const struct nr_etcd_config *theirs,
			   struct nr_err *err)
{
	char a[512], b[512];
	bool same_cidrs = ours->n_cidrs == theirs->n_cidrs;

	if (strcmp(ours->ipam, theirs->ipam))
		return nr_err_set(err, -EINVAL, "IPAM mode: %s here, %s in etcd", ours->ipam,
				  theirs->ipam);
	for (unsigned int i = 0; same_cidrs && i < ours->n_cidrs; i++)
		same_cidrs = !strcmp(ours->cidrs[i], theirs->cidrs[i]);
	if (!same_cidrs) {
		cidr_list(ours, a, sizeof(a));
		cidr_list(theirs, b, sizeof(b));
		return nr_err_set(err, -EINVAL, "cluster CIDRs: %s here, %s in etcd", a, b);
	}
	if (ours->mask4 != theirs->mask4)
		return nr_err_set(err, -EINVAL, "IPv4 mask size: %u here, %u in etcd", ours->mask4,
				  theirs->mask4);
	if (ours->mask6 != theirs->mask6)
		return nr_err_set(err, -EINVAL, "IPv6 mask size: %u here, %u in etcd", ours->mask6,
				  theirs->mask6);
	if (strcmp(ours->mode, theirs->mode))
		return nr_err_set(err, -EINVAL, "routing mode: %s here, %s in etcd", ours->mode,
				  theirs->mode);
	return 0;
}

void nr_etcd_cidr_to_key(const char *cidr, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", cidr);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '-';
}

void nr_etcd_key_to_cidr(const char *key_part, char *out, size_t outlen)
{
	char *dash;

	snprintf(out, outlen, "%s", key_part);
	dash = strrchr(out, '-');
	if (dash)
		*dash = '/';
}
