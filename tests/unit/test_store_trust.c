/* The state directory is trusted only when nobody else controls it (issue
 * 11, item 8): another user's directory or state file is refused, a lock
 * file planted as a symlink or hard link is never created/flocked through,
 * and a hard-linked state.tmp does not overwrite its other name. The cases
 * that need another owner run as root only (chown). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/model.h"
#include "util/addr.h"
#include "store/store.h"

static char base[64];

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/nrtrust.XXXXXX");
	cr_assert(mkdtemp(base));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	cr_assert_eq(system(cmd), 0);
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (chown to another user)");
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int open_store(const char *dir, struct nr_err *err)
{
	struct nr_store *s = NULL;
	int rc = nr_store_open(dir, &s, err);

	nr_store_close(s);
	return rc;
}

TestSuite(store_trust, .init = setup, .fini = teardown);

Test(store_trust, a_directory_we_create_is_private)
{
	char dir[128];
	struct nr_err err = { 0 };
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/new/state", base);
	cr_assert_eq(open_store(dir, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700, "mode %o", st.st_mode & 0777);
}

Test(store_trust, a_directory_writable_by_others_is_refused_by_name)
{
	char dir[128];
	struct nr_err err = { 0 };

	snprintf(dir, sizeof(dir), "%s/open", base);
	mkdir(dir, 0700);
	chmod(dir, 0777);
	cr_assert_eq(open_store(dir, &err), -EPERM);
	cr_assert(strstr(err.msg, dir) && strstr(err.msg, "writable by everyone"), "%s", err.msg);
	chmod(dir, 0770);
	cr_assert_eq(open_store(dir, &err), -EPERM);
	cr_assert(strstr(err.msg, "writable by its group"), "%s", err.msg);
	chmod(dir, 0755);
	cr_assert_eq(open_store(dir, &err), 0, "%s", err.msg);
}

Test(store_trust, a_parent_writable_by_others_is_refused_unless_sticky)
{
	char parent[128], dir[160];
	struct nr_err err = { 0 };

	snprintf(parent, sizeof(parent), "%s/shared", base);
	snprintf(dir, sizeof(dir), "%s/state", parent);
	mkdir(parent, 0700);
	mkdir(dir, 0700);
	chmod(parent, 0777);
	cr_assert_eq(open_store(dir, &err), -EPERM);
	cr_assert(strstr(err.msg, "another user could replace"), "%s", err.msg);
	chmod(parent, 01777); /* like /tmp */
	cr_assert_eq(open_store(dir, &err), 0, "%s", err.msg);
}

Test(store_trust, another_users_directory_is_refused)
{
	char dir[128];
	struct nr_err err = { 0 };

	need_root();
	snprintf(dir, sizeof(dir), "%s/theirs", base);
	mkdir(dir, 0700);
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	cr_assert_eq(open_store(dir, &err), -EPERM);
	cr_assert(strstr(err.msg, dir) && strstr(err.msg, "owned by uid 65534"), "%s", err.msg);
}

Test(store_trust, another_users_state_file_is_not_loaded)
{
	char dir[128], path[160];
	struct nr_store *s;
	struct nr_state st;
	struct nr_err err = { 0 };

	need_root();
	snprintf(dir, sizeof(dir), "%s/d", base);
	snprintf(path, sizeof(path), "%s/state", dir);
	mkdir(dir, 0700);
	put(path, "nativeroute-state\t2\n");
	cr_assert_eq(chown(path, 65534, 65534), 0);
	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_load(s, &st, &err), -EPERM);
	cr_assert(strstr(err.msg, path) && strstr(err.msg, "owned by uid 65534"), "%s", err.msg);
	nr_store_close(s);
}

Test(store_trust, a_state_file_writable_by_others_is_not_loaded)
{
	char dir[128], path[160];
	struct nr_store *s;
	struct nr_state st;
	struct nr_err err = { 0 };

	snprintf(dir, sizeof(dir), "%s/d", base);
	snprintf(path, sizeof(path), "%s/state", dir);
	mkdir(dir, 0700);
	put(path, "x\n");
	chmod(path, 0666);
	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_load(s, &st, &err), -EPERM);
	cr_assert(strstr(err.msg, path) && strstr(err.msg, "writable by everyone"), "%s", err.msg);
	nr_store_close(s);
}

Test(store_trust, a_lock_symlink_is_not_followed)
{
	char dir[128], lock[160], victim[160];
	struct nr_err err = { 0 };

	snprintf(dir, sizeof(dir), "%s/d", base);
	snprintf(lock, sizeof(lock), "%s/lock", dir);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	mkdir(dir, 0700);
	cr_assert_eq(symlink(victim, lock), 0);
	cr_assert_eq(open_store(dir, &err), -ELOOP);
	cr_assert(strstr(err.msg, lock) && strstr(err.msg, "symlink"), "%s", err.msg);
	cr_assert_neq(access(victim, F_OK), 0, "the symlink's target was created");
}

Test(store_trust, a_hard_linked_lock_is_refused)
{
	char dir[128], lock[160], victim[160];
	struct nr_err err = { 0 };

	snprintf(dir, sizeof(dir), "%s/d", base);
	snprintf(lock, sizeof(lock), "%s/lock", dir);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	mkdir(dir, 0700);
	put(victim, "precious\n");
	cr_assert_eq(link(victim, lock), 0);
	cr_assert_eq(open_store(dir, &err), -EPERM);
	cr_assert(strstr(err.msg, lock) && strstr(err.msg, "hard link"), "%s", err.msg);
}

Test(store_trust, a_hard_linked_state_tmp_does_not_overwrite_its_other_name)
{
	char dir[128], tmp[160], victim[160];
	struct nr_model *m;
	struct nr_store *s;
	struct nr_err err = { 0 };
	const struct nr_store_meta meta = { .route_protocol = 201, .route_table = 254 };
	struct nr_cluster_config c;

	snprintf(dir, sizeof(dir), "%s/d", base);
	snprintf(tmp, sizeof(tmp), "%s/" NR_STORE_TMP, dir);
	snprintf(victim, sizeof(victim), "%s/victim", base);
	mkdir(dir, 0700);
	put(victim, "precious\n");
	cr_assert_eq(link(victim, tmp), 0);
	nr_config_init(&c);
	c.routing_mode = NR_MODE_NATIVE;
	nr_prefix_parse("10.0.0.0/16", &c.cluster_cidrs[c.n_cluster_cidrs++], NULL);
	cr_assert_eq(nr_model_new(&c, "node-1", &m, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_open(dir, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_store_save(s, m, &meta, &err), 0, "%s", err.msg);
	cr_assert_str_eq(slurp(victim), "precious\n", "the other name was overwritten");
	nr_store_close(s);
	nr_model_free(m);
}
