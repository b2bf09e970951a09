/* nr_nft_sync_run with libnftables (see nft_run.h).
 *
 * libnftables promises nothing about threads (1.0.x keeps some state in
 * globals), so every use in this process goes through one mutex; the work
 * is a few netlink round trips, well under a millisecond here. */
#include "nft/nft_run.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "nft/masq_plan.h"

static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

bool nr_nft_supported(void)
{
	return true;
}

/* libnftables reports text only; take the errno back out of the words the
 * kernel's strerror put there, so callers get a meaningful code. */
static int code_of(const char *text)
{
	static const struct { const char *words; int code; } map[] = {
		{ "Operation not permitted", -EPERM },
		{ "Permission denied", -EACCES },
		{ "No such file or directory", -ENOENT },
		{ "Operation not supported", -EOPNOTSUPP },
		{ "Protocol not supported", -EPROTONOSUPPORT },
		{ "Device or resource busy", -EBUSY },
		{ "Cannot allocate memory", -ENOMEM },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(text, map[i].words))
			return map[i].code;
	return -EIO;
}

static int fail(struct nr_nft_sync *s, struct nft_ctx *ctx, const char *what)
{
	const char *e = nft_ctx_get_error_buffer(ctx);
	size_t n;

	e = e ? e : "";
	n = strcspn(e, "\n"); /* the first line says it; the rest points at the text */
	return nr_err_set(&s->err, code_of(e), "nftables: %s " NR_MASQ_TABLE_FAMILY " %s: %.*s",
			  what, s->table, (int)n, *e ? e : "failed");
}

static int run(struct nft_ctx *ctx, const char *cmd)
{
	return nft_run_cmd_from_buffer(ctx, cmd);
}

/* Whether our table exists: from the list of tables, not from the text of
 * an error. */
static int present(struct nr_nft_sync *s, struct nft_ctx *ctx, bool *yes)
{
	char want[NR_MASQ_TABLE_NAME_MAX + 16];
	const char *out;

	if (run(ctx, "list tables " NR_MASQ_TABLE_FAMILY) != 0)
		return fail(s, ctx, "list tables of");
	out = nft_ctx_get_output_buffer(ctx);
	snprintf(want, sizeof(want), "table " NR_MASQ_TABLE_FAMILY " %s", s->table);
	*yes = false;
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		size_t n = strcspn(l, "\n");

		if (n == strlen(want) && !strncmp(l, want, n))
			*yes = true;
	}
	return 0;
}

static int list(struct nr_nft_sync *s, struct nft_ctx *ctx)
{
	char cmd[NR_MASQ_TABLE_NAME_MAX + 32];
	bool yes = false;
	int rc = present(s, ctx, &yes);

	free(s->listing);
	s->listing = NULL;
	if (rc < 0 || !yes)
		return rc;
	snprintf(cmd, sizeof(cmd), "list table " NR_MASQ_TABLE_FAMILY " %s", s->table);
	if (run(ctx, cmd) != 0)
		return fail(s, ctx, "list");
	s->listing = strdup(nft_ctx_get_output_buffer(ctx));
	return s->listing ? 0 : nr_err_set(&s->err, -ENOMEM, "out of memory");
}

static void sync_locked(struct nr_nft_sync *s, struct nft_ctx *ctx)
{
	if (list(s, ctx) < 0)
		return;
	s->was_present = s->listing != NULL;
	if (!s->script) {
		s->was_planned = !s->was_present;
		if (s->was_planned)
			return;
		s->changed = true;
		/* created-if-missing first: a table deleted meanwhile is no error */
		char cmd[2 * NR_MASQ_TABLE_NAME_MAX + 64];

		snprintf(cmd, sizeof(cmd), "table " NR_MASQ_TABLE_FAMILY " %s\ndelete table "
			 NR_MASQ_TABLE_FAMILY " %s", s->table, s->table);
		if (run(ctx, cmd) != 0) {
			fail(s, ctx, "delete");
			return;
		}
	} else {
		s->was_planned = s->was_present && (nr_masq_listing_eq(s->listing, s->expect) ||
						    (s->expect2 && nr_masq_listing_eq(s->listing, s->expect2)));
		if (s->was_planned)
			return; /* adopted: not one message to the kernel */
		s->changed = true;
		if (run(ctx, s->script) != 0) { /* one transaction: nothing changed */
			fail(s, ctx, "replace");
			return;
		}
	}
	/* read back what the kernel now holds; the transaction is committed
	 * whatever happens here, so a failed read is no failure of the sync
	 * ("an error means nothing changed"): the caller just looks again */
	if (list(s, ctx) < 0) {
		nr_err_clear(&s->err);
		s->readback_failed = true;
	}
}

void nr_nft_sync_run(struct nr_nft_sync *s)
{
	struct nft_ctx *ctx;

	nr_err_clear(&s->err);
	pthread_mutex_lock(&nft_lock);
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		nr_err_set(&s->err, -ENOMEM, "nftables: cannot create a context");
	} else if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nr_err_set(&s->err, -ENOMEM, "nftables: cannot buffer output");
	} else {
		sync_locked(s, ctx);
	}
	if (ctx)
		nft_ctx_free(ctx);
	pthread_mutex_unlock(&nft_lock);
}

void nr_nft_sync_free(struct nr_nft_sync *s)
{
	free(s->listing);
	s->listing = NULL;
}
