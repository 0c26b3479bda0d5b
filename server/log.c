/*
 * log.c: log lines (see log.h). Rate limiting is keyed by the format string: the same call site
 * logging again and again is what floods. Any shard's thread may log: the level and format are atomic,
 * the rate slots are under a lock, and each line is one stdio call (stdio locks the stream).
 */
#include "log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static _Atomic enum log_level current_level = LOG_INFO;
static atomic_bool json_lines;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

#define RATE_SLOTS 64

struct rate_slot {
    const char *fmt;
    time_t second;
    unsigned count;
    unsigned suppressed;
};

static struct rate_slot slots[RATE_SLOTS];
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
    current_level = level;
}

enum log_level log_get_level(void)
{
    return current_level;
}

void log_set_json(bool json)
{
    json_lines = json;
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Whether this call site may log now; *suppressed gets how many lines it lost before. */
static bool rate_ok_locked(const char *fmt, time_t now, unsigned *suppressed)
{
    struct rate_slot *s = &slots[((uintptr_t)fmt >> 3) % RATE_SLOTS];
    *suppressed = 0;
    if (s->fmt != fmt || s->second != now) {
        if (s->fmt == fmt)
            *suppressed = s->suppressed;
        s->fmt = fmt;
        s->second = now;
        s->count = 0;
        s->suppressed = 0;
    }
    if (++s->count > LOG_BURST) {
        s->suppressed++;
        return false;
    }
    return true;
}

static bool rate_ok(const char *fmt, time_t now, unsigned *suppressed)
{
    pthread_mutex_lock(&slots_mu);
    bool ok = rate_ok_locked(fmt, now, suppressed);
    pthread_mutex_unlock(&slots_mu);
    return ok;
}

static void emit(enum log_level level, uint64_t conn, const char *user, const char *topic, const char *fmt,
                 va_list ap)
{
    if (level < current_level)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    unsigned suppressed;
    if (!rate_ok(fmt, tv.tv_sec, &suppressed))
        return;
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[64], msg[1024];
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (json_lines) {
        json_t *j = json_pack("{ssss}", "ts", ts, "level", level_names[level]);
        if (conn)
            json_object_set_new(j, "conn", json_integer((json_int_t)conn));
        if (user)
            json_object_set_new(j, "user", json_string(user));
        if (topic)
            json_object_set_new(j, "topic", json_string(topic));
        json_object_set_new(j, "msg", json_string(msg));
        if (suppressed)
            json_object_set_new(j, "suppressed_before", json_integer(suppressed));
        char *line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (line)
            fprintf(stderr, "%s\n", line);
        free(line);
        json_decref(j);
        return;
    }
    char ctx[400] = "";
    size_t n = 0;
    if (conn)
        n += (size_t)snprintf(ctx + n, sizeof(ctx) - n, "conn=%llu ", (unsigned long long)conn);
    if (user && n < sizeof(ctx))
        n += (size_t)snprintf(ctx + n, sizeof(ctx) - n, "user=%s ", user);
    if (topic && n < sizeof(ctx))
        snprintf(ctx + n, sizeof(ctx) - n, "topic=%s ", topic);
    if (suppressed)
        fprintf(stderr, "%s %s %s%s (%u similar lines suppressed before)\n", ts, level_names[level], ctx, msg,
                suppressed);
    else
        fprintf(stderr, "%s %s %s%s\n", ts, level_names[level], ctx, msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, 0, NULL, NULL, fmt, ap);
    va_end(ap);
}

void log_conn(enum log_level level, uint64_t conn, const char *user, const char *topic, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, conn, user, topic, fmt, ap);
    va_end(ap);
}
