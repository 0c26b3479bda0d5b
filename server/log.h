/*
 * log.h: leveled log lines on stderr.
 *
 * The edges (main, transports) decide what is worth a line; core modules return errors and leave the
 * logging to their caller. The level is process-wide: one setting for every shard.
 */
#ifndef CINDER_LOG_H
#define CINDER_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "debug", "info", "warn", "error" -> 0 and *out; anything else -> -1. */
int log_level_parse(const char *name, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
