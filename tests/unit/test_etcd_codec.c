/* store/etcd_codec: the JSON of etcd's gateway both ways (base64 keys and
 * values, int64 as strings, omitted defaults, streamed lines) and our
 * values. Answers are copied from etcd 3.4.23's gateway. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store/etcd_codec.h"

static char *b64(const char *s)
{
	return nr_b64_encode(s, strlen(s));
}

Test(base64, round_trips_every_length_and_byte)
{
	unsigned char data[300];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(data); len += (len < 10 ? 1 : 37)) {
		char *enc = nr_b64_encode(data, len), *dec;
		size_t n;

		cr_assert_not_null(enc);
		cr_assert_eq(strlen(enc), (len + 2) / 3 * 4);
		cr_assert_eq(nr_b64_decode(enc, strlen(enc), &dec, &n), 0, "len %zu", len);
		cr_assert_eq(n, len);
		cr_assert_eq(memcmp(dec, data, len), 0);
		free(enc);
		free(dec);
	}
}

Test(base64, known_values)
{
	char *e = b64("/nativeroute/v1/default/nodes/node-1"), *d;
	size_t n;

	cr_assert_str_eq(e, "L25hdGl2ZXJvdXRlL3YxL2RlZmF1bHQvbm9kZXMvbm9kZS0x");
	free(e);
	cr_assert_eq(nr_b64_decode("YQ==", 4, &d, &n), 0);
	cr_assert_str_eq(d, "a");
	free(d);
}

Test(base64, refuses_what_is_not_base64)
{
	char *d;
	size_t n;

	cr_assert_eq(nr_b64_decode("YQ=", 3, &d, &n), -EINVAL);     /* length */
	cr_assert_eq(nr_b64_decode("Y!==", 4, &d, &n), -EINVAL);    /* alphabet */
	cr_assert_eq(nr_b64_decode("Y=Q=", 4, &d, &n), -EINVAL);    /* padding inside */
}

Test(prefix_end, increments_the_last_byte)
{
	char *e = nr_etcd_prefix_end("/nativeroute/v1/c/nodes/");

	cr_assert_str_eq(e, "/nativeroute/v1/c/nodes0");
	free(e);
	e = nr_etcd_prefix_end("a\xff\xff");
	cr_assert_str_eq(e, "b");
	free(e);
}

/* the request's JSON, parsed back, for field checks */
static json_object *req(char *s)
{
	json_object *o;

	cr_assert_not_null(s);
	o = json_tokener_parse(s);
	cr_assert_not_null(o, "not JSON: %s", s);
	free(s);
	return o;
}

static const char *path_str(json_object *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save)) {
		if (*t >= '0' && *t <= '9')
			o = json_object_array_get_idx(o, (size_t)atoi(t));
		else if (!json_object_object_get_ex(o, t, &o))
			return NULL;
	}
	return o ? json_object_get_string(o) : NULL;
}

Test(requests, range_of_a_prefix_has_base64_key_and_range_end)
{
	json_object *o = req(nr_etcd_req_range("/p/", true));

	cr_assert_str_eq(path_str(o, "key"), "L3Av");       /* "/p/" */
	cr_assert_str_eq(path_str(o, "range_end"), "L3Aw"); /* "/p0" */
	json_object_put(o);
	o = req(nr_etcd_req_range("/p/k", false));
	cr_assert_null(path_str(o, "range_end"));
	json_object_put(o);
}

Test(requests, create_is_a_txn_on_create_revision_zero)
{
	json_object *o = req(nr_etcd_req_create("/k", "v", 4111));

	cr_assert_str_eq(path_str(o, "compare.0.target"), "CREATE");
	cr_assert_str_eq(path_str(o, "compare.0.result"), "EQUAL");
	cr_assert_str_eq(path_str(o, "compare.0.create_revision"), "0");
	cr_assert_str_eq(path_str(o, "compare.0.key"), "L2s=");
	cr_assert_str_eq(path_str(o, "success.0.request_put.value"), "dg==");
	cr_assert_str_eq(path_str(o, "success.0.request_put.lease"), "4111"); /* int64 as string */
	cr_assert_str_eq(path_str(o, "failure.0.request_range.key"), "L2s=");
	json_object_put(o);
}

Test(requests, swap_and_delete_compare_mod_revision)
{
	json_object *o = req(nr_etcd_req_swap("/k", "v", 7, 42));

	cr_assert_str_eq(path_str(o, "compare.0.target"), "MOD");
	cr_assert_str_eq(path_str(o, "compare.0.mod_revision"), "42");
	json_object_put(o);
	o = req(nr_etcd_req_delete_if("/k", 43));
	cr_assert_str_eq(path_str(o, "success.0.request_delete_range.key"), "L2s=");
	json_object_put(o);
}

Test(requests, put_without_lease_omits_it)
{
	json_object *o = req(nr_etcd_req_put("/k", "v", 0));

	cr_assert_null(path_str(o, "lease"));
	json_object_put(o);
}

Test(requests, watch_from_a_revision)
{
	json_object *o = req(nr_etcd_req_watch("/p/", 17));

	cr_assert_str_eq(path_str(o, "create_request.key"), "L3Av");
	cr_assert_str_eq(path_str(o, "create_request.range_end"), "L3Aw");
	cr_assert_str_eq(path_str(o, "create_request.start_revision"), "17");
	json_object_put(o);
}

#define S(x) x, strlen(x)

Test(answers, range_with_kvs_and_string_int64)
{
	struct nr_etcd_kvs kvs;
	struct nr_err err = { 0 };
	const char *body = "{\"header\":{\"cluster_id\":\"7801232528081817440\",\"revision\":\"2\","
			   "\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":\"2\","
			   "\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"Yg==\","
			   "\"lease\":\"5007618178521916677\"}],\"count\":\"1\"}";

	cr_assert_eq(nr_etcd_parse_range(S(body), &kvs, &err), 0, "%s", err.msg);
	cr_assert_eq(kvs.revision, 2);
	cr_assert_eq(kvs.n, 1);
	cr_assert_str_eq(kvs.v[0].key, "a");
	cr_assert_str_eq(kvs.v[0].value, "b");
	cr_assert_eq(kvs.v[0].lease, 5007618178521916677LL);
	cr_assert_eq(kvs.v[0].create_rev, 2);
	nr_etcd_kvs_free(&kvs);
}

Test(answers, empty_range_omits_kvs_and_count)
{
	struct nr_etcd_kvs kvs;

	cr_assert_eq(nr_etcd_parse_range(S("{\"header\":{\"revision\":\"9\"}}"), &kvs, NULL), 0);
	cr_assert_eq(kvs.n, 0);
	cr_assert_eq(kvs.revision, 9);
	nr_etcd_kvs_free(&kvs);
}

Test(answers, numbers_are_accepted_where_strings_are_usual)
{
	struct nr_etcd_kvs kvs;

	cr_assert_eq(nr_etcd_parse_range(S("{\"header\":{\"revision\":12}}"), &kvs, NULL), 0);
	cr_assert_eq(kvs.revision, 12);
	nr_etcd_kvs_free(&kvs);
}

Test(answers, bad_int64_names_the_field)
{
	struct nr_etcd_kvs kvs;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_etcd_parse_range(S("{\"header\":{\"revision\":\"x1\"}}"), &kvs, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "revision") && strstr(err.msg, "x1"), "%s", err.msg);
}

Test(answers, txn_success_and_failure_without_succeeded)
{
	struct nr_etcd_kvs cur;
	bool ok;
	const char *won = "{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":"
			  "[{\"response_put\":{\"header\":{\"revision\":\"2\"}}}]}";
	/* a failed txn has no "succeeded" at all (default false is omitted) */
	const char *lost = "{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":"
			   "{\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":\"YQ==\","
			   "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
			   "\"value\":\"Yg==\"}],\"count\":\"1\"}}]}";

	cr_assert_eq(nr_etcd_parse_txn(S(won), &ok, &cur, NULL), 0);
	cr_assert(ok);
	cr_assert_eq(cur.n, 0);
	cr_assert_eq(nr_etcd_parse_txn(S(lost), &ok, &cur, NULL), 0);
	cr_assert(!ok);
	cr_assert_eq(cur.n, 1);
	cr_assert_str_eq(cur.v[0].value, "b");
	cr_assert_eq(cur.v[0].mod_rev, 2);
	nr_etcd_kvs_free(&cur);
}

Test(answers, lease_grant_and_keepalive)
{
	int64_t id, ttl;

	cr_assert_eq(nr_etcd_parse_grant(S("{\"header\":{\"revision\":\"1\"},\"ID\":\"5007618178521916677\","
					   "\"TTL\":\"5\"}"), &id, &ttl, NULL), 0);
	cr_assert_eq(id, 5007618178521916677LL);
	cr_assert_eq(ttl, 5);
	cr_assert_eq(nr_etcd_parse_keepalive(S("{\"result\":{\"header\":{},\"ID\":\"1\",\"TTL\":\"5\"}}"),
					     &ttl, NULL), 0);
	cr_assert_eq(ttl, 5);
	/* an expired lease: 200, no TTL */
	cr_assert_eq(nr_etcd_parse_keepalive(S("{\"result\":{\"header\":{},\"ID\":\"12345\"}}"), &ttl,
					     NULL), 0);
	cr_assert_eq(ttl, 0);
}

Test(answers, error_objects_plain_and_streamed)
{
	char msg[128];

	cr_assert_eq(nr_etcd_parse_error(S("{\"error\":\"etcdserver: requested lease not found\","
					   "\"message\":\"etcdserver: requested lease not found\","
					   "\"code\":5}"), msg, sizeof(msg)), 5);
	cr_assert_str_eq(msg, "etcdserver: requested lease not found");
	cr_assert_eq(nr_etcd_parse_error(S("{\"error\":{\"grpc_code\":14,\"http_code\":503,"
					   "\"message\":\"unavailable\",\"code\":14}}"), msg,
					 sizeof(msg)), 14);
	cr_assert_eq(nr_etcd_parse_error(S("{\"header\":{}}"), msg, sizeof(msg)), 0);
	cr_assert_eq(nr_etcd_parse_error(S("not json"), msg, sizeof(msg)), 0);
}

Test(watch, created_put_without_type_and_delete)
{
	struct nr_etcd_watch_msg m;
	const char *created = "{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}";
	const char *events = "{\"result\":{\"header\":{\"revision\":\"7\"},\"events\":["
			     "{\"kv\":{\"key\":\"YQ==\",\"create_revision\":\"6\",\"mod_revision\":\"6\","
			     "\"version\":\"1\",\"value\":\"Yg==\"}},"
			     "{\"type\":\"DELETE\",\"kv\":{\"key\":\"Yw==\",\"mod_revision\":\"7\"}}]}}";

	cr_assert_eq(nr_etcd_parse_watch(S(created), &m, NULL), 0);
	cr_assert(m.created);
	cr_assert_eq(m.revision, 5);
	nr_etcd_watch_msg_free(&m);
	cr_assert_eq(nr_etcd_parse_watch(S(events), &m, NULL), 0);
	cr_assert_eq(m.n_events, 2);
	cr_assert(!m.events[0].deleted);
	cr_assert_str_eq(m.events[0].kv.key, "a");
	cr_assert_str_eq(m.events[0].kv.value, "b");
	cr_assert(m.events[1].deleted);
	cr_assert_str_eq(m.events[1].kv.key, "c");
	cr_assert_str_eq(m.events[1].kv.value, "");
	cr_assert_eq(m.events[1].kv.mod_rev, 7);
	nr_etcd_watch_msg_free(&m);
}

Test(watch, compacted_start_revision_is_a_cancel_with_compact_revision)
{
	struct nr_etcd_watch_msg m;

	cr_assert_eq(nr_etcd_parse_watch(S("{\"result\":{\"header\":{\"revision\":\"30\"},"
					   "\"canceled\":true,\"compact_revision\":\"25\"}}"), &m,
					 NULL), 0);
	cr_assert(m.canceled);
	cr_assert_eq(m.compact_revision, 25);
	nr_etcd_watch_msg_free(&m);
	cr_assert_eq(nr_etcd_parse_watch(S("{\"error\":{\"grpc_code\":14,\"message\":\"x\",\"code\":14}}"),
					 &m, NULL), 0);
	cr_assert_eq(m.error_code, 14);
	nr_etcd_watch_msg_free(&m);
}

Test(values, node_round_trip_and_faults)
{
	struct nr_etcd_node n = { .name = "node-1", .ipv4 = "192.168.1.10", .cidr4 = "10.0.1.0/24",
				  .cidr6 = "fd00::/112" }, back;
	struct nr_err err = { 0 };
	char *v = nr_etcd_node_encode(&n);

	cr_assert_eq(nr_etcd_node_decode(v, strlen(v), &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.name, "node-1");
	cr_assert_str_eq(back.ipv4, "192.168.1.10");
	cr_assert_str_eq(back.ipv6, "");
	cr_assert_str_eq(back.cidr4, "10.0.1.0/24");
	cr_assert_str_eq(back.cidr6, "fd00::/112");
	free(v);
	cr_assert_eq(nr_etcd_node_decode(S("{\"name\":\"x\"}"), &back, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "neither ipv4 nor ipv6"), "%s", err.msg);
	cr_assert_eq(nr_etcd_node_decode(S("{\"ipv4\":\"1.2.3.4\"}"), &back, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "name"), "%s", err.msg);
}

Test(values, config_difference_is_named)
{
	struct nr_etcd_config a = { .ipam = "cluster-pool", .mode = "native",
				    .cidrs = { "10.1.0.0/16" }, .n_cidrs = 1, .mask4 = 24,
				    .mask6 = 112 }, b = a, back;
	struct nr_err err = { 0 };
	char *v = nr_etcd_config_encode(&a);

	cr_assert_eq(nr_etcd_config_decode(v, strlen(v), &back, NULL), 0);
	cr_assert_eq(nr_etcd_config_compare(&a, &back, NULL), 0);
	free(v);
	snprintf(b.cidrs[0], sizeof(b.cidrs[0]), "10.0.0.0/16");
	cr_assert_eq(nr_etcd_config_compare(&a, &b, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "cluster CIDRs: 10.1.0.0/16 here, 10.0.0.0/16 in etcd");
	b = a;
	b.mask4 = 26;
	cr_assert_eq(nr_etcd_config_compare(&a, &b, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "IPv4 mask size: 24 here, 26 in etcd");
}

Test(values, cidr_key_form)
{
	char k[64], c[64];

	nr_etcd_cidr_to_key("fd00::/112", k, sizeof(k));
	cr_assert_str_eq(k, "fd00::-112");
	nr_etcd_key_to_cidr(k, c, sizeof(c));
	cr_assert_str_eq(c, "fd00::/112");
}
