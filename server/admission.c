/*
 * admission.c: the node's admission counts (see admission.h).
 */
#include "admission.h"

#include "options.h"

#include <uthash.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct user_count {
    UT_hash_handle hh;
    unsigned count;
    char user[];
};

/* Seats taken on a size-limited topic. */
struct topic_seats {
    UT_hash_handle hh;
    size_t taken;
    char topic[];
};

struct admission {
    pthread_mutex_t mu;
    size_t conns;
    struct user_count *users;
    struct topic_seats *seats;
    double tokens;
    uint64_t last_ms;
};

struct admission *admission_create(double rate)
{
    struct admission *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    pthread_mutex_init(&a->mu, NULL);
    a->tokens = rate;
    return a;
}

void admission_destroy(struct admission **ap)
{
    struct admission *a = *ap;
    if (!a)
        return;
    struct user_count *u, *tmp;
    HASH_ITER(hh, a->users, u, tmp)
    {
        HASH_DEL(a->users, u);
        free(u);
    }
    struct topic_seats *t, *ttmp;
    HASH_ITER(hh, a->seats, t, ttmp)
    {
        HASH_DEL(a->seats, t);
        free(t);
    }
    pthread_mutex_destroy(&a->mu);
    free(a);
    *ap = NULL;
}

static unsigned user_count_locked(struct admission *a, const char *user_id)
{
    struct user_count *u = NULL;
    HASH_FIND_STR(a->users, user_id, u);
    return u ? u->count : 0;
}

/* One more connection of user_id (NULL: anonymous), mutex held. 0 or -1 (OOM: nothing counted). */
static int open_locked(struct admission *a, const char *user_id)
{
    if (user_id) {
        struct user_count *u = NULL;
        HASH_FIND_STR(a->users, user_id, u);
        if (!u) {
            size_t len = strlen(user_id);
            if (!(u = calloc(1, sizeof(*u) + len + 1)))
                return -1;
            memcpy(u->user, user_id, len + 1);
            HASH_ADD(hh, a->users, user[0], len, u);
        }
        u->count++;
    }
    a->conns++;
    return 0;
}

enum admit admission_enter(struct admission *a, const char *user_id, const struct options *o, uint64_t now_ms)
{
    enum admit r = ADMIT_OK;
    pthread_mutex_lock(&a->mu);
    if (a->conns >= o->max_connections) {
        r = ADMIT_FULL;
    } else if (user_id && o->max_connections_per_user &&
               user_count_locked(a, user_id) >= o->max_connections_per_user) {
        r = ADMIT_USER;
    } else if (o->connection_rate) {
        double rate = o->connection_rate;
        if (now_ms > a->last_ms)
            a->tokens += (double)(now_ms - a->last_ms) * rate / 1000.0;
        if (a->tokens > rate)
            a->tokens = rate;
        a->last_ms = now_ms;
        if (a->tokens < 1.0)
            r = ADMIT_RATE;
        else
            a->tokens -= 1.0;
    }
    if (r == ADMIT_OK && open_locked(a, user_id) != 0)
        r = ADMIT_FULL;
    pthread_mutex_unlock(&a->mu);
    return r;
}

int admission_open(struct admission *a, const char *user_id)
{
    pthread_mutex_lock(&a->mu);
    int rc = open_locked(a, user_id);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

void admission_close(struct admission *a, const char *user_id)
{
    pthread_mutex_lock(&a->mu);
    if (a->conns)
        a->conns--;
    struct user_count *u = NULL;
    if (user_id)
        HASH_FIND_STR(a->users, user_id, u);
    if (u && --u->count == 0) {
        HASH_DEL(a->users, u);
        free(u);
    }
    pthread_mutex_unlock(&a->mu);
}

size_t admission_connections(struct admission *a)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->conns;
    pthread_mutex_unlock(&a->mu);
    return n;
}

unsigned admission_user_connections(struct admission *a, const char *user_id)
{
    pthread_mutex_lock(&a->mu);
    unsigned n = user_count_locked(a, user_id);
    pthread_mutex_unlock(&a->mu);
    return n;
}

bool admission_topic_take(struct admission *a, const char *topic, size_t max)
{
    bool ok = false;
    pthread_mutex_lock(&a->mu);
    struct topic_seats *t = NULL;
    HASH_FIND_STR(a->seats, topic, t);
    if (!t) {
        size_t len = strlen(topic);
        if ((t = calloc(1, sizeof(*t) + len + 1))) {
            memcpy(t->topic, topic, len + 1);
            HASH_ADD(hh, a->seats, topic[0], len, t);
        }
    }
    if (t && t->taken < max) {
        t->taken++;
        ok = true;
    }
    if (t && !t->taken) {
        HASH_DEL(a->seats, t);
        free(t);
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void admission_topic_release(struct admission *a, const char *topic)
{
    pthread_mutex_lock(&a->mu);
    struct topic_seats *t = NULL;
    HASH_FIND_STR(a->seats, topic, t);
    if (t && --t->taken == 0) {
        HASH_DEL(a->seats, t);
        free(t);
    }
    pthread_mutex_unlock(&a->mu);
}
