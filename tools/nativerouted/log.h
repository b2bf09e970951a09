/* nativerouted's log: one line per message on stderr, with the level as a
 * word for people and, under systemd (JOURNAL_STREAM set), as an sd-daemon
 * "<N>" prefix so journald keeps the priority. Never blocks the caller: a
 * writer thread drains a ring buffer; lines that do not fit are dropped and
 * counted; identical warnings/errors are logged once per 10 s. */
#ifndef NRD_LOG_H
#define NRD_LOG_H

#include <syslog.h>

void nrd_log_init(int max_level);
/* Flush (waiting at most 2 s for a stalled sink) and stop the writer. */
void nrd_log_close(void);
/* Lines dropped so far because the sink did not drain. */
unsigned long nrd_log_dropped(void);
void nrd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
