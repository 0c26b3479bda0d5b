/*
 * shard_hub.c: envelopes between the shards of one process (see shard_hub.h).
 *
 * One message to the other shards is one refcounted parcel (the envelope's bytes and references to its
 * encoded frames) and a small piece of mail per receiving shard; the last shard done with it frees it.
 */
#include "shard_hub.h"

#include "frame.h"
#include "pubsub.h"
#include "server.h"

#include <uthash.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct parcel {
    atomic_uint refs;
    struct frame *frames[3]; /* references, by enum phx_vsn; NULL where not encoded */
    size_t len;
    unsigned char bytes[];
};

struct parcel_mail {
    struct mail m;
    struct parcel *p;
};

/* A history number answered to the shard that asked. */
struct answer_mail {
    struct mail m;
    cluster_seq_fn fn;
    void *arg;
    uint64_t seq, epoch;
};

struct topic_number {
    UT_hash_handle hh;
    uint64_t seq, epoch;
    char topic[];
};

struct link {
    struct shard_hub *hub;
    unsigned index;
    struct cluster_carrier remote; /* .send NULL: none */
};

struct shard_hub {
    unsigned n;
    struct mailbox *boxes;
    struct link *links;
    pthread_mutex_t mu; /* numbering: the table and the order of its posts */
    struct topic_number *numbers;
};

static void parcel_unref(struct parcel *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int v = 0; v < 3; v++)
        frame_unref(&p->frames[v]);
    free(p);
}

static void run_parcel(struct mail *m, void *owner)
{
    struct parcel_mail *pm = (struct parcel_mail *)m;
    struct server *s = owner;
    if (s && s->cluster)
        cluster_receive_sibling(s->cluster, pm->p->bytes, pm->p->len, pm->p->frames, server_now_ms());
    parcel_unref(pm->p);
    free(pm);
}

static void run_answer(struct mail *m, void *owner)
{
    struct answer_mail *am = (struct answer_mail *)m;
    /* Discarded at shutdown (owner NULL): the asking shard's thread has stopped, so the answer (no
     * number) is delivered from here, which frees what waited for it. */
    if (owner)
        am->fn(am->arg, am->seq, am->epoch);
    else
        am->fn(am->arg, 0, 0);
    free(am);
}

/* A parcel of bytes and frames to every shard but `from`. 0, or -1 on OOM (nothing sent). */
static int post_siblings(struct shard_hub *h, unsigned from, const unsigned char *bytes, size_t len,
                         struct frame *const frames[3])
{
    if (h->n < 2)
        return 0;
    struct parcel *p = malloc(sizeof(*p) + len);
    if (!p)
        return -1;
    struct parcel_mail *mails[256];
    unsigned k = 0;
    for (unsigned i = 0; i < h->n; i++) {
        if (i == from)
            continue;
        if (!(mails[k] = malloc(sizeof(*mails[k])))) {
            while (k)
                free(mails[--k]);
            free(p);
            return -1;
        }
        k++;
    }
    atomic_init(&p->refs, k);
    p->len = len;
    memcpy(p->bytes, bytes, len);
    for (int v = 0; v < 3; v++) {
        p->frames[v] = frames ? frames[v] : NULL;
        if (p->frames[v])
            frame_ref(p->frames[v]);
    }
    k = 0;
    for (unsigned i = 0; i < h->n; i++) {
        if (i == from)
            continue;
        struct parcel_mail *pm = mails[k++];
        pm->m.fn = run_parcel;
        pm->p = p;
        mailbox_post(&h->boxes[i], &pm->m);
    }
    return 0;
}

static int hub_send_frames(void *ctx, const unsigned char *bytes, size_t len, struct frame *const frames[3])
{
    struct link *l = ctx;
    int rc = post_siblings(l->hub, l->index, bytes, len, frames);
    if (l->remote.send && l->remote.send(l->remote.ctx, bytes, len) != 0)
        rc = -1;
    return rc;
}

static int hub_send(void *ctx, const unsigned char *bytes, size_t len)
{
    return hub_send_frames(ctx, bytes, len, NULL);
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

/* Number the topic's next broadcast here: the number and the topic's epoch written into a copy of the
 * envelope for the other shards, the answer to the asking shard; all posted under the lock so every
 * shard gets a topic's broadcasts in number order. */
static int number_locally(struct link *l, const char *topic, const unsigned char *bytes, size_t len,
                          size_t body_off, uint64_t epoch, cluster_seq_fn fn, void *arg)
{
    struct shard_hub *h = l->hub;
    if (len < body_off + 8 || body_off < 20)
        return -1;
    struct answer_mail *am = malloc(sizeof(*am));
    unsigned char *copy = malloc(len);
    if (!am || !copy) {
        free(am);
        free(copy);
        return -1;
    }
    int rc = -1;
    pthread_mutex_lock(&h->mu);
    struct topic_number *t = NULL;
    HASH_FIND_STR(h->numbers, topic, t);
    if (!t) {
        size_t tl = strlen(topic);
        if ((t = calloc(1, sizeof(*t) + tl + 1))) {
            memcpy(t->topic, topic, tl + 1);
            t->epoch = epoch;
            HASH_ADD(hh, h->numbers, topic[0], tl, t);
        }
    }
    if (t) {
        memcpy(copy, bytes, len);
        put_be64(copy + 12, t->seq + 1);
        put_be64(copy + body_off, t->epoch);
        if (post_siblings(h, l->index, copy, len, NULL) == 0) {
            t->seq++;
            *am = (struct answer_mail){
                .m.fn = run_answer, .fn = fn, .arg = arg, .seq = t->seq, .epoch = t->epoch};
            mailbox_post(&h->boxes[l->index], &am->m);
            am = NULL;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&h->mu);
    free(am);
    free(copy);
    return rc;
}

static int hub_sequence(void *ctx, const char *topic, const unsigned char *bytes, size_t len, size_t body_off,
                        uint64_t epoch, cluster_seq_fn fn, void *arg)
{
    struct link *l = ctx;
    if (l->remote.send)
        return l->remote.sequence
                   ? l->remote.sequence(l->remote.ctx, topic, bytes, len, body_off, epoch, fn, arg)
                   : -1;
    return number_locally(l, topic, bytes, len, body_off, epoch, fn, arg);
}

struct shard_hub *shard_hub_create(unsigned n, struct mailbox *boxes)
{
    if (n == 0 || n > 256)
        return NULL;
    struct shard_hub *h = calloc(1, sizeof(*h));
    if (!h || !(h->links = calloc(n, sizeof(*h->links)))) {
        free(h);
        return NULL;
    }
    h->n = n;
    h->boxes = boxes;
    pthread_mutex_init(&h->mu, NULL);
    for (unsigned i = 0; i < n; i++)
        h->links[i] = (struct link){.hub = h, .index = i};
    return h;
}

void shard_hub_destroy(struct shard_hub **hp)
{
    struct shard_hub *h = *hp;
    if (!h)
        return;
    struct topic_number *t, *tmp;
    HASH_ITER(hh, h->numbers, t, tmp)
    {
        HASH_DEL(h->numbers, t);
        free(t);
    }
    pthread_mutex_destroy(&h->mu);
    free(h->links);
    free(h);
    *hp = NULL;
}

void shard_hub_carrier(struct shard_hub *h, unsigned i, const struct cluster_carrier *remote,
                       struct cluster_carrier *out)
{
    struct link *l = &h->links[i];
    if (remote)
        l->remote = *remote;
    *out = (struct cluster_carrier){
        .send = hub_send, .sequence = hub_sequence, .send_frames = hub_send_frames, .ctx = l};
}
