/* See shim.h. */
#include "shim.h"

#include <string.h>

#include "_cgo_export.h"

#define TOK(d) ((uintptr_t)(d))
#define DATA(t) ((void *)(t))

struct nrgo_loop {
	uv_loop_t loop;
	uv_async_t wake;
	uintptr_t tok;
};

static void on_wake(uv_async_t *a)
{
	goLoopWake(((struct nrgo_loop *)a->data)->tok);
}

struct nrgo_loop *nrgo_loop_new(uintptr_t tok)
{
	struct nrgo_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (uv_loop_init(&l->loop) < 0) {
		free(l);
		return NULL;
	}
	l->tok = tok;
	uv_async_init(&l->loop, &l->wake, on_wake);
	l->wake.data = l;
	return l;
}

uv_loop_t *nrgo_loop_uv(struct nrgo_loop *l)
{
	return &l->loop;
}

int nrgo_loop_wake(struct nrgo_loop *l)
{
	return uv_async_send(&l->wake);
}

void nrgo_loop_run(struct nrgo_loop *l)
{
	uv_run(&l->loop, UV_RUN_DEFAULT);
}

void nrgo_loop_stop_waking(struct nrgo_loop *l)
{
	if (!uv_is_closing((uv_handle_t *)&l->wake))
		uv_close((uv_handle_t *)&l->wake, NULL);
}

void nrgo_loop_free(struct nrgo_loop *l)
{
	uv_run(&l->loop, UV_RUN_DEFAULT); /* close callbacks still pending */
	uv_loop_close(&l->loop);
	free(l);
}

/* ---- client trampolines ---- */

static void c_done(struct nr_client *c, int status, const char *msg, void *data)
{
	(void)c;
	goDone(TOK(data), status, (char *)msg);
}

static void c_closed(struct nr_client *c, void *data)
{
	(void)c;
	goClosed(TOK(data));
}

static void c_state(struct nr_client *c, bool connected, int status, void *data)
{
	(void)c;
	goState(TOK(data), connected, status);
}

static void c_event(struct nr_client *c, const struct nr_event *ev, uint64_t seq, void *data)
{
	(void)c;
	goEvent(TOK(data), (struct nr_event *)ev, seq);
}

static void c_status(struct nr_client *c, int status, const char *msg, const struct nr_status *st,
		     void *data)
{
	(void)c;
	goStatus(TOK(data), status, (char *)msg, (struct nr_status *)st);
}

static void c_node(struct nr_client *c, int status, const char *msg, const struct nr_node_info *n,
		   void *data)
{
	(void)c;
	goNode(TOK(data), status, (char *)msg, (struct nr_node_info *)n);
}

static void c_endpoint(struct nr_client *c, int status, const char *msg,
		       const struct nr_endpoint_info *e, void *data)
{
	(void)c;
	goEndpoint(TOK(data), status, (char *)msg, (struct nr_endpoint_info *)e);
}

static void c_mode(struct nr_client *c, int status, const char *msg, enum nr_routing_mode mode,
		   bool adnr, void *data)
{
	(void)c;
	goMode(TOK(data), status, (char *)msg, (int)mode, adnr);
}

static void c_ipam(struct nr_client *c, int status, const char *msg, const struct nr_ipam_info *i,
		   void *data)
{
	(void)c;
	goIpam(TOK(data), status, (char *)msg, (struct nr_ipam_info *)i);
}

static int node_item(const struct nr_node_info *n, void *data)
{
	return goNodeItem(TOK(data), (struct nr_node_info *)n);
}

static int endpoint_item(const struct nr_endpoint_info *e, void *data)
{
	return goEndpointItem(TOK(data), (struct nr_endpoint_info *)e);
}

static int route_item(const struct nr_route_info *r, void *data)
{
	return goRouteItem(TOK(data), (struct nr_route_info *)r);
}

int nrgo_client_new(uv_loop_t *loop, const char *path, unsigned int timeout_ms, uintptr_t tok,
		    struct nr_client **ret)
{
	NR_OPTS(nr_client_opts, o, .socket_path = path, .timeout_ms = timeout_ms,
		.event_cb = c_event, .event_data = DATA(tok), .state_cb = c_state,
		.state_data = DATA(tok));

	return nr_client_new(loop, &o, ret);
}

int nrgo_client_connect(struct nr_client *c, uintptr_t tok)
{
	return nr_client_connect(c, c_done, DATA(tok));
}

int nrgo_client_close(struct nr_client *c, uintptr_t tok)
{
	return nr_client_close(c, c_closed, DATA(tok));
}

int nrgo_client_status(struct nr_client *c, uintptr_t tok)
{
	return nr_client_status(c, c_status, DATA(tok));
}

int nrgo_client_node_add(struct nr_client *c, const struct nr_node_spec *s, int update,
			 uintptr_t tok)
{
	return update ? nr_client_node_update(c, s, c_node, DATA(tok))
		      : nr_client_node_add(c, s, c_node, DATA(tok));
}

int nrgo_client_node_remove(struct nr_client *c, const char *name, uintptr_t tok)
{
	return nr_client_node_remove(c, name, c_done, DATA(tok));
}

int nrgo_client_node_get(struct nr_client *c, const char *name, uintptr_t tok)
{
	return nr_client_node_get(c, name, c_node, DATA(tok));
}

int nrgo_client_node_foreach(struct nr_client *c, uintptr_t tok)
{
	return nr_client_node_foreach(c, node_item, c_done, DATA(tok));
}

int nrgo_client_endpoint_add(struct nr_client *c, const struct nr_endpoint_spec *s, uintptr_t tok)
{
	return nr_client_endpoint_add(c, s, c_endpoint, DATA(tok));
}

int nrgo_client_endpoint_get(struct nr_client *c, const char *id, uintptr_t tok)
{
	return nr_client_endpoint_get(c, id, c_endpoint, DATA(tok));
}

int nrgo_client_endpoint_remove(struct nr_client *c, const char *id, uintptr_t tok)
{
	return nr_client_endpoint_remove(c, id, c_done, DATA(tok));
}

int nrgo_client_endpoint_foreach(struct nr_client *c, uintptr_t tok)
{
	return nr_client_endpoint_foreach(c, endpoint_item, c_done, DATA(tok));
}

int nrgo_client_route_foreach(struct nr_client *c, uintptr_t tok)
{
	return nr_client_route_foreach(c, route_item, c_done, DATA(tok));
}

int nrgo_client_ipam_status(struct nr_client *c, uintptr_t tok)
{
	return nr_client_ipam_status(c, c_ipam, DATA(tok));
}

int nrgo_client_mode_get(struct nr_client *c, uintptr_t tok)
{
	return nr_client_mode_get(c, c_mode, DATA(tok));
}

int nrgo_client_mode_set(struct nr_client *c, const struct nr_mode_opts *o, uintptr_t tok)
{
	return nr_client_mode_set_opts(c, o, c_mode, DATA(tok));
}

int nrgo_client_subscribe(struct nr_client *c, uintptr_t tok)
{
	return nr_client_subscribe(c, c_done, DATA(tok));
}

/* ---- controller trampolines ---- */

static void x_done(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	(void)ctl;
	goDone(TOK(data), status, (char *)msg);
}

static void x_closed(struct nr_ctl *ctl, void *data)
{
	(void)ctl;
	goClosed(TOK(data));
}

static void x_event(struct nr_ctl *ctl, const struct nr_event *ev, void *data)
{
	(void)ctl;
	goEvent(TOK(data), (struct nr_event *)ev, 0);
}

static void x_endpoint(struct nr_ctl *ctl, int status, const char *msg,
		       const struct nr_endpoint_info *e, void *data)
{
	(void)ctl;
	goEndpoint(TOK(data), status, (char *)msg, (struct nr_endpoint_info *)e);
}

int nrgo_ctl_new(uv_loop_t *loop, const struct nr_ctl_opts *o, uintptr_t tok, struct nr_ctl **ret)
{
	struct nr_ctl_opts copy = *o;

	copy.event_cb = x_event;
	copy.event_data = DATA(tok);
	return nr_ctl_new(loop, &copy, ret);
}

int nrgo_ctl_start(struct nr_ctl *ctl, uintptr_t tok)
{
	return nr_ctl_start(ctl, x_done, DATA(tok));
}

int nrgo_ctl_close(struct nr_ctl *ctl, uintptr_t tok)
{
	return nr_ctl_close(ctl, x_closed, DATA(tok));
}

int nrgo_ctl_node_add(struct nr_ctl *ctl, const struct nr_node_spec *s, int update, uintptr_t tok)
{
	return update ? nr_ctl_node_update(ctl, s, x_done, DATA(tok))
		      : nr_ctl_node_add(ctl, s, x_done, DATA(tok));
}

int nrgo_ctl_node_remove(struct nr_ctl *ctl, const char *name, uintptr_t tok)
{
	return nr_ctl_node_remove(ctl, name, x_done, DATA(tok));
}

int nrgo_ctl_endpoint_add(struct nr_ctl *ctl, const struct nr_endpoint_spec *s, uintptr_t tok)
{
	return nr_ctl_endpoint_add(ctl, s, x_endpoint, DATA(tok));
}

int nrgo_ctl_endpoint_remove(struct nr_ctl *ctl, const char *id, uintptr_t tok)
{
	return nr_ctl_endpoint_remove(ctl, id, x_done, DATA(tok));
}

int nrgo_ctl_mode_set(struct nr_ctl *ctl, const struct nr_mode_opts *o, uintptr_t tok)
{
	return nr_ctl_mode_set_opts(ctl, o, x_done, DATA(tok));
}

int nrgo_ctl_node_foreach(struct nr_ctl *ctl, uintptr_t tok)
{
	return nr_ctl_node_foreach(ctl, node_item, DATA(tok));
}

int nrgo_ctl_endpoint_foreach(struct nr_ctl *ctl, uintptr_t tok)
{
	return nr_ctl_endpoint_foreach(ctl, endpoint_item, DATA(tok));
}

int nrgo_ctl_route_foreach(struct nr_ctl *ctl, uintptr_t tok)
{
	return nr_ctl_route_foreach(ctl, route_item, DATA(tok));
}

/* ---- helpers ---- */

const char **nrgo_strv_new(size_t n)
{
	return calloc(n + 1, sizeof(const char *));
}

void nrgo_strv_set(const char **v, size_t i, const char *s)
{
	v[i] = s;
}

void *nrgo_opts_new(size_t size)
{
	size_t *o = calloc(1, size);

	if (o)
		*o = size;
	return o;
}

const char *nrgo_bpf_verdict_name(int i)
{
	static const char *const names[NR_BPF_VERDICTS] = NR_BPF_VERDICT_NAMES;

	return i >= 0 && i < NR_BPF_VERDICTS ? names[i] : "";
}

const char *nrgo_node_cidr(const struct nr_node_info *n, size_t i)
{
	return i < n->n_pod_cidrs ? n->pod_cidrs[i] : NULL;
}
