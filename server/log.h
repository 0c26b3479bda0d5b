/*
 * log.h: leveled log lines on stderr, readable text or one JSON object per line.
 *
 * The edges (main, transports) decide what is worth a line; core modules return errors and leave the
 * logging to their caller. Lines about a connection carry its id, user and topic (log_conn). A line
 * logged more than LOG_BURST times within a second is suppressed for the rest of that second and the
 * number suppressed is reported with the next one that gets through, so a flood of identical errors
 * cannot fill a disk. Settings are process-wide: one for every shard.
 *
 *   text: 2026-11-20T12:00:00.123Z warn conn=7 user=alice topic=room:1 closing 1008: slow consumer
 *   json: {"ts":"2026-11-20T12:00:00.123Z","level":"warn","conn":7,"user":"alice","topic":"room:1",
 *          "msg":"closing 1008: slow consumer"}
 */
#ifndef CINDER_LOG_H
#define CINDER_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

#define LOG_BURST 20

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_json(bool json);
/* "debug", "info", "warn", "error" -> 0 and *out; anything else -> -1. */
int log_level_parse(const char *name, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line about a connection: conn id (0: none), user and topic (NULL: none). */
void log_conn(enum log_level level, uint64_t conn, const char *user, const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
