/* nativerouted's log (tools/nativerouted/log.c, compiled in here): a stalled
 * stderr never blocks the caller, lines that do not fit are dropped and
 * counted, and a repeated warning is logged once per window (issue 11,
 * item 7). stderr is a pipe this test controls. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/nativerouted/log.c"

static int rd = -1;

/* stderr becomes the write end of a pipe; the test reads the other end. */
static void stderr_to_pipe(void)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	rd = p[0];
}

static size_t drain(char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	fcntl(rd, F_SETFL, O_NONBLOCK);
	while (got + 1 < cap && (n = read(rd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(daemon_log, a_stalled_stderr_never_blocks_and_drops_are_counted)
{
	static char buf[1 << 20];
	double t0, took;

	stderr_to_pipe();
	nrd_log_init(LOG_DEBUG);
	/* Nobody reads the pipe: 64 KiB of pipe plus the 256 KiB ring, then drops. */
	t0 = now_s();
	for (int i = 0; i < 20000; i++)
		nrd_log(LOG_INFO, "line %d of a daemon whose stderr nobody reads", i);
	took = now_s() - t0;
	cr_assert_lt(took, 2.0, "20000 lines into a stalled pipe took %.2f s", took);
	cr_assert_gt(nrd_log_dropped(), 0);
	/* The reader comes back: everything queued arrives, then the count. */
	for (int tries = 0; tries < 200 && !strstr(buf, "dropped"); tries++) {
		size_t n = strlen(buf);

		drain(buf + n, sizeof(buf) - n);
		usleep(10000);
	}
	cr_assert(strstr(buf, "line 0 of"), "the first lines were written");
	cr_assert(strstr(buf, "log line(s) dropped: stderr did not drain"), "the drops are reported");
	nrd_log_close();
}

Test(daemon_log, a_repeated_warning_is_logged_once_per_window)
{
	static char buf[1 << 16];

	stderr_to_pipe();
	nrd_log_init(LOG_INFO);
	for (int i = 0; i < 1000; i++)
		nrd_log(LOG_WARNING, "route 10.0.1.0/24: blocked by another owner's route");
	nrd_log(LOG_WARNING, "a different warning");
	for (int i = 0; i < 3; i++)
		nrd_log(LOG_INFO, "info lines are not rate limited");
	nrd_log_close();
	drain(buf, sizeof(buf));
	cr_assert_eq(count(buf, "blocked by another owner's route"), 1, "%s", buf);
	cr_assert_eq(count(buf, "a different warning"), 1);
	cr_assert_eq(count(buf, "info lines are not rate limited"), 3);
}

Test(daemon_log, after_the_window_the_repeat_count_is_reported)
{
	static char buf[1 << 16];

	stderr_to_pipe();
	nrd_log_init(LOG_INFO);
	nrd_log(LOG_ERR, "persistent fault");
	nrd_log(LOG_ERR, "persistent fault");
	nrd_log(LOG_ERR, "persistent fault");
	/* Pretend the window has passed. */
	for (int i = 0; i < REPEAT_SLOTS; i++)
		lg.repeats[i].since_ms -= REPEAT_WINDOW_MS;
	nrd_log(LOG_ERR, "persistent fault");
	nrd_log_close();
	drain(buf, sizeof(buf));
	cr_assert_eq(count(buf, "persistent fault"), 2, "%s", buf);
	cr_assert(strstr(buf, "persistent fault (also 2 more time(s) in the 10 s before, not logged)"),
		  "%s", buf);
}
