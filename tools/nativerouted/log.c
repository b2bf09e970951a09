/* The daemon's log never blocks its loop: nrd_log() formats the line and
 * copies it into a ring buffer; a writer thread does the (blocking) writes
 * to stderr. When stderr does not drain (a stalled pipe, a frozen journal)
 * the ring fills and further lines are dropped and counted, and the count is
 * logged once the sink takes lines again. A thread rather than O_NONBLOCK:
 * the file description of stderr is shared with whoever started us, and a
 * regular file or a tty cannot be written without blocking anyway.
 *
 * Repeated identical warnings and errors (a route that keeps failing) are
 * logged once per REPEAT_WINDOW_MS, and the next one says how many were
 * suppressed, so no persistent fault can flood the sink. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING_SIZE (256u << 10)
#define REPEAT_SLOTS 256
#define REPEAT_WINDOW_MS 10000u

struct repeat {
	uint64_t hash;
	uint64_t since_ms;   /* start of the window in which repeats are suppressed */
	unsigned long suppressed;
};

static struct {
	int max;
	bool journal;
	pthread_mutex_t mu;
	pthread_cond_t more, drained;
	pthread_t writer;
	bool started, stopping, writing;
	char ring[RING_SIZE];
	size_t head, len;       /* bytes [head, head+len) mod RING_SIZE are queued */
	unsigned long dropped;  /* lines that did not fit, not yet reported */
	unsigned long dropped_total;
	struct repeat repeats[REPEAT_SLOTS];
} lg = {
	.max = LOG_INFO,
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.drained = PTHREAD_COND_INITIALIZER,
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h | 1; /* 0 marks a free slot */
}

static void write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere to report it */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void *writer_main(void *arg)
{
	char chunk[16384];

	(void)arg;
	pthread_mutex_lock(&lg.mu);
	for (;;) {
		size_t n;

		while (lg.len == 0 && !lg.dropped && !lg.stopping)
			pthread_cond_wait(&lg.more, &lg.mu);
		if (lg.len == 0 && !lg.dropped && lg.stopping)
			break;
		n = lg.len < sizeof(chunk) ? lg.len : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = lg.ring[(lg.head + i) % RING_SIZE];
		lg.head = (lg.head + n) % RING_SIZE;
		lg.len -= n;
		if (n == 0 && lg.dropped) {
			/* The sink drains again: say what it missed. */
			n = (size_t)snprintf(chunk, sizeof(chunk),
					     "%s%lu log line(s) dropped: stderr did not drain\n",
					     lg.journal ? "<4>" : "", lg.dropped);
			lg.dropped = 0;
		}
		lg.writing = true;
		pthread_mutex_unlock(&lg.mu);
		write_all(chunk, n);
		pthread_mutex_lock(&lg.mu);
		lg.writing = false;
		pthread_cond_broadcast(&lg.drained);
	}
	pthread_mutex_unlock(&lg.mu);
	return NULL;
}

void nrd_log_init(int max_level)
{
	lg.max = max_level;
	lg.journal = getenv("JOURNAL_STREAM") != NULL;
	if (!lg.started && pthread_create(&lg.writer, NULL, writer_main, NULL) == 0)
		lg.started = true;
}

/* Wait (a bounded time) for the queued lines to be written, then stop the
 * writer; a sink that stays blocked does not hold up the exit. */
void nrd_log_close(void)
{
	struct timespec until;

	if (!lg.started)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&lg.mu);
	while ((lg.len > 0 || lg.writing) &&
	       pthread_cond_timedwait(&lg.drained, &lg.mu, &until) != ETIMEDOUT)
		;
	lg.stopping = true;
	pthread_cond_signal(&lg.more);
	if (lg.len > 0 || lg.writing) {
		pthread_mutex_unlock(&lg.mu);
		pthread_detach(lg.writer);
	} else {
		pthread_mutex_unlock(&lg.mu);
		pthread_join(lg.writer, NULL);
	}
	lg.started = false;
}

unsigned long nrd_log_dropped(void)
{
	unsigned long n;

	pthread_mutex_lock(&lg.mu);
	n = lg.dropped_total;
	pthread_mutex_unlock(&lg.mu);
	return n;
}

/* Called with lg.mu held. Returns how many earlier repeats to mention, or
 * -1 when this line is a repeat inside the window (suppressed). */
static long repeat_check(const char *msg, uint64_t now)
{
	uint64_t h = hash_text(msg);
	struct repeat *r = &lg.repeats[h % REPEAT_SLOTS];
	long before;

	if (r->hash == h && now - r->since_ms < REPEAT_WINDOW_MS) {
		r->suppressed++;
		return -1;
	}
	before = r->hash == h ? (long)r->suppressed : 0;
	r->hash = h;
	r->since_ms = now;
	r->suppressed = 0;
	return before;
}

static void enqueue(const char *line, size_t n)
{
	if (!lg.started) {
		write_all(line, n); /* before init (usage errors): plain stderr */
		return;
	}
	if (n > RING_SIZE - lg.len) {
		lg.dropped++;
		lg.dropped_total++;
		return;
	}
	for (size_t i = 0; i < n; i++)
		lg.ring[(lg.head + lg.len + i) % RING_SIZE] = line[i];
	lg.len += n;
	pthread_cond_signal(&lg.more);
}

void nrd_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
					     "warn",  "notice", "info", "debug" };
	char msg[1024], line[1200];
	va_list ap;
	long repeats;
	size_t n;

	if (level > lg.max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lg.mu);
	repeats = level <= LOG_WARNING ? repeat_check(msg, mono_ms()) : 0;
	if (repeats < 0) {
		pthread_mutex_unlock(&lg.mu);
		return;
	}
	if (lg.journal) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>%s", level, msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		n = (size_t)snprintf(line, sizeof(line), "%s.%03ld %-5s %s", when,
				     ts.tv_nsec / 1000000, names[level & 7], msg);
	}
	if (n >= sizeof(line) - 64)
		n = sizeof(line) - 64;
	if (repeats > 0)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      " (also %ld more time(s) in the %u s before, not logged)", repeats,
				      REPEAT_WINDOW_MS / 1000);
	line[n++] = '\n';
	enqueue(line, n);
	pthread_mutex_unlock(&lg.mu);
}
