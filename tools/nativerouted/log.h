/* nativerouted's log: one line per message on stderr, with the level as a
 * word for people and, under systemd (JOURNAL_STREAM set), as an sd-daemon
 * "<N>" prefix so journald keeps the priority. */
#ifndef NRD_LOG_H
#define NRD_LOG_H

#include <syslog.h>

void nrd_log_init(int max_level);
void nrd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
