/* nr_ctl_new failing for want of memory after it made the state directory:
 * "an error means nothing changed", so the directory (and its parents that
 * it made, and its lock file) must be gone again. Every allocation after
 * the directory's mkdir is failed in turn, the 1st, the 2nd, ... until
 * nr_ctl_new gets through.
 *
 * The allocation-failure hook: this executable is linked with
 * -Wl,--wrap=malloc,... (tests/CMakeLists.txt), so the library's objects
 * (static, linked in) call the __wrap_ functions below, which pass on to
 * the real allocator (ASan's) unless told to fail. The fake kernel stands
 * in for netlink (no root needed). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nativeroute/controller.h>
#include <nativeroute/opts.h>

#include "ctl/ctl_kernel.h"
#include "fake_kernel.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
int __real_mkdir(const char *path, mode_t mode);

static struct {
	const char *armed_dir; /* counting starts at its mkdir (made or found) */
	bool counting;
	unsigned long count, fail_at; /* fail the fail_at-th allocation (1-based) */
	bool failed;
} hook;

static bool fail_now(void)
{
	if (!hook.counting || hook.failed || ++hook.count != hook.fail_at)
		return false;
	hook.failed = true; /* one failure per attempt: the error path runs as it would */
	return true;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }

int __wrap_mkdir(const char *path, mode_t mode)
{
	int rc = __real_mkdir(path, mode);

	if (hook.armed_dir && !strcmp(path, hook.armed_dir))
		hook.counting = true;
	return rc;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* A temporary directory; the state directory goes two levels below it. */
static char base[] = "/tmp/nr-oom-XXXXXX", top[64], dir[64], lock[80];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(base));
	snprintf(top, sizeof(top), "%s/a", base); /* made by nr_ctl_new, as its parent */
	snprintf(dir, sizeof(dir), "%s/a/state", base);
	snprintf(lock, sizeof(lock), "%s/lock", dir);
}

static void remove_state(bool keep_dir)
{
	unlink(lock);
	if (!keep_dir) {
		rmdir(dir);
		rmdir(top);
	}
}

static void teardown(void) /* also after a failed assertion */
{
	remove_state(false);
	rmdir(base);
}

TestSuite(ctl_new_oom, .init = setup, .fini = teardown);

/* nr_ctl_new with its 1st, 2nd, ... allocation after the state
 * directory's mkdir failing, until one gets through; after each refusal
 * check() holds. Returns how many were refused. */
static unsigned long fail_each_allocation(bool existing_dir, void (*check)(void))
{
	static const char *const local_cidrs[] = { "10.0.0.0/24", NULL };
	static const char *const cluster[] = { "10.0.0.0/16", NULL };
	struct fake_kernel *fk = fake_kernel_new();
	struct nr_kernel k = fake_kernel_handle(fk);
	uint32_t table = 100000 + (uint32_t)getpid();
	unsigned long refused = 0;
	uv_loop_t loop;
	int rc = -1;

	fake_kernel_set_owner(fk, table, 201);
	fake_kernel_add_link(fk, 2, "eth0", 1500);
	fake_kernel_add_addr(fk, 2, "192.168.1.10/24");
	cr_assert_eq(uv_loop_init(&loop), 0);
	NR_OPTS(nr_ctl_opts, o, .node_name = "node-0", .node_ipv4 = "192.168.1.10",
		.ipam_mode = NR_IPAM_KUBERNETES, .pod_cidrs = local_cidrs, .cluster_cidrs = cluster,
		.auto_direct_node_routes = true, .route_table = table,
		.masquerade_ipv4 = NR_SWITCH_OFF, .state_dir = dir);

	for (hook.fail_at = 1; hook.fail_at < 100000; hook.fail_at++) {
		struct nr_ctl *ctl = NULL;

		hook.armed_dir = dir;
		hook.counting = hook.failed = false;
		hook.count = 0;
		rc = nr_ctl_new_with_kernel(&loop, &o, &k, &ctl);
		hook.counting = false;
		hook.armed_dir = NULL;
		if (rc == 0) { /* a failure it can do without (a cache), or none left */
			cr_assert(exists(lock), "a working controller has its lock file");
			cr_assert_eq(nr_ctl_close(ctl, NULL, NULL), 0);
			cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
			if (!hook.failed)
				break; /* no allocation left to fail: it got through */
			remove_state(existing_dir); /* the next one starts as this one did */
			continue;
		}
		cr_assert(hook.failed, "nr_ctl_new failed with nothing failed: %s", nr_last_errmsg());
		cr_assert_eq(rc, -ENOMEM, "allocation %lu: %s", hook.fail_at, nr_last_errmsg());
		check();
		refused++;
	}
	cr_assert_eq(rc, 0, "nr_ctl_new never got through");
	/* the directory is there before the first allocation we fail: each of
	 * these ran an error path after it */
	cr_assert_gt(refused, 3, "only %lu allocations after the mkdir", refused);
	cr_assert_eq(uv_loop_close(&loop), 0);
	fake_kernel_free(fk);
	return refused;
}

static void nothing_stays(void)
{
	cr_assert(!exists(top), "allocation %lu failed (%s), and %s stayed", hook.fail_at,
		  nr_last_errmsg(), exists(lock) ? lock : exists(dir) ? dir : top);
}

Test(ctl_new_oom, every_allocation_failure_after_the_state_directory_leaves_none)
{
	unsigned long n = fail_each_allocation(false, nothing_stays);

	cr_log_info("%lu allocation failures after the state directory, none left it\n", n);
}

static void only_the_lock_goes(void)
{
	cr_assert(exists(dir), "allocation %lu failed (%s): the caller's directory went",
		  hook.fail_at, nr_last_errmsg());
	cr_assert(!exists(lock), "allocation %lu failed (%s): the lock file we made stayed",
		  hook.fail_at, nr_last_errmsg());
}

Test(ctl_new_oom, a_directory_that_was_there_stays_without_the_lock_file_it_got)
{
	cr_assert_eq(mkdir(top, 0700), 0);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_log_info("%lu allocation failures in an existing state directory\n",
		    fail_each_allocation(true, only_the_lock_goes));
}
