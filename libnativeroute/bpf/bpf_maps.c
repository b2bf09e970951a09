#include "bpf/bpf_maps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define BPF_FS_MAGIC_ 0xcafe4a11
#define BPFFS_LOCK "/run/nativeroute-bpffs.lock"

_Static_assert(sizeof(struct nr_bpf_route_key) == 24, "routes key layout");
_Static_assert(sizeof(struct nr_bpf_route_val) == 28, "routes value layout");
_Static_assert(sizeof(struct nr_bpf_endpoint_key) == 20, "endpoints key layout");
_Static_assert(sizeof(struct nr_bpf_endpoint_val) == 20, "endpoints value layout");
_Static_assert(sizeof(struct nr_bpf_stat) == 16, "stats value layout");

/* What each map must be; the tc program's object declares the same. */
struct map_spec {
	const char *pin;
	const char *name; /* kernel-visible name, <= 15 chars */
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
};

static const struct map_spec SPECS[4] = {
	{ NR_BPF_MAP_ROUTES, "nr_routes", BPF_MAP_TYPE_LPM_TRIE, sizeof(struct nr_bpf_route_key),
	  sizeof(struct nr_bpf_route_val), NR_BPF_ROUTES_MAX, BPF_F_NO_PREALLOC },
	{ NR_BPF_MAP_ENDPOINTS, "nr_endpoints", BPF_MAP_TYPE_HASH, sizeof(struct nr_bpf_endpoint_key),
	  sizeof(struct nr_bpf_endpoint_val), NR_BPF_ENDPOINTS_MAX, 0 },
	{ NR_BPF_MAP_STATS, "nr_stats", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint32_t),
	  sizeof(struct nr_bpf_stat), NR_BPF_STAT_MAX, 0 },
	{ NR_BPF_MAP_QDISCS, "nr_tc_qdiscs", BPF_MAP_TYPE_HASH, sizeof(uint32_t),
	  sizeof(struct nr_bpf_qdisc_val), NR_BPF_QDISCS_MAX, BPF_F_NO_PREALLOC },
};

int nr_bpf_instance_name(const char *node, const char *netns, char *buf, size_t len,
			 struct nr_err *err)
{
	char ns[64];
	int n;

	if (netns) {
		const char *base = strrchr(netns, '/');

		snprintf(ns, sizeof(ns), "%s", base ? base + 1 : netns);
	} else {
		struct stat st;

		if (stat("/proc/thread-self/ns/net", &st) < 0)
			return nr_err_set(err, -errno, "bpf: cannot identify this network namespace: %s",
					  strerror(errno));
		snprintf(ns, sizeof(ns), "netns-%llu", (unsigned long long)st.st_ino);
	}
	n = snprintf(buf, len, "%.180s@%s", node, ns);
	if (n < 0 || (size_t)n >= len)
		return nr_err_set(err, -ENAMETOOLONG, "bpf: instance name too long");
	for (char *c = buf; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '@' || *c == '-'))
			*c = '_';
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs s;

	return statfs(path, &s) == 0 && (unsigned long)s.f_type == BPF_FS_MAGIC_;
}

int nr_bpf_fs_ensure(bool *mounted, struct nr_err *err)
{
	int lock, rc = 0;

	*mounted = false;
	if (is_bpffs(NR_BPF_FS))
		return 0;
	lock = open(BPFFS_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock >= 0)
		flock(lock, LOCK_EX);
	if (!is_bpffs(NR_BPF_FS)) { /* nobody mounted it while we waited */
		if (mount("bpf", NR_BPF_FS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
			rc = nr_err_set(err, -errno, "bpf: bpffs is not mounted on %s and mounting it "
					"failed: %s", NR_BPF_FS, strerror(errno));
		else
			*mounted = true;
	}
	if (lock >= 0)
		close(lock); /* releases the flock */
	return rc;
}

static int mkdir_p(const char *dir, struct nr_err *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return nr_err_set(err, -errno, "bpf: mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return nr_err_set(err, -errno, "bpf: mkdir %s: %s", path, strerror(errno));
	return 0;
}

void nr_bpf_maps_init(struct nr_bpf_maps *m)
{
	memset(m, 0, sizeof(*m));
	m->routes_fd = m->eps_fd = m->stats_fd = m->qdiscs_fd = -1;
}

/* A pinned map we can keep: same type and sizes. */
static bool compatible(int fd, const struct map_spec *s, uint32_t *id)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	*id = info.id;
	return info.type == s->type && info.key_size == s->key_size &&
	       info.value_size == s->value_size && info.max_entries == s->max_entries &&
	       info.map_flags == s->flags;
}

static int open_one(struct nr_bpf_maps *m, const struct map_spec *s, int *fd_out, uint32_t *id_out,
		    struct nr_err *err)
{
	char path[PATH_MAX + 32];
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = s->flags);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", m->dir, s->pin);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (compatible(fd, s, id_out)) {
			*fd_out = fd;
			return 0;
		}
		/* another layout (an older NR_BPF_ABI_VERSION): replace it */
		close(fd);
		unlink(path);
	}
	fd = bpf_map_create(s->type, s->name, s->key_size, s->value_size, s->max_entries, &o);
	if (fd < 0)
		return nr_err_set(err, fd, "bpf: cannot create map %s: %s", s->pin, strerror(-fd));
	if (bpf_obj_pin(fd, path) < 0) {
		int e = -errno;

		close(fd);
		return nr_err_set(err, e, "bpf: cannot pin map at %s: %s", path, strerror(-e));
	}
	compatible(fd, s, id_out);
	*fd_out = fd;
	m->n_created++;
	return 0;
}

int nr_bpf_maps_open(const char *instance, struct nr_bpf_maps *m, struct nr_err *err)
{
	int rc;

	nr_bpf_maps_init(m);
	snprintf(m->dir, sizeof(m->dir), "%s/nativeroute/%s", NR_BPF_FS, instance);
	rc = mkdir_p(m->dir, err);
	if (rc == 0)
		rc = open_one(m, &SPECS[0], &m->routes_fd, &m->routes_id, err);
	if (rc == 0)
		rc = open_one(m, &SPECS[1], &m->eps_fd, &m->eps_id, err);
	if (rc == 0)
		rc = open_one(m, &SPECS[2], &m->stats_fd, &m->stats_id, err);
	if (rc == 0)
		rc = open_one(m, &SPECS[3], &m->qdiscs_fd, &m->qdiscs_id, err);
	if (rc < 0) {
		nr_bpf_maps_close(m);
		rmdir(m->dir); /* only when nothing was pinned in it */
	}
	return rc;
}

void nr_bpf_maps_close(struct nr_bpf_maps *m)
{
	if (m->routes_fd >= 0)
		close(m->routes_fd);
	if (m->eps_fd >= 0)
		close(m->eps_fd);
	if (m->stats_fd >= 0)
		close(m->stats_fd);
	if (m->qdiscs_fd >= 0)
		close(m->qdiscs_fd);
	m->routes_fd = m->eps_fd = m->stats_fd = m->qdiscs_fd = -1;
}

/* ---- read ----------------------------------------------------------------- */

#define DUMP_MAP(FD, KEYT, ENTRYT, ARR, N, WHAT)                                     \
	do {                                                                         \
		KEYT key, next;                                                      \
		size_t cap = 0;                                                      \
		void *prev = NULL;                                                   \
		while (bpf_map_get_next_key(FD, prev, &next) == 0) {                 \
			ENTRYT *e;                                                   \
			if ((N) == cap) {                                            \
				ENTRYT *g;                                           \
				cap = cap ? cap * 2 : 256;                           \
				g = realloc(ARR, cap * sizeof(*g));                  \
				if (!g)                                              \
					goto oom;                                    \
				ARR = g;                                             \
			}                                                            \
			key = next;                                                  \
			prev = &key;                                                 \
			e = &(ARR)[N];                                               \
			memset(e, 0, sizeof(*e));                                    \
			e->key = key;                                                \
			if (bpf_map_lookup_elem(FD, &key, &e->val) == 0)             \
				(N)++; /* gone between the two calls: skip */        \
		}                                                                    \
	} while (0)

int nr_bpf_maps_dump(const struct nr_bpf_maps *m, struct nr_bpf_entries *out, struct nr_err *err)
{
	memset(out, 0, sizeof(*out));
	DUMP_MAP(m->routes_fd, struct nr_bpf_route_key, struct nr_bpf_route_entry, out->routes,
		 out->n_routes, "routes");
	DUMP_MAP(m->eps_fd, struct nr_bpf_endpoint_key, struct nr_bpf_ep_entry, out->eps,
		 out->n_eps, "endpoints");
	nr_bpf_entries_sort(out);
	return 0;
oom:
	nr_bpf_entries_free(out);
	return nr_err_set(err, -ENOMEM, "bpf: out of memory reading the maps");
}

/* ---- write ---------------------------------------------------------------- */

static bool batch_unsupported(int rc)
{
	return rc == -EINVAL || rc == -EOPNOTSUPP || rc == -524 /* ENOTSUPP */;
}

/* Entries are laid out key,value,key,value...; batching needs the keys
 * and values in two arrays. */
static int update_many(int fd, const void *entries, size_t n, size_t ksz, size_t vsz,
		       bool *no_batch, const char *what, struct nr_err *err)
{
	const char *e = entries;
	size_t esz = ksz + vsz;
	int rc;

	if (!n)
		return 0;
	if (!*no_batch && n > 1) {
		char *keys = malloc(n * ksz), *vals = malloc(n * vsz);
		uint32_t count = (uint32_t)n;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		if (!keys || !vals) {
			free(keys);
			free(vals);
			return nr_err_set(err, -ENOMEM, "bpf: out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			memcpy(keys + i * ksz, e + i * esz, ksz);
			memcpy(vals + i * vsz, e + i * esz + ksz, vsz);
		}
		rc = bpf_map_update_batch(fd, keys, vals, &count, &o);
		free(keys);
		free(vals);
		if (rc == 0)
			return 0;
		if (!batch_unsupported(rc))
			return nr_err_set(err, rc, "bpf: updating %zu %s entries: %s", n, what, strerror(-rc));
		*no_batch = true; /* this map type has no batch ops: one by one */
	}
	for (size_t i = 0; i < n; i++) {
		rc = bpf_map_update_elem(fd, e + i * esz, e + i * esz + ksz, BPF_ANY);
		if (rc < 0)
			return nr_err_set(err, rc, "bpf: updating a %s entry: %s", what, strerror(-rc));
	}
	return 0;
}

static int delete_many(int fd, const void *keys, size_t n, size_t ksz, const char *what,
		       struct nr_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = bpf_map_delete_elem(fd, (const char *)keys + i * ksz);

		if (rc < 0 && rc != -ENOENT)
			return nr_err_set(err, rc, "bpf: deleting a %s entry: %s", what, strerror(-rc));
	}
	return 0;
}

int nr_bpf_maps_apply(struct nr_bpf_maps *m, const struct nr_bpf_diff *d, struct nr_err *err)
{
	int rc = update_many(m->routes_fd, d->put_routes, d->n_put_routes,
			     sizeof(struct nr_bpf_route_key), sizeof(struct nr_bpf_route_val),
			     &m->no_route_batch, NR_BPF_MAP_ROUTES, err);

	if (rc == 0)
		rc = update_many(m->eps_fd, d->put_eps, d->n_put_eps, sizeof(struct nr_bpf_endpoint_key),
				 sizeof(struct nr_bpf_endpoint_val), &m->no_ep_batch,
				 NR_BPF_MAP_ENDPOINTS, err);
	if (rc == 0)
		rc = delete_many(m->routes_fd, d->del_routes, d->n_del_routes,
				 sizeof(struct nr_bpf_route_key), NR_BPF_MAP_ROUTES, err);
	if (rc == 0)
		rc = delete_many(m->eps_fd, d->del_eps, d->n_del_eps,
				 sizeof(struct nr_bpf_endpoint_key), NR_BPF_MAP_ENDPOINTS, err);
	return rc;
}

int nr_bpf_maps_stats(const struct nr_bpf_maps *m, struct nr_bpf_stat out[NR_BPF_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	struct nr_bpf_stat *per;

	memset(out, 0, NR_BPF_STAT_MAX * sizeof(*out));
	if (ncpu <= 0 || m->stats_fd < 0)
		return ncpu <= 0 ? ncpu : -EBADF;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	for (uint32_t k = 0; k < NR_BPF_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(m->stats_fd, &k, per) < 0)
			continue;
		for (int c = 0; c < ncpu; c++) {
			out[k].packets += per[c].packets;
			out[k].bytes += per[c].bytes;
		}
	}
	free(per);
	return 0;
}

int nr_bpf_pins_remove(const char *instance, struct nr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *names[4] = { NR_BPF_MAP_ROUTES, NR_BPF_MAP_ENDPOINTS, NR_BPF_MAP_STATS,
				 NR_BPF_MAP_QDISCS };

	if (!is_bpffs(NR_BPF_FS))
		return 0; /* nothing can be pinned */
	snprintf(dir, sizeof(dir), "%s/nativeroute/%s", NR_BPF_FS, instance);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			return nr_err_set(err, -errno, "bpf: cannot remove %s: %s", path, strerror(errno));
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		return nr_err_set(err, -errno, "bpf: cannot remove %s: %s", dir, strerror(errno));
	rmdir(NR_BPF_FS "/nativeroute"); /* only when no other instance is left */
	return 0;
}
