/* Masquerading in the controller (see ctl_masq.h).
 *
 * State: the table we want (script + its listing), generation numbers (gen
 * grows when the plan changes; done_gen is the last one the kernel was seen
 * to hold), at most one job in flight, and the requests waiting for it.
 * Drift: a job that had to change a table we had already brought in line,
 * with no change of plan in between, found someone else's hand on it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl_masq.h"
#include "ctl/ctl_pending.h"
#include "netlink/nl_netns.h"
#include "nft/masq_plan.h"
#include "nft/nft_run.h"
#include "util/opts_internal.h"

#define NR_MASQ_RETRY_MS 1000

struct masq_job {
	uv_work_t req;
	struct nr_ctl *ctl;   /* NULL: the controller is gone, free and leave */
	const struct nr_kernel_ops *k; /* the controller's kernel (ctl_kernel.h) */
	void *k_ctx;
	int netns_fd;
	uint64_t gen;
	bool purge;
	char *script, *expect, *expect2;
	char table[NR_MASQ_TABLE_NAME_MAX];
	struct nr_nft_sync sync;
	struct nr_err err;    /* the thread could not run */
};

/* A pass's requests, waiting for the job that programs what they changed. */
struct hold {
	struct hold *next;
	uint64_t gen;
	struct nr_pending *list;
	struct nr_ctl_failure *fails;
	size_t n_fails;
	int status;
	char msg[NR_ERR_MSG_MAX];
};

struct nr_ctl_masq {
	struct nr_masq_config cfg;
	char table[NR_MASQ_TABLE_NAME_MAX]; /* ours, in family inet */
	char what[NR_MASQ_TABLE_NAME_MAX + 32]; /* "nftables table inet <name>", for messages */
	int netns_fd;
	struct nr_masq_plan plan;
	char *want_script;    /* NULL: no table */
	char *want_listing;
	char *learned;        /* this nft's listing of want, when it differs from ours */
	uint64_t gen, done_gen;
	bool synced;          /* the kernel was in line once: later changes are drift */
	bool verify;          /* look at the kernel at the next chance */
	uint64_t seen_resyncs;
	struct masq_job *job;
	struct hold *holds, **holds_tail;
	bool releasing;
	struct nr_err last;   /* the last job's failure, code 0 after a success */
	void (*purge_then)(struct nr_ctl *ctl, int status, const char *msg);
	struct nr_masq_watch *watch; /* NULL: no events, the periodic resync looks */
};

static int config_from_opts(struct nr_masq_config *mc, const struct nr_ctl_opts *o,
			    const struct nr_cluster_config *cfg, struct nr_err *err)
{
	int rc = nr_masq_config_parse(mc, OPTS_GET(o, masquerade_ipv4, NR_SWITCH_KEEP),
				      OPTS_GET(o, masquerade_ipv6, NR_SWITCH_KEEP),
				      OPTS_GET(o, non_masquerade_cidrs, NULL), nr_nft_supported(), err);

	return rc < 0 ? rc : nr_masq_config_check(mc, cfg, err);
}

int nr_ctl_masq_check_opts(const struct nr_ctl_opts *o, const struct nr_cluster_config *cfg,
			   struct nr_err *err)
{
	struct nr_masq_config mc;

	return config_from_opts(&mc, o, cfg, err);
}

int nr_ctl_masq_new(struct nr_ctl *ctl, const struct nr_ctl_opts *o, struct nr_err *err)
{
	struct nr_ctl_masq *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return nr_err_set(err, -ENOMEM, "out of memory");
	m->netns_fd = -1;
	m->holds_tail = &m->holds;
	m->verify = true; /* the first pass adopts what is there */
	ctl->masq = m;
	nr_masq_table_name(ctl->owner.table, ctl->owner.protocol, m->table, sizeof(m->table));
	snprintf(m->what, sizeof(m->what), "nftables table " NR_MASQ_TABLE_FAMILY " %s", m->table);
	/* checked before any side effect (nr_ctl_masq_check_opts); the model's
	 * configuration takes its CIDRs from the same options */
	rc = config_from_opts(&m->cfg, o, nr_model_config(ctl->model), err);
	if (rc < 0)
		return rc;
	/* the jobs enter it (no name: the namespace of the thread creating the
	 * controller, where its netlink sockets live too) */
	m->netns_fd = nr_nl_netns_open(ctl->netns, err);
	if (m->netns_fd < 0)
		return m->netns_fd;
	/* without events (no nf_tables in this kernel?) drift is still found by
	 * the periodic resync; programming will report the real problem */
	if (nr_nft_supported() && nr_masq_watch_open(m->netns_fd, m->table, &m->watch, NULL) < 0)
		m->watch = NULL;
	return 0;
}

int nr_ctl_masq_watch_start(struct nr_ctl *ctl)
{
	return ctl->masq ? nr_masq_watch_start(ctl->masq->watch, ctl->loop, ctl,
						  nr_ctl_masq_recheck) : 0;
}

int nr_ctl_masq_close(struct nr_ctl *ctl, uv_close_cb cb)
{
	return ctl->masq ? nr_masq_watch_close(ctl->masq->watch, cb) : 0;
}

void nr_ctl_masq_recheck(struct nr_ctl *ctl)
{
	struct nr_ctl_masq *m = ctl->masq;

	if (!m || m->purge_then || !ctl->started)
		return;
	m->verify = true;
	nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
}

static void holds_free(struct nr_ctl_masq *m)
{
	while (m->holds) {
		struct hold *h = m->holds;

		m->holds = h->next;
		free(h->fails);
		free(h);
	}
	m->holds_tail = &m->holds;
}

void nr_ctl_masq_free(struct nr_ctl *ctl)
{
	struct nr_ctl_masq *m = ctl->masq;

	if (!m)
		return;
	if (m->job)
		m->job->ctl = NULL; /* uv_work cannot be taken back once running */
	holds_free(m);
	nr_masq_watch_free(m->watch); /* its handle was closed with the others */
	if (m->netns_fd >= 0)
		close(m->netns_fd);
	free(m->want_script);
	free(m->want_listing);
	free(m->learned);
	free(m);
	ctl->masq = NULL;
}

/* ---- planning --------------------------------------------------------------- */

static void plan_now(struct nr_ctl *ctl)
{
	struct nr_ctl_masq *m = ctl->masq;
	const struct nr_node *self = nr_model_local_node(ctl->model);
	static const struct nr_prefix none;

	nr_masq_plan(&m->cfg, nr_model_config(ctl->model), self ? &self->cidr4 : &none,
		     self ? &self->cidr6 : &none, m->table, &m->plan);
}

/* The plan's text; a new generation when it differs from the last. */
static int replan(struct nr_ctl *ctl)
{
	struct nr_ctl_masq *m = ctl->masq;
	char *script = NULL, *listing = NULL;

	plan_now(ctl);
	if (nr_masq_plan_any(&m->plan)) {
		script = nr_masq_script(&m->plan);
		listing = nr_masq_render(&m->plan);
		if (!script || !listing) {
			free(script);
			free(listing);
			return -ENOMEM;
		}
	}
	if (m->gen && (script == m->want_script ||
		       (script && m->want_script && !strcmp(script, m->want_script)))) {
		free(script);
		free(listing);
		return 0;
	}
	free(m->want_script);
	free(m->want_listing);
	free(m->learned);
	m->want_script = script;
	m->want_listing = listing;
	m->learned = NULL;
	m->gen++;
	return 0;
}

/* ---- jobs ------------------------------------------------------------------- */

static void job_free(struct masq_job *j)
{
	if (j->netns_fd >= 0)
		close(j->netns_fd);
	free(j->script);
	free(j->expect);
	free(j->expect2);
	nr_nft_sync_free(&j->sync);
	free(j);
}

static void work_cb(uv_work_t *req)
{
	struct masq_job *j = req->data;

	j->k->nft_sync(j->k_ctx, j->netns_fd, &j->sync, &j->err);
}

static void after_cb(uv_work_t *req, int status);

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

/* The job owns copies of everything it reads: the controller may be freed
 * while it runs. */
static int job_start(struct nr_ctl *ctl, bool purge)
{
	struct nr_ctl_masq *m = ctl->masq;
	struct masq_job *j = calloc(1, sizeof(*j));
	bool oom = false;
	int rc;

	if (!j)
		return -ENOMEM;
	j->ctl = ctl;
	j->k = ctl->k;
	j->k_ctx = ctl->k_ctx;
	j->gen = m->gen;
	j->purge = purge;
	j->req.data = j;
	snprintf(j->table, sizeof(j->table), "%s", m->table);
	j->netns_fd = fcntl(m->netns_fd, F_DUPFD_CLOEXEC, 0);
	if (!purge) {
		j->script = dup_or_null(m->want_script, &oom);
		j->expect = dup_or_null(m->want_listing, &oom);
		j->expect2 = dup_or_null(m->learned, &oom);
	}
	if (oom || j->netns_fd < 0) {
		rc = j->netns_fd < 0 ? -errno : -ENOMEM;
		job_free(j);
		return rc;
	}
	j->sync.script = j->script;
	j->sync.expect = j->expect;
	j->sync.expect2 = j->expect2;
	j->sync.table = j->table;
	rc = uv_queue_work(ctl->loop, &j->req, work_cb, after_cb);
	if (rc < 0) {
		job_free(j);
		return rc;
	}
	m->job = j;
	m->verify = false;
	return 0;
}

static void fail_now(struct nr_ctl *ctl, int rc, const char *what)
{
	struct nr_ctl_masq *m = ctl->masq;

	nr_err_set(&m->last, rc, "masquerading: cannot %s: %s", what, strerror(-rc));
	nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, m->what, "%s", m->last.msg);
	m->verify = true;
	nr_ctl_schedule(ctl, NR_MASQ_RETRY_MS);
}

static bool job_needed(const struct nr_ctl_masq *m)
{
	return m->gen != m->done_gen || m->verify;
}

void nr_ctl_masq_pass(struct nr_ctl *ctl)
{
	struct nr_ctl_masq *m = ctl->masq;
	int rc;

	if (!m || m->purge_then)
		return;
	if (ctl->resyncs != m->seen_resyncs) { /* the periodic resync covers us too */
		m->seen_resyncs = ctl->resyncs;
		m->verify = true;
	}
	rc = replan(ctl);
	if (rc < 0) {
		fail_now(ctl, rc, "plan");
		return;
	}
	if (!m->job && job_needed(m)) {
		rc = job_start(ctl, false);
		if (rc < 0)
			fail_now(ctl, rc, "start the nftables job");
	}
}

/* ---- waiting requests --------------------------------------------------------- */

static void release(struct nr_ctl *ctl, uint64_t upto, const struct nr_err *fail);

bool nr_ctl_masq_hold(struct nr_ctl *ctl, struct nr_pending *list,
		      const struct nr_ctl_failure *fails, size_t n_fails,
		      int status, const char *msg)
{
	struct nr_ctl_masq *m = ctl->masq;
	struct hold *h;
	/* the job this pass needed could not even start: its requests get the
	 * failure now, as if it had run and failed */
	bool failed_now = m && !m->job && m->last.code < 0 && job_needed(m);

	if (!m || m->releasing || (!m->job && !failed_now) || !list)
		return false;
	h = calloc(1, sizeof(*h));
	if (h && n_fails) {
		h->fails = malloc(n_fails * sizeof(*fails));
		if (!h->fails) {
			free(h);
			h = NULL;
		} else {
			memcpy(h->fails, fails, n_fails * sizeof(*fails));
		}
	}
	if (!h)
		return false; /* answer now rather than lose them */
	h->gen = m->gen;
	h->list = list;
	h->n_fails = n_fails;
	h->status = status;
	snprintf(h->msg, sizeof(h->msg), "%s", msg ? msg : "");
	*m->holds_tail = h;
	m->holds_tail = &h->next;
	if (failed_now)
		release(ctl, m->gen, &m->last);
	return true;
}

/* Answer the requests the finished job covered; its failure goes to them
 * like a failed kernel operation that belongs to no node (start and mode
 * requests take it, see nr_ctl_pending_finish). */
static void release(struct nr_ctl *ctl, uint64_t upto, const struct nr_err *fail)
{
	struct nr_ctl_masq *m = ctl->masq;
	struct hold **pp = &m->holds;

	while (*pp) {
		struct hold *h = *pp;
		struct nr_ctl_failure *fails = h->fails;
		size_t n = h->n_fails;

		if (h->gen > upto) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		if (!*pp)
			m->holds_tail = pp;
		if (fail && fail->code < 0) {
			struct nr_ctl_failure *grown = realloc(fails, (n + 1) * sizeof(*grown));

			if (grown) {
				fails = grown;
				memset(&fails[n], 0, sizeof(fails[n]));
				fails[n].code = fail->code;
				snprintf(fails[n].text, sizeof(fails[n].text), "%s", fail->msg);
				n++;
			}
		}
		m->releasing = true;
		nr_ctl_pending_finish(ctl, h->list, fails, n, h->status, h->msg);
		m->releasing = false;
		free(fails);
		free(h);
		if (!ctl->masq) /* a callback closed the controller: nothing is left */
			return;
	}
}

void nr_ctl_masq_cancel(struct nr_ctl *ctl, const char *msg)
{
	struct nr_ctl_masq *m = ctl->masq;

	while (m && m->holds) {
		struct hold *h = m->holds;
		struct nr_pending *p = h->list;

		m->holds = h->next;
		if (!m->holds)
			m->holds_tail = &m->holds;
		while (p) {
			struct nr_pending *next = p->next;

			nr_ctl_pending_run(ctl, p, -ECANCELED, msg);
			p = next;
		}
		free(h->fails);
		free(h);
	}
}

/* ---- a job is done ------------------------------------------------------------ */

static void purge_done(struct nr_ctl *ctl, bool still_there, int rc, const char *msg)
{
	struct nr_ctl_masq *m = ctl->masq;
	void (*then)(struct nr_ctl *, int, const char *) = m->purge_then;
	char text[NR_ERR_MSG_MAX];

	m->purge_then = NULL;
	if (rc == 0 && still_there) {
		rc = -ENOTEMPTY;
		snprintf(text, sizeof(text), "purge: %s still present after deleting it", m->what);
		msg = text;
	}
	then(ctl, rc, rc == 0 ? "" : msg);
}

static void synced(struct nr_ctl *ctl, struct masq_job *j)
{
	struct nr_ctl_masq *m = ctl->masq;

	/* in line before, same plan since, yet changed: someone else's hand */
	if (j->sync.changed && m->synced && j->gen == m->done_gen) {
		ctl->drift_repairs++;
		nr_ctl_emit(ctl, NR_EVENT_DRIFT_REPAIRED, NULL, m->what,
			    "%s %s outside the controller; restored", m->what,
			    j->sync.was_present ? "was changed" : "was deleted");
	}
	/* how this nft prints what we asked for, if not exactly as we render
	 * it: accepted from now on, so the next look does not replace it */
	if (j->gen == m->gen && j->script && j->sync.listing && !j->sync.readback_failed &&
	    !nr_masq_listing_eq(j->sync.listing, j->expect) &&
	    !(m->learned && nr_masq_listing_eq(j->sync.listing, m->learned))) {
		free(m->learned);
		m->learned = strdup(j->sync.listing);
	}
	m->done_gen = j->gen;
	m->synced = true;
	nr_err_clear(&m->last);
	if (j->sync.readback_failed)
		m->verify = true; /* committed, but unseen: look again */
}

static void after_cb(uv_work_t *req, int status)
{
	struct masq_job *j = req->data;
	struct nr_ctl *ctl = j->ctl;
	struct nr_ctl_masq *m;
	const struct nr_err *e = j->err.code ? &j->err : &j->sync.err;
	int rc = status < 0 ? status : e->code;

	if (!ctl) {
		job_free(j);
		return;
	}
	m = ctl->masq;
	m->job = NULL;
	if (j->purge) {
		if (rc == 0 && j->sync.readback_failed) /* purge must prove the table is gone */
			purge_done(ctl, false, -EIO, "purge: our nftables table was deleted but "
				   "could not be listed again to check");
		else
			purge_done(ctl, j->sync.listing != NULL, rc,
				   status < 0 ? "cancelled" : e->msg);
		job_free(j);
		return;
	}
	if (rc < 0) {
		nr_err_set(&m->last, rc, "masquerading: %s", status < 0 ? "cancelled" : e->msg);
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, m->what, "%s", m->last.msg);
		m->verify = true;
		nr_ctl_schedule(ctl, NR_MASQ_RETRY_MS);
	} else {
		synced(ctl, j);
	}
	release(ctl, j->gen, &m->last);
	job_free(j);
	if (!ctl->masq || ctl->closing)
		return;
	if (m->purge_then) {
		if (job_start(ctl, true) < 0)
			purge_done(ctl, false, -ENOMEM, "masquerading: cannot start the nftables job");
	} else if (rc == 0 && ctl->started && job_needed(m) && job_start(ctl, false) < 0) {
		fail_now(ctl, -ENOMEM, "start the nftables job");
	}
}

/* ---- purge -------------------------------------------------------------------- */

void nr_ctl_masq_purge(struct nr_ctl *ctl,
		       void (*then)(struct nr_ctl *ctl, int status, const char *msg))
{
	struct nr_ctl_masq *m = ctl->masq;
	int rc;

	m->purge_then = then;
	nr_masq_watch_stop(m->watch); /* our own deletion is no drift */
	if (m->job)
		return; /* after_cb starts the purge when the running job is done */
	rc = job_start(ctl, true);
	if (rc < 0) {
		m->purge_then = NULL;
		then(ctl, rc, "masquerading: cannot start the nftables job");
	}
}

/* ---- status ------------------------------------------------------------------- */

void nr_ctl_masq_status(struct nr_ctl *ctl, struct nr_status *s)
{
	struct nr_ctl_masq *m = ctl->masq;
	size_t off;

	if (!m)
		return;
	if (!m->gen) /* not planned yet (before the first pass) */
		plan_now(ctl);
	s->masquerade_ipv4 = m->plan.fam[0].on;
	s->masquerade_ipv6 = m->plan.fam[1].on;
	s->masquerade_programmed = m->synced && m->done_gen == m->gen && !m->last.code;
	nr_masq_excluded_str(&m->plan, s->masquerade_excluded, sizeof(s->masquerade_excluded));
	nr_masq_note_str(&m->plan, s->masquerade_note, sizeof(s->masquerade_note));
	off = strlen(s->masquerade_note);
	if (m->last.code) { /* the error last: truncated if it must be */
		size_t room = sizeof(s->masquerade_note) - off;
		int n = snprintf(s->masquerade_note + off, room, "%s%s", off ? "; " : "", m->last.msg);

		if (n < 0 || (size_t)n >= room)
			s->masquerade_note[sizeof(s->masquerade_note) - 1] = '\0';
	}
}
