/* store/: the state file - round trip, crash safety, corruption detection
 * with the path in the message, format migration, refusal of a config
 * change that would orphan allocations. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/crc32c.h"
#include "store/store.h"
#include "util/worker_yield.h"
#include "parse_helpers.h"


static struct nr_cluster_config config(void)
{
	struct nr_cluster_config c;

	nr_config_init(&c);
	c.routing_mode = NR_MODE_NATIVE;
	c.auto_direct_node_routes = true;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("fd00::/104");
	return c;
}

static const struct nr_store_meta META = {
	.route_protocol = 201, .route_table = 254,
	.opts_mode = { .mode = NR_MODE_NATIVE, .auto_direct_node_routes = true },
};

static const struct nr_node_req LOCAL = { .name = "node-1", .ip4 = { 0 } };

static struct nr_node_req local_req(void)
{
	struct nr_node_req r = LOCAL;

	r.ip4 = A("192.168.1.10");
	return r;
}

static void add(struct nr_model *m, const char *name, const char *ip)
{
	struct nr_node_req s = { .name = name, .ip4 = A(ip) };
	struct nr_err err = { 0 };

	cr_assert_eq(nr_model_node_add(m, &s, NULL, &err), 0, "%s", err.msg);
}

/* node-1 (local) + node-2..node-4, node-3 removed (an index hole), two
 * endpoints, both families. */
static struct nr_model *sample(void)
{
	struct nr_cluster_config c = config();
	struct nr_node_req self = local_req();
	struct nr_endpoint_req ep1 = { .id = "pod-a", .ifname = "veth-a", .ifindex = 7 };
	struct nr_endpoint_req ep2 = { .id = "pod:b/uid", .ifindex = 9, .ip4 = A("10.0.0.77") };
	struct nr_node_req n5 = { .name = "node-5", .ip6 = A("fd01::5") };
	struct nr_err err = { 0 };
	struct nr_model *m;

	self.ip6 = A("fd01::10");
	cr_assert_eq(nr_model_new(&c, "node-1", &m, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_node_add(m, &self, NULL, &err), 0, "%s", err.msg);
	add(m, "node-2", "192.168.1.11");
	add(m, "node-3", "192.168.1.12");
	add(m, "node-4", "192.168.1.13");
	cr_assert_eq(nr_model_node_add(m, &n5, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_node_remove(m, "node-3", &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_endpoint_add(m, &ep1, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_endpoint_add(m, &ep2, NULL, &err), 0, "%s", err.msg);
	return m;
}

static void assert_same_model(const struct nr_model *a, const struct nr_model *b)
{
	const struct nr_node *x, *y;
	const struct nr_endpoint *e, *f;

	cr_assert_eq(nr_model_node_count(a), nr_model_node_count(b));
	for (x = nr_model_node_next(a, NULL), y = nr_model_node_next(b, NULL); x && y;
	     x = nr_model_node_next(a, x), y = nr_model_node_next(b, y)) {
		cr_assert_str_eq(x->name, y->name);
		cr_assert_eq(x->index, y->index, "%s: index %u vs %u", x->name, x->index, y->index);
		cr_assert(nr_addr_eq(&x->ip4, &y->ip4) && nr_addr_eq(&x->ip6, &y->ip6), "%s ips", x->name);
		cr_assert(nr_prefix_eq(&x->cidr4, &y->cidr4) && nr_prefix_eq(&x->cidr6, &y->cidr6),
			  "%s cidrs", x->name);
	}
	cr_assert_eq(nr_model_endpoint_count(a), nr_model_endpoint_count(b));
	for (e = nr_model_endpoint_next(a, NULL), f = nr_model_endpoint_next(b, NULL); e && f;
	     e = nr_model_endpoint_next(a, e), f = nr_model_endpoint_next(b, f)) {
		cr_assert_str_eq(e->id, f->id);
		cr_assert_str_eq(e->ifname, f->ifname);
		cr_assert_eq(e->ifindex, f->ifindex);
		cr_assert(nr_addr_eq(&e->ip4, &f->ip4) && nr_addr_eq(&e->ip6, &f->ip6), "%s ips", e->id);
	}
}

static int restore(const struct nr_state *st, const struct nr_cluster_config *c, bool migrate,
		   struct nr_model **m, struct nr_err *err)
{
	struct nr_node_req self = local_req();
	struct nr_store_restore ro = { .cfg = c, .meta = &META, .local = &self,
				       .allow_config_migration = migrate };

	self.ip6 = A("fd01::10");
	return nr_store_restore(st, "/x/state", &ro, m, err);
}

static void encode(const struct nr_model *m, char **text, size_t *len)
{
	cr_assert_eq(nr_store_encode(m, &META, text, len), 0);
}

/* A temporary state directory, removed with its files by rm_dir. */
static char *tmp_dir(void)
{
	char *d = strdup("/tmp/nr-store-test-XXXXXX");

	cr_assert_not_null(mkdtemp(d));
	return d;
}

static void rm_dir(char *d)
{
	DIR *dir = opendir(d);
	struct dirent *de;
	char p[512];

	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(d);
	free(d);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Seal a hand-written body with a correct end record. */
static char *seal(const char *body)
{
	size_t lines = 0;
	char *out;

	for (const char *p = body; *p; p++)
		lines += *p == '\n';
	cr_assert(asprintf(&out, "%send\t%zu\t%08x\n", body, lines,
			   nr_crc32c(0, body, strlen(body))) > 0);
	return out;
}

Test(crc32c, matches_the_standard_check_value)
{
	cr_assert_eq(nr_crc32c(0, "123456789", 9), 0xe3069283u);
}

Test(store_codec, round_trip_keeps_indexes_cidrs_endpoints_and_mode)
{
	struct nr_model *m = sample(), *back;
	struct nr_cluster_config c = config();
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text;
	size_t len;

	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len, "/x/state", &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.format, NR_STORE_FORMAT);
	cr_assert_str_eq(st.local_name, "node-1");
	cr_assert_eq(st.n_nodes, 4);
	cr_assert_eq(st.nodes[2].index, 3, "node-4 keeps index 3 across the hole");
	cr_assert_eq(st.meta.route_protocol, 201);
	cr_assert(st.cfg.auto_direct_node_routes);
	cr_assert_eq(restore(&st, &c, false, &back, &err), 0, "%s", err.msg);
	assert_same_model(m, back);
	nr_state_free(&st);
	nr_model_free(back);
	nr_model_free(m);
	free(text);
}

Test(store_codec, encoding_is_deterministic)
{
	struct nr_model *m = sample();
	char *a, *b;
	size_t la, lb;

	encode(m, &a, &la);
	encode(m, &b, &lb);
	cr_assert_eq(la, lb);
	cr_assert_eq(memcmp(a, b, la), 0);
	free(a);
	free(b);
	nr_model_free(m);
}

Test(store_codec, every_truncation_is_refused_naming_the_path)
{
	struct nr_model *m = sample();
	struct nr_state st;
	char *text;
	size_t len;

	encode(m, &text, &len);
	for (size_t cut = 0; cut < len; cut++) {
		struct nr_err err = { 0 };

		cr_assert_eq(nr_store_decode(text, cut, "/var/lib/nr/state", &st, &err), -EBADMSG,
			     "cut at %zu of %zu accepted", cut, len);
		cr_assert(strstr(err.msg, "/var/lib/nr/state: "), "cut %zu: %s", cut, err.msg);
	}
	free(text);
	nr_model_free(m);
}

Test(store_codec, torn_write_says_truncated)
{
	struct nr_model *m = sample();
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text;
	size_t len;

	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len / 2, "/s/state", &st, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
	free(text);
	nr_model_free(m);
}

Test(store_codec, any_flipped_byte_is_refused)
{
	struct nr_model *m = sample();
	struct nr_state st;
	char *text;
	size_t len;

	encode(m, &text, &len);
	for (size_t i = 0; i < len; i++) {
		struct nr_err err = { 0 };
		char saved = text[i];

		text[i] ^= 0x01;
		cr_assert_lt(nr_store_decode(text, len, "/s/state", &st, &err), 0,
			     "flip at %zu accepted", i);
		cr_assert(strstr(err.msg, "/s/state"), "%s", err.msg);
		text[i] = saved;
	}
	free(text);
	nr_model_free(m);
}

Test(store_codec, bad_checksum_message_names_path_and_both_values)
{
	struct nr_model *m = sample();
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text, *hit;
	size_t len;

	encode(m, &text, &len);
	hit = strstr(text, "10.0.1.0/24");
	cr_assert_not_null(hit);
	hit[5] = '7'; /* 10.0.7.0/24: plausible, wrong */
	cr_assert_eq(nr_store_decode(text, len, "/var/lib/nativeroute/state", &st, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "/var/lib/nativeroute/state: checksum mismatch (file says "),
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "corrupt"), "%s", err.msg);
	free(text);
	nr_model_free(m);
}

Test(store_codec, bad_field_with_valid_checksum_names_the_line)
{
	char *text = seal("nativeroute-state\t2\nlocal\tnode-1\nowner\t201\t254\n"
			  "ipam\tcluster-pool\t24\t112\ncluster_cidr\t10.0.0.0/16\n"
			  "mode\tnative\t0\t0\nopts_mode\tnative\t0\t0\n"
			  "node\t0\tnode-1\t192.168.1.300\t\t10.0.0.0/24\t\n");
	struct nr_state st;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_store_decode(text, strlen(text), "/d/state", &st, &err), -EBADMSG);
	cr_assert_str_eq(err.msg, "/d/state: line 8: node: bad IPv4 \"192.168.1.300\"");
	free(text);
}

Test(store_codec, not_a_state_file)
{
	char *text = seal("hello\t2\n");
	struct nr_state st;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_store_decode(text, strlen(text), "/d/state", &st, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "/d/state: not a nativeroute state file"), "%s", err.msg);
	free(text);
}

Test(store_codec, newer_format_is_refused_not_guessed)
{
	char *text = seal("nativeroute-state\t3\nlocal\tnode-1\n");
	struct nr_state st;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_store_decode(text, strlen(text), "/d/state", &st, &err), -EPROTONOSUPPORT);
	cr_assert(strstr(err.msg, "/d/state: format 3 was written by a newer libnativeroute"),
		  "%s", err.msg);
	free(text);
}

Test(store_codec, format_1_is_migrated)
{
	char *text = seal("nativeroute-state\t1\nlocal\tnode-1\nipam\tcluster-pool\t24\t112\n"
			  "cluster_cidr\t10.0.0.0/16\ncluster_cidr\tfd00::/104\n"
			  "mode\thybrid\t0\t0\n"
			  "node\t0\tnode-1\t192.168.1.10\tfd01::10\t10.0.0.0/24\tfd00::/112\n"
			  "node\t4\tnode-9\t192.168.1.19\t\t10.0.9.0/24\t\n");
	struct nr_cluster_config c = config();
	struct nr_state st;
	struct nr_err err = { 0 };
	struct nr_model *m;
	const struct nr_node *n9;

	cr_assert_eq(nr_store_decode(text, strlen(text), "/d/state", &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.format, 1);
	cr_assert_not(st.has_meta, "format 1 has no owner: not checked");
	cr_assert_eq(st.meta.opts_mode.mode, NR_MODE_HYBRID, "opts_mode taken from mode");
	/* the options say native + ADNR, but they cannot have changed since a
	 * format-1 start we know nothing about: the saved mode stays */
	c.routing_mode = NR_MODE_HYBRID;
	c.auto_direct_node_routes = false;
	cr_assert_eq(restore(&st, &c, false, &m, &err), 0, "%s", err.msg);
	n9 = nr_model_node_get(m, "node-9");
	cr_assert_not_null(n9);
	cr_assert_eq(n9->index, 4);
	{
		char *out;
		size_t len;
		struct nr_state again;

		encode(m, &out, &len);
		cr_assert(!strncmp(out, "nativeroute-state\t2\n", 20), "saved as the current format");
		cr_assert_eq(nr_store_decode(out, len, "/d/state", &again, &err), 0, "%s", err.msg);
		cr_assert(again.has_meta);
		nr_state_free(&again);
		free(out);
	}
	nr_state_free(&st);
	nr_model_free(m);
	free(text);
}

Test(store_restore, changed_cluster_cidr_is_refused_with_both_values)
{
	struct nr_model *m = sample(), *back = NULL;
	struct nr_cluster_config c = config();
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text;
	size_t len;

	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len, "/x/state", &st, &err), 0);
	c.cluster_cidrs[0] = P("10.1.0.0/16");
	cr_assert_eq(restore(&st, &c, false, &back, &err), -EINVAL);
	cr_assert_null(back);
	cr_assert(strstr(err.msg, "/x/state: cluster CIDRs changed (saved 10.0.0.0/16,fd00::/104, "
			 "now 10.1.0.0/16,fd00::/104)"), "%s", err.msg);
	cr_assert(strstr(err.msg, "allow config migration"), "%s", err.msg);
	nr_state_free(&st);
	nr_model_free(m);
	free(text);
}

Test(store_restore, changed_mask_size_is_refused)
{
	struct nr_model *m = sample(), *back = NULL;
	struct nr_cluster_config c = config();
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text;
	size_t len;

	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len, "/x/state", &st, &err), 0);
	c.mask_size4 = 26;
	cr_assert_eq(restore(&st, &c, false, &back, &err), -EINVAL);
	cr_assert(strstr(err.msg, "mask size changed (saved /24 and /112, now /26 and /112)"),
		  "%s", err.msg);
	nr_state_free(&st);
	nr_model_free(m);
	free(text);
}

Test(store_restore, migration_reallocates_only_what_no_longer_fits)
{
	struct nr_model *m = sample(), *back = NULL;
	struct nr_cluster_config c = config();
	struct nr_state st;
	struct nr_err err = { 0 };
	const struct nr_node *n2;
	char *text, buf[NR_ADDR_STRLEN];
	size_t len;

	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len, "/x/state", &st, &err), 0);
	c.cluster_cidrs[0] = P("10.1.0.0/16"); /* IPv4 moves; IPv6 stays */
	/* pod-b's requested 10.0.0.77 no longer fits: dropped, not fatal */
	cr_assert_eq(restore(&st, &c, true, &back, &err), 0, "%s", err.msg);
	n2 = nr_model_node_get(back, "node-2");
	cr_assert_eq(n2->index, nr_model_node_get(m, "node-2")->index, "index kept");
	cr_assert(nr_prefix_contains(&c.cluster_cidrs[0], &n2->cidr4), "%s",
		  nr_prefix_str(&n2->cidr4, buf, sizeof(buf)));
	cr_assert(nr_prefix_eq(&n2->cidr6, &nr_model_node_get(m, "node-2")->cidr6), "v6 kept");
	nr_state_free(&st);
	nr_model_free(back);
	nr_model_free(m);
	free(text);
}

Test(store_restore, another_nodes_state_is_refused)
{
	struct nr_model *m = sample(), *back = NULL;
	struct nr_cluster_config c = config();
	struct nr_node_req other = { .name = "node-2", .ip4 = A("192.168.1.11") };
	struct nr_store_restore ro = { .cfg = &c, .meta = &META, .local = &other,
				       .allow_config_migration = true };
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text;
	size_t len;

	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len, "/x/state", &st, &err), 0);
	cr_assert_eq(nr_store_restore(&st, "/x/state", &ro, &back, &err), -EINVAL);
	cr_assert(strstr(err.msg, "node node-1's, not node-2's"), "%s", err.msg);
	nr_state_free(&st);
	nr_model_free(m);
	free(text);
}

Test(store_restore, changed_route_protocol_is_refused)
{
	struct nr_model *m = sample(), *back = NULL;
	struct nr_cluster_config c = config();
	struct nr_node_req self = local_req();
	struct nr_store_meta meta = META;
	struct nr_store_restore ro = { .cfg = &c, .meta = &meta, .local = &self };
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text;
	size_t len;

	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len, "/x/state", &st, &err), 0);
	meta.route_protocol = 202;
	cr_assert_eq(nr_store_restore(&st, "/x/state", &ro, &back, &err), -EINVAL);
	cr_assert(strstr(err.msg, "route protocol/table changed (saved 201/254, now 202/254)"),
		  "%s", err.msg);
	nr_state_free(&st);
	nr_model_free(m);
	free(text);
}

Test(store_restore, runtime_mode_survives_but_changed_options_win)
{
	struct nr_model *m = sample(), *back;
	struct nr_cluster_config c = config(), now;
	struct nr_err err = { 0 };
	struct nr_state st;
	char *text;
	size_t len;

	/* mode.set at run time: hybrid; the options still say native + ADNR */
	now = *nr_model_config(m);
	now.routing_mode = NR_MODE_HYBRID;
	cr_assert_eq(nr_model_set_config(m, &now, &err), 0, "%s", err.msg);
	encode(m, &text, &len);
	cr_assert_eq(nr_store_decode(text, len, "/x/state", &st, &err), 0);
	cr_assert_eq(restore(&st, &c, false, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_config(back)->routing_mode, NR_MODE_HYBRID, "same options: saved mode");
	nr_model_free(back);
	c.routing_mode = NR_MODE_TUNNEL; /* the operator changed the option */
	c.auto_direct_node_routes = false;
	{
		struct nr_node_req self = local_req();
		struct nr_store_meta meta = META;
		struct nr_store_restore ro = { .cfg = &c, .meta = &meta, .local = &self };

		self.ip6 = A("fd01::10");
		meta.opts_mode = (struct nr_store_mode){ .mode = NR_MODE_TUNNEL };
		cr_assert_eq(nr_store_restore(&st, "/x/state", &ro, &back, &err), 0, "%s", err.msg);
	}
	cr_assert_eq(nr_model_config(back)->routing_mode, NR_MODE_TUNNEL, "changed options win");
	nr_model_free(back);
	nr_state_free(&st);
	nr_model_free(m);
	free(text);
}

Test(store_file, save_load_round_trip_leaves_no_temporary)
{
	char *dir = tmp_dir(), tmp[512];
	struct nr_model *m = sample(), *back;
	struct nr_cluster_config c = config();
	struct nr_store *s;
	struct nr_state st;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_load(s, &st, &err), -ENOENT, "fresh directory");
	cr_assert_eq(nr_store_save(s, m, &META, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_save(s, m, &META, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_saves(s), 1, "the same bytes again are not written again");
	snprintf(tmp, sizeof(tmp), "%s/" NR_STORE_TMP, dir);
	cr_assert_neq(access(tmp, F_OK), 0, "state.tmp left behind");
	cr_assert_eq(nr_store_load(s, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(restore(&st, &c, false, &back, &err), 0, "%s", err.msg);
	assert_same_model(m, back);
	nr_state_free(&st);
	nr_model_free(back);
	nr_model_free(m);
	nr_store_close(s);
	rm_dir(dir);
}

Test(store_file, torn_file_on_disk_is_refused_with_its_path)
{
	char *dir = tmp_dir(), path[512];
	struct nr_model *m = sample();
	struct nr_store *s;
	struct nr_state st;
	struct nr_err err = { 0 };
	char *text;
	size_t len;

	encode(m, &text, &len);
	snprintf(path, sizeof(path), "%s/state", dir);
	write_file(path, text, len - 7); /* power cut mid-write */
	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_load(s, &st, &err), -EBADMSG);
	cr_assert(!strncmp(err.msg, path, strlen(path)), "message names %s: %s", path, err.msg);
	cr_assert(strstr(err.msg, "torn write"), "%s", err.msg);
	nr_store_close(s);
	free(text);
	nr_model_free(m);
	rm_dir(dir);
}

Test(store_file, a_second_controller_is_locked_out)
{
	char *dir = tmp_dir();
	struct nr_store *a, *b = NULL;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_store_open(dir, &a, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_open(dir, &b, &err), -EBUSY);
	cr_assert(strstr(err.msg, "in use by another controller"), "%s", err.msg);
	nr_store_close(a);
	cr_assert_eq(nr_store_open(dir, &b, &err), 0, "free again after close: %s", err.msg);
	nr_store_close(b);
	rm_dir(dir);
}

Test(store_file, remove_leaves_no_file)
{
	char *dir = tmp_dir();
	struct nr_model *m = sample();
	struct nr_store *s;
	struct nr_err err = { 0 };
	DIR *d;
	struct dirent *de;
	int files = 0;

	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_save(s, m, &META, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_remove(s, &err), 0, "%s", err.msg);
	nr_store_close(s);
	d = opendir(dir);
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	cr_assert_eq(files, 0);
	nr_model_free(m);
	rm_dir(dir);
}

Test(store_file, ten_thousand_nodes_save_and_load_quickly)
{
	char *dir = tmp_dir();
	struct nr_cluster_config c;
	struct nr_node_req self = local_req();
	struct nr_model *m, *back;
	struct nr_store *s;
	struct nr_state st;
	struct nr_err err = { 0 };
	struct timespec t0, t1, t2;
	double save_ms, load_ms;

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/8");
	cr_assert_eq(nr_model_new(&c, "node-1", &m, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_node_add(m, &self, NULL, &err), 0, "%s", err.msg);
	for (int i = 0; i < 10000; i++) {
		char name[32], ip[32];

		snprintf(name, sizeof(name), "n%d", i);
		snprintf(ip, sizeof(ip), "172.16.%d.%d", i / 250, i % 250 + 1);
		add(m, name, ip);
	}
	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(nr_store_save(s, m, &META, &err), 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(nr_store_load(s, &st, &err), 0, "%s", err.msg);
	{
		struct nr_store_restore ro = { .cfg = &c, .meta = &META, .local = &self };
		struct nr_store_meta meta = META;

		meta.opts_mode.auto_direct_node_routes = false;
		ro.meta = &meta;
		cr_assert_eq(nr_store_restore(&st, "/x", &ro, &back, &err), 0, "%s", err.msg);
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	save_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	load_ms = (double)(t2.tv_sec - t1.tv_sec) * 1e3 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6;
	cr_log_info("10001 nodes: save (fsync'd) %.1f ms, load+restore %.1f ms", save_ms, load_ms);
	assert_same_model(m, back);
	cr_assert_lt(save_ms, 2000.0);
	cr_assert_lt(load_ms, 2000.0);
	nr_state_free(&st);
	nr_model_free(back);
	nr_model_free(m);
	nr_store_close(s);
	rm_dir(dir);
}

Test(store_file, restart_that_changed_nothing_writes_nothing)
{
	char *dir = tmp_dir();
	struct nr_model *m = sample(), *back;
	struct nr_cluster_config c = config();
	struct nr_store *s;
	struct nr_state st;
	struct nr_err err = { 0 };
	struct nr_node_req extra = { .name = "node-late" };

	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_save(s, m, &META, &err), 0, "%s", err.msg);
	nr_store_close(s);
	/* a new process: load, restore, save what it got */
	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_load(s, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(restore(&st, &c, false, &back, &err), 0, "%s", err.msg);
	nr_state_free(&st);
	cr_assert_eq(nr_store_save(s, back, &META, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_saves(s), 0, "the loaded bytes were written again");
	/* a real change is written */
	cr_assert_eq(nr_addr_parse("192.168.7.7", &extra.ip4, &err), 0);
	cr_assert_eq(nr_model_node_add(back, &extra, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_save(s, back, &META, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_saves(s), 1, "a changed model was not written");
	nr_model_free(back);
	nr_model_free(m);
	nr_store_close(s);
	rm_dir(dir);
}

/* The copy a controller keeps for encoding off the loop (ctl_save.c): kept
 * up to date from the model's journal of changed node indexes, it encodes
 * to exactly the bytes of the model itself. */
static void image_copy_node(struct nr_store_image *img, const struct nr_model *m, uint32_t index)
{
	const struct nr_node *n = nr_model_node_by_index(m, index);

	if (index >= img->cap_nodes) {
		size_t cap = (index + 1) * 2;

		img->nodes = realloc(img->nodes, cap * sizeof(*img->nodes));
		memset(img->nodes + img->cap_nodes, 0, (cap - img->cap_nodes) * sizeof(*img->nodes));
		img->cap_nodes = cap;
	}
	free(img->nodes[index].name);
	img->nodes[index] = (struct nr_store_node){ .index = index };
	if (n) {
		img->nodes[index].name = strdup(n->name);
		img->nodes[index].ip4 = n->ip4;
		img->nodes[index].ip6 = n->ip6;
		img->nodes[index].cidr4 = n->cidr4;
		img->nodes[index].cidr6 = n->cidr6;
		if (index >= img->top)
			img->top = index + 1;
	}
	while (img->top && !img->nodes[img->top - 1].name)
		img->top--;
}

static void image_finish(struct nr_store_image *img, const struct nr_model *m)
{
	size_t k = 0;

	free(img->local_name);
	img->local_name = strdup(nr_model_local_name(m));
	img->cfg = *nr_model_config(m);
	img->meta = META;
	for (size_t i = 0; i < img->n_eps; i++)
		free(img->eps[i].id);
	img->eps = realloc(img->eps, (nr_model_endpoint_count(m) + 1) * sizeof(*img->eps));
	for (const struct nr_endpoint *e = nr_model_endpoint_next(m, NULL); e; e = nr_model_endpoint_next(m, e)) {
		img->eps[k] = (struct nr_store_endpoint){ .id = strdup(e->id), .ifindex = e->ifindex,
							  .ip4 = e->ip4, .ip6 = e->ip6 };
		snprintf(img->eps[k].ifname, sizeof(img->eps[k].ifname), "%s", e->ifname);
		k++;
	}
	img->n_eps = k;
}

static void assert_image_encodes_model(struct nr_store_image *img, struct nr_model *m)
{
	char *a, *b;
	size_t la, lb;
	uint32_t idx[8];
	size_t k;
	bool lost;

	while ((k = nr_model_journal_take(m, idx, 8, &lost)) > 0)
		for (size_t i = 0; i < k; i++)
			image_copy_node(img, m, idx[i]);
	cr_assert(!lost);
	image_finish(img, m);
	encode(m, &a, &la);
	cr_assert_eq(nr_store_encode_image(img, &b, &lb), 0);
	cr_assert_eq(la, lb, "%zu vs %zu bytes:\n%s\n--\n%s", la, lb, a, b);
	cr_assert(!memcmp(a, b, la), "model:\n%s\nimage:\n%s", a, b);
	free(a);
	free(b);
}

Test(store_codec, image_kept_from_the_journal_encodes_like_the_model)
{
	struct nr_model *m = sample();
	struct nr_store_image img = { 0 };
	struct nr_err err = { 0 };

	cr_assert(!nr_model_journaling(m));
	nr_model_journal_start(m);
	for (const struct nr_node *n = nr_model_node_next(m, NULL); n; n = nr_model_node_next(m, n))
		image_copy_node(&img, m, n->index); /* the first full copy */
	assert_image_encodes_model(&img, m);
	/* adds (one into the hole node-3 left), an update, removals */
	add(m, "node-6", "192.168.1.16");
	add(m, "node-7", "192.168.1.17");
	assert_image_encodes_model(&img, m);
	cr_assert_eq(nr_model_node_remove(m, "node-7", &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_node_remove(m, "node-2", &err), 0, "%s", err.msg);
	{
		struct nr_node_req u = { .name = "node-4", .ip4 = A("192.168.1.99") };

		cr_assert_eq(nr_model_node_update(m, &u, NULL, &err), 0, "%s", err.msg);
	}
	add(m, "node-8", "192.168.1.18");
	assert_image_encodes_model(&img, m);
	cr_assert_eq(nr_model_journal_pending(m), 0);
	nr_store_image_free(&img);
	nr_model_free(m);
}

/* The state load runs on the thread pool, where the store's loops yield the
 * CPU (util/worker_yield.h) and blocks of a megabyte or more are freed in
 * pieces (madvise, then free): a state of 30,000 nodes (1.6 MB of text, a
 * 2.9 MB array of nodes) decodes on such a thread to exactly what it
 * decodes to elsewhere, and its buffers go back without a fault (ASan). */
Test(store_codec, a_large_state_decodes_the_same_on_a_yielding_thread, .timeout = 120)
{
	struct nr_cluster_config c;
	struct nr_node_req self = local_req();
	struct nr_state plain, yielding;
	struct nr_err err = { 0 };
	struct nr_model *m;
	char *text;
	size_t len;

	nr_config_init(&c);
	c.routing_mode = NR_MODE_NATIVE;
	c.mask_size4 = 26;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/8");
	cr_assert_eq(nr_model_new(&c, "node-1", &m, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_node_add(m, &self, NULL, &err), 0, "%s", err.msg);
	for (unsigned i = 0; i < 30000; i++) {
		char name[32], ip[32];

		snprintf(name, sizeof(name), "node-x%u", i);
		snprintf(ip, sizeof(ip), "172.%u.%u.%u", 16 + i / 62500, (i % 62500) / 250, i % 250 + 2);
		add(m, name, ip);
	}
	encode(m, &text, &len);
	cr_assert_gt(len, 1024 * 1024);
	cr_assert_eq(nr_store_decode(text, len, "state", &plain, &err), 0, "%s", err.msg);
	nr_worker_yield_begin();
	cr_assert_eq(nr_store_decode(text, len, "state", &yielding, &err), 0, "%s", err.msg);
	nr_worker_yield_end();
	cr_assert_eq(yielding.n_nodes, 30001);
	cr_assert_eq(plain.n_nodes, yielding.n_nodes);
	for (size_t i = 0; i < plain.n_nodes; i++) {
		const struct nr_store_node *a = &plain.nodes[i], *b = &yielding.nodes[i];

		cr_assert_str_eq(a->name, b->name);
		cr_assert(a->index == b->index && a->line == b->line, "node %s", a->name);
		cr_assert(!memcmp(&a->ip4, &b->ip4, sizeof(a->ip4)) &&
			  !memcmp(&a->cidr4, &b->cidr4, sizeof(a->cidr4)), "node %s", a->name);
	}
	nr_worker_yield_begin();
	nr_state_free(&yielding);
	nr_worker_free(text, len);
	nr_worker_yield_end();
	nr_state_free(&plain);
	nr_model_free(m);
}
