/* events: every event of the daemon as it happens, until Ctrl-C, --count N
 * events, or a lost connection. */
#include <stdio.h>

#include <nativeroute/error.h>

#include "nrctl.h"
#include "print.h"

#define WATCHING "watching events (Ctrl-C to stop)"

void on_event(struct nr_client *c, const struct nr_event *ev, uint64_t seq, void *data)
{
	struct app *a = data;

	(void)c;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_u64(&a->j, "seq", seq);
		json_str(&a->j, "type", nr_event_type_str(ev->type));
		json_str(&a->j, "node", ev->node);
		json_str(&a->j, "object", ev->object);
		json_str(&a->j, "message", ev->message);
		json_end_obj(&a->j);
		json_done(&a->j);
	} else {
		printf("%-6llu %-20s %-16s %s\n", (unsigned long long)seq, nr_event_type_str(ev->type),
		       dash(ev->node), ev->message);
		fflush(stdout);
	}
	if (a->count && ++a->seen >= a->count)
		finish(a, EXIT_OK);
}

void on_state(struct nr_client *c, bool connected, int status, void *data)
{
	struct app *a = data;

	(void)c;
	if (!connected) {
		fprintf(stderr, "%s: events: connection to the daemon lost (%s)\n", prog,
			nr_err_name(status));
		finish(a, EXIT_UNREACHABLE);
	}
}

static void on_subscribed(struct nr_client *c, int status, const char *errmsg, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (!a->json) {
		fprintf(stderr, "%s: %s\n", prog, WATCHING);
		return;
	}
	/* a JSON reader learns it too: changes made from now on are seen.
	 * Not an event of the daemon (no seq, not counted by --count). */
	json_begin_obj(&a->j, NULL);
	json_str(&a->j, "type", "subscribed");
	json_str(&a->j, "message", WATCHING);
	json_end_obj(&a->j);
	json_done(&a->j);
}

int run_events(struct app *a)
{
	return started(a, nr_client_subscribe(a->client, on_subscribed, a));
}
