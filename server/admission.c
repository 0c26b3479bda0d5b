/*
 * admission.c: the node's admission counts (see admission.h).
 */
#include "admission.h"

#include "options.h"

#include <uthash.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A count under a name: a user's open connections, the seats taken on a size-limited topic. An entry
 * lives while its count is above 0. */
struct tally {
    UT_hash_handle hh;
    size_t n;
    char name[];
};

struct admission {
    pthread_mutex_t mu;
    size_t conns;
    struct tally *users;
    struct tally *seats;
    double tokens;
    uint64_t last_ms;
};

static struct tally *tally_find(struct tally *head, const char *name)
{
    struct tally *t = NULL;
    HASH_FIND_STR(head, name, t);
    return t;
}

/* name's entry, made (at 0) if it has none. NULL when out of memory. */
static struct tally *tally_get(struct tally **head, const char *name)
{
    struct tally *t = tally_find(*head, name);
    if (!t) {
        size_t len = strlen(name);
        if (!(t = calloc(1, sizeof(*t) + len + 1)))
            return NULL;
        memcpy(t->name, name, len + 1);
        HASH_ADD(hh, *head, name[0], len, t);
    }
    return t;
}

/* Free t if it counts nothing. */
static void tally_tidy(struct tally **head, struct tally *t)
{
    if (t && !t->n) {
        HASH_DEL(*head, t);
        free(t);
    }
}

/* One fewer under name (none: nothing). */
static void tally_down(struct tally **head, const char *name)
{
    struct tally *t = tally_find(*head, name);
    if (t) {
        t->n--;
        tally_tidy(head, t);
    }
}

static void tallies_free(struct tally **head)
{
    struct tally *t, *tmp;
    HASH_ITER(hh, *head, t, tmp)
    {
        HASH_DEL(*head, t);
        free(t);
    }
}

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
    tallies_free(&a->users);
    tallies_free(&a->seats);
    pthread_mutex_destroy(&a->mu);
    free(a);
    *ap = NULL;
}

static size_t user_count_locked(struct admission *a, const char *user_id)
{
    struct tally *u = tally_find(a->users, user_id);
    return u ? u->n : 0;
}

/* One more connection of user_id (NULL: anonymous), mutex held. 0 or -1 (OOM: nothing counted). */
static int open_locked(struct admission *a, const char *user_id)
{
    if (user_id) {
        struct tally *u = tally_get(&a->users, user_id);
        if (!u)
            return -1;
        u->n++;
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
    if (user_id)
        tally_down(&a->users, user_id);
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
    unsigned n = (unsigned)user_count_locked(a, user_id);
    pthread_mutex_unlock(&a->mu);
    return n;
}

bool admission_topic_take(struct admission *a, const char *topic, size_t max)
{
    bool ok = false;
    pthread_mutex_lock(&a->mu);
    struct tally *t = tally_get(&a->seats, topic);
    if (t && t->n < max) {
        t->n++;
        ok = true;
    }
    tally_tidy(&a->seats, t); /* max 0: made for nothing */
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void admission_topic_release(struct admission *a, const char *topic)
{
    pthread_mutex_lock(&a->mu);
    tally_down(&a->seats, topic);
    pthread_mutex_unlock(&a->mu);
}
