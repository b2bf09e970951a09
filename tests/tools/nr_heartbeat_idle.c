/* nr_heartbeat_idle: the baseline of nr_restart --heartbeat - the same 1 ms
 * heartbeat on a libuv loop that does nothing else, for as long as a
 * measured phase took. Whatever its longest gap shows is this machine's
 * (timer resolution, waking an idle CPU, other processes and kernel
 * threads), not the controller's.
 *
 *   nr_heartbeat_idle MS
 *
 * Prints "idle_gap_ms=G beats=N". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <uv.h>

static double last, max_gap;
static unsigned long beats;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void beat_cb(uv_timer_t *t)
{
	double n = now();

	(void)t;
	if (n - last > max_gap)
		max_gap = n - last;
	last = n;
	beats++;
}

int main(int argc, char **argv)
{
	uv_loop_t *loop = uv_default_loop();
	uv_timer_t beat;
	double end;

	if (argc != 2 || atof(argv[1]) <= 0) {
		fprintf(stderr, "usage: nr_heartbeat_idle MS\n");
		return 2;
	}
	uv_timer_init(loop, &beat);
	last = now();
	end = last + atof(argv[1]) / 1e3;
	uv_timer_start(&beat, beat_cb, 1, 1);
	while (now() < end) /* as nr_restart waits: one turn at a time */
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&beat, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	printf("idle_gap_ms=%.1f beats=%lu\n", max_gap * 1e3, beats);
	return uv_loop_close(loop) == 0 ? 0 : 1;
}
