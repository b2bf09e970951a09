/* libcurl multi on a libuv loop (see etcd_http.h). One uv_timer_t for
 * curl's timeouts, one uv_poll_t per socket curl asks us to watch; every
 * curl call happens from a libuv callback, never from the caller's call. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "store/etcd_codec.h"
#include "store/etcd_http.h"

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_CONNECT_MS 2000
#define MAX_BODY (4u << 20) /* etcd refuses requests over 1.5 MiB; answers stay near */

struct nr_etcd_req {
	struct nr_etcd_req *next, *prev;
	struct nr_etcd_http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *path, *body;
	bool stream, canceled;
	bool authing;          /* the current transfer is /v3/auth/authenticate */
	bool reauthed;         /* one re-authentication per request */
	unsigned int tries;    /* endpoints tried for this request */
	unsigned int timeout_ms; /* per endpoint tried; 0 = the client's */
	size_t ep;             /* the endpoint the current transfer goes to */
	bool pinned;           /* a probe: that endpoint only, no fail-over */
	nr_etcd_http_cb cb;
	nr_etcd_line_cb line_cb;
	void *data;
	char *buf;             /* answer (unary) or the incomplete line (stream) */
	size_t len, cap;
	char errbuf[CURL_ERROR_SIZE];
	char trail[512];       /* what failed on the endpoints tried */
};

struct sock_ctx {
	struct sock_ctx *next, *prev;
	uv_poll_t poll;
	curl_socket_t fd;
	struct nr_etcd_http *h;
};

/* What we last saw of one member: a failure (transport error, timeout,
 * 502/503/504) marks it, any other answer from it clears it. */
struct ep_state {
	bool failed;
	int64_t since;         /* unix seconds of the first failure in a row */
	char why[200];
	struct nr_etcd_req *probe;
};

struct nr_etcd_http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	char **endpoints;
	struct ep_state *eps;
	size_t n_endpoints, cur;
	nr_etcd_ep_cb ep_cb;
	void *ep_data;
	char *ca, *cert, *key, *user, *password;
	char *token;
	unsigned int timeout_ms, connect_ms;
	struct nr_etcd_req *reqs;
	struct sock_ctx *socks;  /* polled sockets (idle cached connections too) */
	int open;              /* uv handles not yet closed (timer + polls) */
	bool closing, in_action;
	struct nr_etcd_req *delivering; /* its line callback runs */
	void (*close_cb)(void *);
	void *close_data;
};

static void req_free(struct nr_etcd_req *r)
{
	struct nr_etcd_http *h = r->h;

	if (r->easy) {
		curl_multi_remove_handle(h->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	if (r->pinned && h->eps[r->ep].probe == r)
		h->eps[r->ep].probe = NULL;
	if (r->prev)
		r->prev->next = r->next;
	else if (h->reqs == r)
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	curl_slist_free_all(r->headers);
	free(r->path);
	free(r->body);
	free(r->buf);
	free(r);
}

static bool req_alive(struct nr_etcd_http *h, const struct nr_etcd_req *r)
{
	for (struct nr_etcd_req *x = h->reqs; x; x = x->next)
		if (x == r)
			return true;
	return false;
}

/* ---- curl <-> uv ----------------------------------------------------------- */

static void maybe_free_http(struct nr_etcd_http *h);

static void sock_closed(uv_handle_t *hd)
{
	struct sock_ctx *s = hd->data;
	struct nr_etcd_http *h = s->h;

	free(s);
	h->open--;
	maybe_free_http(h);
}

static void sock_forget(struct nr_etcd_http *h, struct sock_ctx *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static void sweep_canceled(struct nr_etcd_http *h)
{
	struct nr_etcd_req *r = h->reqs, *next;

	for (; r; r = next) {
		next = r->next;
		if (r->canceled)
			req_free(r);
	}
}

static void finish_transfer(struct nr_etcd_http *h, struct nr_etcd_req *r, CURLcode res);
static void deliver_lines(struct nr_etcd_http *h);

static void check_done(struct nr_etcd_http *h)
{
	CURLMsg *m;
	int left;

	while (!h->closing && (m = curl_multi_info_read(h->multi, &left))) {
		struct nr_etcd_req *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r || !req_alive(h, r))
			continue;
		finish_transfer(h, r, m->data.result);
	}
	if (!h->closing)
		sweep_canceled(h);
}

static void action(struct nr_etcd_http *h, curl_socket_t fd, int flags)
{
	int running;

	h->in_action = true;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	h->in_action = false;
	deliver_lines(h);
	if (!h->closing)
		check_done(h);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct sock_ctx *s = p->data;
	int flags = 0;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	action(s->h, s->fd, flags);
}

static void timer_cb(uv_timer_t *t)
{
	action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct nr_etcd_http *h = userp;
	struct sock_ctx *s = sockp;
	int ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			sock_forget(h, s);
			curl_multi_assign(h->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || uv_poll_init_socket(h->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->fd = fd;
		s->h = h;
		s->poll.data = s;
		s->next = h->socks;
		if (h->socks)
			h->socks->prev = s;
		h->socks = s;
		h->open++;
		curl_multi_assign(h->multi, fd, s);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&s->poll, ev, poll_cb);
	return 0;
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct nr_etcd_http *h = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ---- a transfer -------------------------------------------------------------- */

static int buf_add(struct nr_etcd_req *r, const char *p, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		char *b;

		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > MAX_BODY || !(b = realloc(r->buf, cap)))
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return 0;
}

/* Only buffers: curl forbids most multi calls from its callbacks, and a
 * line's consumer may start or cancel requests. Lines are handed over by
 * deliver_lines() once curl_multi_socket_action has returned. */
static size_t write_fn(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct nr_etcd_req *r = userp;
	size_t n = size * nmemb;

	if (r->canceled || buf_add(r, ptr, n) < 0)
		return 0;
	return n;
}

static bool has_line(const struct nr_etcd_req *r)
{
	return r->stream && !r->authing && !r->canceled && r->len && memchr(r->buf, '\n', r->len);
}

/* Hand over one complete line of r (a chunk may end in the middle of an
 * object, or hold several). */
static void deliver_line(struct nr_etcd_req *r)
{
	char *nl = memchr(r->buf, '\n', r->len);
	size_t line = (size_t)(nl - r->buf);
	char *copy = malloc(line + 1);
	int stop = 0;

	if (copy) {
		memcpy(copy, r->buf, line);
		copy[line] = '\0';
	}
	memmove(r->buf, nl + 1, r->len - line - 1);
	r->len -= line + 1;
	r->buf[r->len] = '\0';
	r->h->delivering = r; /* a cancel from inside the callback only marks it */
	if (copy && line)
		stop = r->line_cb(r->data, copy, line);
	r->h->delivering = NULL;
	free(copy);
	if (stop || r->canceled)
		req_free(r);
}

static void deliver_lines(struct nr_etcd_http *h)
{
	struct nr_etcd_req *r;

	/* restart the search after each line: the callback may free any request */
	for (;;) {
		for (r = h->reqs; r && !has_line(r); r = r->next)
			;
		if (!r || h->closing)
			return;
		deliver_line(r);
	}
}

static int transfer_start(struct nr_etcd_req *r, struct nr_err *err)
{
	struct nr_etcd_http *h = r->h;
	const char *path = r->authing ? "/v3/auth/authenticate" : r->path;
	char url[1024], *auth_body = NULL;
	CURL *e;

	if (r->easy) {
		curl_multi_remove_handle(h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	r->len = 0;
	if (r->buf)
		r->buf[0] = '\0';
	e = curl_easy_init();
	if (!e)
		return nr_err_set(err, -ENOMEM, "curl_easy_init failed");
	r->easy = e;
	if (!r->pinned)
		r->ep = h->cur;
	snprintf(url, sizeof(url), "%s%s", h->endpoints[r->ep], path);
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (!r->authing && h->token) {
		char hdr[1024];

		/* etcd takes the raw token, no "Bearer" */
		snprintf(hdr, sizeof(hdr), "Authorization: %s", h->token);
		r->headers = curl_slist_append(r->headers, hdr);
	}
	if (r->authing) {
		auth_body = nr_etcd_req_auth(h->user, h->password);
		if (!auth_body)
			return nr_err_set(err, -ENOMEM, "out of memory");
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->authing ? auth_body : r->body);
	free(auth_body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_fn);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 2L);
	if (!r->stream || r->authing)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
				 (long)(r->timeout_ms ? r->timeout_ms : h->timeout_ms));
	if (h->ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca);
	if (h->cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->cert);
	if (h->key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->key);
	r->errbuf[0] = '\0';
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
		return nr_err_set(err, -ENOMEM, "curl_multi_add_handle failed");
	return 0;
}

/* A member failed (or answered again): remember it for the status and tell
 * the owner on a change. */
static void ep_mark(struct nr_etcd_http *h, size_t i, bool failed, const char *why)
{
	struct ep_state *s = &h->eps[i];
	bool changed = s->failed != failed;

	if (failed) {
		if (!s->failed)
			s->since = (int64_t)time(NULL);
		snprintf(s->why, sizeof(s->why), "%s", why);
	} else {
		s->why[0] = '\0';
		s->since = 0;
	}
	s->failed = failed;
	if (changed && h->ep_cb)
		h->ep_cb(h->ep_data, h->endpoints[i], failed, s->why);
}

static void note_failure(struct nr_etcd_req *r, const char *what)
{
	size_t off = strlen(r->trail);

	snprintf(r->trail + off, sizeof(r->trail) - off, "%s%s: %s", off ? "; " : "",
		 r->h->endpoints[r->ep], what);
}

static void deliver(struct nr_etcd_req *r, int status, long code, const char *msg)
{
	if (r->stream && !r->cb) {
		req_free(r);
		return;
	}
	r->cb(r->data, status, code, r->buf ? r->buf : "", r->len, msg);
	req_free(r);
}

/* Try the request again on the next endpoint, or give up with what each
 * endpoint said. */
static void fail_over(struct nr_etcd_http *h, struct nr_etcd_req *r, int status, const char *what)
{
	struct nr_err err = { 0 };
	size_t ep = r->ep;

	note_failure(r, what);
	/* move on from this member, unless another request already did */
	if (h->n_endpoints > 1 && h->cur == ep)
		h->cur = (h->cur + 1) % h->n_endpoints;
	r->tries++;
	ep_mark(h, ep, true, what);
	if (!r->pinned && r->tries < h->n_endpoints && transfer_start(r, &err) == 0)
		return;
	deliver(r, status, 0, r->trail);
}

static bool retriable_http(long code)
{
	return code == 503 || code == 502 || code == 504;
}

static void finish_transfer(struct nr_etcd_http *h, struct nr_etcd_req *r, CURLcode res)
{
	long code = 0;
	struct nr_err err = { 0 };

	if (r->canceled) {
		req_free(r);
		return;
	}
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK) {
		int status = res == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH;

		if (r->stream && !r->authing && code == 200) {
			/* an established stream that broke: the caller resumes; the
			 * member is suspect until it answers again (a probe asks) */
			const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(res);

			snprintf(r->trail, sizeof(r->trail), "watch stream broke: %s", why);
			if (h->n_endpoints > 1 && h->cur == r->ep)
				h->cur = (h->cur + 1) % h->n_endpoints;
			ep_mark(h, r->ep, true, r->trail);
			snprintf(r->trail, sizeof(r->trail), "%s: %s", h->endpoints[r->ep], why);
			deliver(r, status, code, r->trail);
			return;
		}
		/* a member that took the request and never answered (hung, or
		 * no quorum): say it in words, with the limit that ran out */
		if (res == CURLE_OPERATION_TIMEDOUT && !strstr(r->errbuf, "onnect"))
			snprintf(r->errbuf, sizeof(r->errbuf), "no answer within %u ms",
				 r->timeout_ms ? r->timeout_ms : h->timeout_ms);
		fail_over(h, r, status, r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
		return;
	}
	if (retriable_http(code)) {
		char what[64];

		snprintf(what, sizeof(what), "HTTP %ld (unavailable)", code);
		fail_over(h, r, -EAGAIN, what);
		return;
	}
	/* it answered: whatever it says, the member is there */
	ep_mark(h, r->ep, false, NULL);
	if (r->authing) {
		char *token = NULL;

		if (code != 200 || nr_etcd_parse_auth(r->buf ? r->buf : "", r->len, &token, &err) < 0) {
			char msg[256] = "";

			nr_etcd_parse_error(r->buf ? r->buf : "", r->len, msg, sizeof(msg));
			snprintf(r->trail, sizeof(r->trail), "etcd authentication as %s failed: %s",
				 h->user, msg[0] ? msg : err.msg);
			deliver(r, -EACCES, code, r->trail);
			return;
		}
		free(h->token);
		h->token = token;
		r->authing = false;
		if (transfer_start(r, &err) < 0)
			deliver(r, err.code, 0, err.msg);
		return;
	}
	if (code == 401 && h->user && !r->reauthed) {
		/* the token expired (or etcd restarted): once more with a new one */
		free(h->token);
		h->token = NULL;
		r->reauthed = r->authing = true;
		if (transfer_start(r, &err) < 0)
			deliver(r, err.code, 0, err.msg);
		return;
	}
	deliver(r, 0, code, NULL);
}

/* ---- public ------------------------------------------------------------------ */

/* pin: the endpoint to use alone (a probe), or SIZE_MAX for the usual
 * fail-over from the current one. */
static struct nr_etcd_req *submit(struct nr_etcd_http *h, const char *path, const char *body,
				  bool stream, unsigned int timeout_ms, nr_etcd_line_cb line_cb,
				  nr_etcd_http_cb cb, void *data, size_t pin, struct nr_err *err)
{
	struct nr_etcd_req *r;

	if (h->closing) {
		nr_err_set(err, -ESHUTDOWN, "etcd client is closing");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path)) || !(r->body = strdup(body))) {
		if (r)
			free(r->path);
		free(r);
		nr_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	r->h = h;
	r->stream = stream;
	r->timeout_ms = timeout_ms;
	r->pinned = pin != SIZE_MAX;
	r->ep = r->pinned ? pin : h->cur;
	r->line_cb = line_cb;
	r->cb = cb;
	r->data = data;
	r->authing = h->user && !h->token;
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
	if (transfer_start(r, err) < 0) {
		req_free(r);
		return NULL;
	}
	return r;
}

struct nr_etcd_req *nr_etcd_http_post(struct nr_etcd_http *h, const char *path, const char *body,
				      nr_etcd_http_cb cb, void *data, struct nr_err *err)
{
	return submit(h, path, body, false, 0, NULL, cb, data, SIZE_MAX, err);
}

struct nr_etcd_req *nr_etcd_http_post_timeout(struct nr_etcd_http *h, const char *path,
					      const char *body, unsigned int timeout_ms,
					      nr_etcd_http_cb cb, void *data, struct nr_err *err)
{
	return submit(h, path, body, false, timeout_ms, NULL, cb, data, SIZE_MAX, err);
}

struct nr_etcd_req *nr_etcd_http_stream(struct nr_etcd_http *h, const char *path,
					const char *body, nr_etcd_line_cb line_cb,
					nr_etcd_http_cb end_cb, void *data, struct nr_err *err)
{
	return submit(h, path, body, true, 0, line_cb, end_cb, data, SIZE_MAX, err);
}

void nr_etcd_req_cancel(struct nr_etcd_req *r)
{
	if (!r)
		return;
	r->canceled = true;
	/* inside curl (a write callback) the handle cannot be removed: the
	 * sweep after curl_multi_socket_action does it */
	if (!r->h->in_action && r->h->delivering != r)
		req_free(r);
}

const char *nr_etcd_http_endpoint(const struct nr_etcd_http *h)
{
	return h->endpoints[h->cur];
}

void nr_etcd_http_rotate(struct nr_etcd_http *h)
{
	h->cur = (h->cur + 1) % h->n_endpoints;
}

const char *nr_etcd_req_endpoint(const struct nr_etcd_req *r)
{
	return r->h->endpoints[r->ep];
}

bool nr_etcd_req_endpoint_failed(const struct nr_etcd_req *r)
{
	return r->h->eps[r->ep].failed;
}

void nr_etcd_http_on_endpoint(struct nr_etcd_http *h, nr_etcd_ep_cb cb, void *data)
{
	h->ep_cb = cb;
	h->ep_data = data;
}

bool nr_etcd_http_failed(const struct nr_etcd_http *h, size_t *i, const char **url,
			 const char **why, int64_t *since)
{
	for (; *i < h->n_endpoints; (*i)++) {
		const struct ep_state *s = &h->eps[*i];

		if (!s->failed)
			continue;
		*url = h->endpoints[*i];
		*why = s->why;
		*since = s->since;
		(*i)++;
		return true;
	}
	return false;
}

static void probe_done(void *data, int status, long code, const char *body, size_t len,
		       const char *msg)
{
	/* the answer already updated the member's state (finish_transfer) */
	(void)data, (void)status, (void)code, (void)body, (void)len, (void)msg;
}

void nr_etcd_http_probe(struct nr_etcd_http *h, unsigned int timeout_ms)
{
	for (size_t i = 0; i < h->n_endpoints && !h->closing; i++) {
		struct nr_etcd_req *r;

		if (!h->eps[i].failed || h->eps[i].probe)
			continue;
		/* answered by the member alone (no quorum needed): is it there? */
		r = submit(h, "/v3/maintenance/status", "{}", false, timeout_ms, NULL, probe_done,
			   NULL, i, NULL);
		h->eps[i].probe = r;
	}
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_opt(const char *s, bool *oom)
{
	char *d;

	if (!s || !*s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static void http_free(struct nr_etcd_http *h)
{
	if (h->multi)
		curl_multi_cleanup(h->multi);
	for (size_t i = 0; i < h->n_endpoints; i++)
		free(h->endpoints[i]);
	free(h->endpoints);
	free(h->eps);
	free(h->ca);
	free(h->cert);
	free(h->key);
	free(h->user);
	free(h->password);
	free(h->token);
	free(h);
}

int nr_etcd_http_new(uv_loop_t *loop, const struct nr_etcd_http_opts *o,
		     struct nr_etcd_http **ret, struct nr_err *err)
{
	static uv_once_t once = UV_ONCE_INIT;
	struct nr_etcd_http *h;
	bool oom = false;
	size_t n = 0;

	uv_once(&once, curl_init_once);
	while (o->endpoints && o->endpoints[n])
		n++;
	if (!n)
		return nr_err_set(err, -EINVAL, "etcd: no endpoint given");
	for (size_t i = 0; i < n; i++) {
		const char *e = o->endpoints[i];

		if (strncmp(e, "http://", 7) && strncmp(e, "https://", 8))
			return nr_err_set(err, -EINVAL, "etcd endpoint %s: expected http://HOST:PORT "
					  "or https://HOST:PORT", e);
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->endpoints = calloc(n, sizeof(char *))) ||
	    !(h->eps = calloc(n, sizeof(*h->eps)))) {
		if (h)
			free(h->endpoints);
		free(h);
		return nr_err_set(err, -ENOMEM, "out of memory");
	}
	h->loop = loop;
	h->n_endpoints = n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(o->endpoints[i]);

		h->endpoints[i] = strdup(o->endpoints[i]);
		if (h->endpoints[i] && len && h->endpoints[i][len - 1] == '/')
			h->endpoints[i][len - 1] = '\0'; /* we add the path's own slash */
		oom |= !h->endpoints[i];
	}
	h->ca = dup_opt(o->ca_file, &oom);
	h->cert = dup_opt(o->cert_file, &oom);
	h->key = dup_opt(o->key_file, &oom);
	h->user = dup_opt(o->username, &oom);
	h->password = dup_opt(o->password, &oom);
	h->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	h->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_MS;
	h->multi = oom ? NULL : curl_multi_init();
	if (!h->multi) {
		http_free(h);
		return nr_err_set(err, -ENOMEM, "out of memory (curl_multi_init)");
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	h->open = 1;
	*ret = h;
	return 0;
}

static void maybe_free_http(struct nr_etcd_http *h)
{
	if (!h->closing || h->open > 0)
		return;
	if (h->close_cb)
		h->close_cb(h->close_data);
	http_free(h);
}

static void timer_closed(uv_handle_t *hd)
{
	struct nr_etcd_http *h = hd->data;

	h->open--;
	maybe_free_http(h);
}

void nr_etcd_http_close(struct nr_etcd_http *h, void (*close_cb)(void *data), void *data)
{
	if (!h || h->closing)
		return;
	h->closing = true;
	h->close_cb = close_cb;
	h->close_data = data;
	/* removing the handles makes curl report CURL_POLL_REMOVE for their
	 * sockets, which closes the poll handles */
	for (struct nr_etcd_req *r = h->reqs, *next; r; r = next) {
		next = r->next;
		if (r != h->delivering) {
			req_free(r);
			continue;
		}
		/* closed from its own line callback: deliver_line frees it */
		r->canceled = true;
		curl_multi_remove_handle(h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	/* idle cached connections keep their sockets polled: stop those here,
	 * then let curl close the sockets without telling us again */
	while (h->socks)
		sock_forget(h, h->socks);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, NULL);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, NULL);
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, timer_closed);
}
