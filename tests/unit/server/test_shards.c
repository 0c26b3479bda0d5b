/*
 * Tests the pieces that join a node's shards: mailbox.c (mail between threads), admission.c (counts
 * shared by the shards) and shard_hub.c (the cluster carrier between shards), with two in-process
 * shards whose mailboxes are run by hand.
 */
#include "admission.h"
#include "cluster.h"
#include "envelope.h"
#include "harness.h"
#include "history.h"
#include "mailbox.h"
#include "pubsub.h"
#include "shard_hub.h"
#include "tracker.h"

#include <pthread.h>

/* ---- mailbox ---- */

struct note {
    struct mail m;
    int value;
    int *sum;
    int *discarded;
};

static void add_note(struct mail *m, void *owner)
{
    struct note *n = (struct note *)m;
    if (owner)
        *n->sum += n->value;
    else
        ++*n->discarded;
    free(n);
}

static int wakes;
static void count_wake(void *arg)
{
    (void)arg;
    wakes++;
}

static void post_note(struct mailbox *mb, int value, int *sum, int *discarded)
{
    struct note *n = calloc(1, sizeof(*n));
    *n = (struct note){.m.fn = add_note, .value = value, .sum = sum, .discarded = discarded};
    mailbox_post(mb, &n->m);
}

Test(mailbox, runs_in_order_wakes_once_per_batch_and_discards_after_close)
{
    struct mailbox mb;
    int sum = 0, discarded = 0, owner = 1;
    wakes = 0;
    mailbox_init(&mb, count_wake, NULL);
    post_note(&mb, 1, &sum, &discarded);
    post_note(&mb, 2, &sum, &discarded);
    cr_assert_eq(wakes, 1, "one wake-up for a batch");
    cr_assert_eq(mailbox_run(&mb, &owner), 2);
    cr_assert_eq(sum, 3);
    post_note(&mb, 4, &sum, &discarded);
    cr_assert_eq(wakes, 2);
    mailbox_close(&mb);
    cr_assert_eq(discarded, 1, "queued mail is discarded at close");
    post_note(&mb, 8, &sum, &discarded);
    cr_assert_eq(discarded, 2, "mail to a closed box is discarded at once");
    cr_assert_eq(wakes, 2, "no wake-up after close");
    cr_assert_eq(sum, 3);
    mailbox_cleanup(&mb);
}

struct poster {
    struct mailbox *mb;
    int *sum, *discarded;
};

static void *post_many(void *arg)
{
    struct poster *p = arg;
    for (int i = 0; i < 10000; i++)
        post_note(p->mb, 1, p->sum, p->discarded);
    return NULL;
}

Test(mailbox, two_threads_post_while_the_owner_runs)
{
    struct mailbox mb;
    int sum = 0, discarded = 0, owner = 1;
    mailbox_init(&mb, NULL, NULL);
    struct poster p = {&mb, &sum, &discarded};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, post_many, &p);
    unsigned ran = 0;
    for (int spins = 0; ran < 20000 && spins < 10000000; spins++)
        ran += mailbox_run(&mb, &owner);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ran += mailbox_run(&mb, &owner);
    cr_assert_eq(ran, 20000);
    cr_assert_eq(sum, 20000);
    mailbox_cleanup(&mb);
}

/* ---- admission ---- */

struct racer {
    struct admission *a;
    const struct options *o;
    pthread_barrier_t *go;
    unsigned admitted;
};

static void *race_for_seats(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->go);
    for (int i = 0; i < 1000; i++)
        r->admitted += admission_enter(r->a, "ann", r->o, 1) == ADMIT_OK;
    return NULL;
}

/* Two shards' threads admitting the same user at once: deciding and counting are one step, so together
 * they take exactly the user's seats, never one more (a decision followed by a separate count let both
 * take the last one). */
Test(admission, racing_shards_take_exactly_the_users_seats)
{
    struct options o;
    options_defaults(&o);
    o.max_connections_per_user = 2;
    o.connection_rate = 0;
    struct admission *a = admission_create(0);
    for (int round = 0; round < 200; round++) {
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        struct racer r[2] = {{a, &o, &go, 0}, {a, &o, &go, 0}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            cr_assert_eq(pthread_create(&t[i], NULL, race_for_seats, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&go);
        cr_assert_eq(r[0].admitted + r[1].admitted, 2, "round %d: %u + %u admitted", round, r[0].admitted,
                     r[1].admitted);
        cr_assert_eq(admission_user_connections(a, "ann"), 2);
        admission_close(a, "ann");
        admission_close(a, "ann");
    }
    cr_assert_eq(admission_connections(a), 0);
    admission_destroy(&a);
}

Test(admission, counts_users_and_seats_node_wide)
{
    struct options o;
    options_defaults(&o);
    o.max_connections = 3;
    o.max_connections_per_user = 2;
    o.connection_rate = 0;
    struct admission *a = admission_create(0);
    cr_assert_eq(admission_enter(a, "ann", &o, 1), ADMIT_OK);
    cr_assert_eq(admission_user_connections(a, "ann"), 1, "entering takes the seat");
    cr_assert_eq(admission_open(a, "ann"), 0);
    cr_assert_eq(admission_enter(a, "ann", &o, 1), ADMIT_USER);
    cr_assert_eq(admission_user_connections(a, "ann"), 2, "a refusal takes nothing");
    cr_assert_eq(admission_open(a, "bob"), 0);
    cr_assert_eq(admission_enter(a, "cat", &o, 1), ADMIT_FULL);
    cr_assert_eq(admission_user_connections(a, "cat"), 0);
    admission_close(a, "ann");
    cr_assert_eq(admission_user_connections(a, "ann"), 1);
    cr_assert_eq(admission_connections(a), 2);
    cr_assert(admission_topic_take(a, "t", 2));
    cr_assert(admission_topic_take(a, "t", 2));
    cr_assert_not(admission_topic_take(a, "t", 2), "full");
    admission_topic_release(a, "t");
    cr_assert(admission_topic_take(a, "t", 2), "a seat came free");
    admission_topic_release(a, "t");
    admission_topic_release(a, "t");
    admission_close(a, "ann");
    admission_close(a, "bob");
    cr_assert_eq(admission_connections(a), 0);
    admission_destroy(&a);
    options_cleanup(&o);
}

/* ---- the hub: two shards of one node ---- */

#define SHARDS 2

static struct mailbox boxes[SHARDS];
static struct shard_hub *hub;
static struct admission *adm;
static struct server *shard[SHARDS];

/* Two shards; history: telemetry:* topics keep a history. */
static void setup_shards(bool history)
{
    struct options o;
    options_defaults(&o);
    if (history) {
        json_decref(o.topics);
        o.topics = json_loads("[{\"pattern\": \"telemetry:*\", \"history\": {\"size\": 10}}]", 0, NULL);
    }
    adm = admission_create(o.connection_rate);
    for (int i = 0; i < SHARDS; i++)
        mailbox_init(&boxes[i], NULL, NULL);
    hub = shard_hub_create(SHARDS, boxes);
    cr_assert_not_null(hub);
    uint64_t id = server_random_node_id();
    for (int i = 0; i < SHARDS; i++) {
        shard[i] = server_create_shard(&o, &demo_app, id, (unsigned)i, adm);
        struct cluster_carrier carrier;
        shard_hub_carrier(hub, (unsigned)i, NULL, &carrier);
        shard[i]->cluster = cluster_create(shard[i], &carrier, 1000, 3000);
    }
    options_cleanup(&o);
}

/* Run every shard's mail until none is left. */
static void pump(void)
{
    for (unsigned ran = 1; ran;) {
        ran = 0;
        for (int i = 0; i < SHARDS; i++)
            ran += mailbox_run(&boxes[i], shard[i]);
    }
}

static void teardown_shards(void)
{
    for (int i = 0; i < SHARDS; i++)
        mailbox_close(&boxes[i]);
    for (int i = 0; i < SHARDS; i++) {
        cluster_destroy(&shard[i]->cluster);
        end_server(&shard[i]);
    }
    shard_hub_destroy(&hub);
    for (int i = 0; i < SHARDS; i++)
        mailbox_cleanup(&boxes[i]);
    admission_destroy(&adm);
}

Test(shard_hub, a_broadcast_reaches_the_other_shard_once_as_the_same_frame)
{
    setup_shards(false);
    struct conn *a = mk_conn(shard[0], PHX_V2, "a"), *b = mk_conn(shard[1], PHX_V2, "b");
    join_topic(a, "telemetry:x", NULL);
    join_topic(b, "telemetry:x", NULL);
    json_t *p = json_pack("{si}", "seq", 1);
    struct broadcast br = {.topic = "telemetry:x", .event = "pos", .json = p};
    pubsub_broadcast(shard[0], &br);
    pump();
    struct frame *fa = outq_peek(&a->q), *fb = outq_peek(&b->q);
    cr_assert_not_null(fa);
    cr_assert_eq(fa, fb, "the other shard queued the frame encoded here, not a new one");
    cr_assert_eq(count_frames(a, "\"pos\""), 1);
    cr_assert_eq(count_frames(b, "\"pos\""), 1);
    /* Redis carries the shards' messages too; what comes back that way from a sibling is dropped. */
    struct envelope e = {.kind = ENV_BROADCAST,
                         .origin = shard[0]->node_id,
                         .body = (const unsigned char *)"{}",
                         .body_len = 2};
    strcpy(e.topic, "telemetry:x");
    strcpy(e.event, "pos");
    struct phx_buf buf;
    phx_buf_init(&buf, 0);
    cr_assert_eq(envelope_encode(&e, &buf), 0);
    cr_assert_eq(cluster_receive(shard[1]->cluster, (const unsigned char *)phx_buf_data(&buf), buf.len, 1),
                 0);
    cr_assert_eq(count_frames(b, "\"pos\""), 0, "a sibling's echo through Redis is not delivered");
    phx_buf_cleanup(&buf);
    json_decref(p);
    end_conn(&a);
    end_conn(&b);
    teardown_shards();
}

Test(shard_hub, history_topics_are_numbered_once_for_the_node_in_one_epoch)
{
    setup_shards(true);
    struct conn *a = mk_conn(shard[0], PHX_V2, "a"), *b = mk_conn(shard[1], PHX_V2, "b");
    char *ra, *rb;
    join_topic(a, "telemetry:h1", &ra);
    join_topic(b, "telemetry:h1", &rb);
    const char *ea = strstr(ra, "\"epoch\""), *eb = strstr(rb, "\"epoch\"");
    cr_assert(ea && eb);
    cr_assert_eq(strncmp(ea, eb, 27), 0, "both shards answer the join in one epoch: %s / %s", ra, rb);
    char epoch[32];
    snprintf(epoch, sizeof(epoch), "\"_epoch\":\"%.16s\"", ea + 9);
    for (int i = 0; i < 3; i++) {
        json_t *p = json_pack("{si}", "n", i);
        struct broadcast br = {.topic = "telemetry:h1", .event = "e", .json = p};
        pubsub_broadcast(shard[i % 2], &br);
        json_decref(p);
    }
    pump();
    char want[3][64];
    for (int i = 0; i < 3; i++)
        snprintf(want[i], sizeof(want[i]), "\"_seq\":%d", i + 1);
    for (int s = 0; s < 2; s++) {
        struct conn *c = s ? b : a;
        for (int i = 0; i < 3; i++) {
            char *f = next_frame(c, NULL, NULL);
            cr_assert_not_null(f, "shard %d, message %d", s, i);
            cr_assert_not_null(strstr(f, want[i]), "shard %d in number order: %s", s, f);
            cr_assert_not_null(strstr(f, epoch), "shard %d, in the join's epoch: %s", s, f);
            free(f);
        }
        cr_assert_null(outq_peek(&c->q));
    }
    free(ra);
    free(rb);
    end_conn(&a);
    end_conn(&b);
    teardown_shards();
}

Test(shard_hub, presence_of_one_shard_is_listed_on_the_other)
{
    setup_shards(false);
    struct conn *a = mk_conn(shard[0], PHX_V2, "ann"), *b = mk_conn(shard[1], PHX_V2, "bob");
    join_topic(a, "room:p", NULL);
    pump();
    cr_assert_eq(tracker_entry_count(shard[1]->tracker), 1, "ann replicated to shard 1");
    join_topic(b, "room:p", NULL);
    pump();
    cr_assert_eq(tracker_entry_count(shard[0]->tracker), 2);
    cr_assert_eq(tracker_entry_count(shard[1]->tracker), 2);
    end_conn(&b);
    pump();
    cr_assert_eq(tracker_entry_count(shard[0]->tracker), 1, "bob's leave replicated");
    end_conn(&a);
    pump();
    teardown_shards();
}
