/* Tests server/history.c: numbering, replay all-or-nothing, epochs, size and age limits, gaps. */
#include "history.h"

#include <criterion/criterion.h>
#include <string.h>

static struct history *h;

static void setup(void)
{
    h = history_create();
}

static void teardown(void)
{
    history_destroy(&h);
}

TestSuite(history, .init = setup, .fini = teardown);

struct seen {
    uint64_t seqs[64];
    size_t n;
};

static void collect(void *arg, const struct history_msg *m)
{
    struct seen *s = arg;
    s->seqs[s->n++] = m->seq;
}

static void add(struct topic_history *th, uint64_t epoch, uint64_t seq, uint64_t now, size_t size,
                uint64_t ttl)
{
    json_t *p = json_pack("{sI}", "_seq", (json_int_t)seq);
    cr_assert_eq(history_add(th, epoch, seq, "e", p, NULL, 0, now, size, ttl), 0);
    json_decref(p);
}

Test(history, local_numbers_and_complete_replay)
{
    struct topic_history *th = history_get(h, "t:1", true);
    cr_assert_not_null(th);
    cr_assert_null(history_get(h, "t:2", false));
    uint64_t e = history_epoch(th);
    cr_assert_neq(e, 0);
    for (int i = 0; i < 10; i++) {
        uint64_t seq = history_next_seq(th);
        cr_assert_eq(seq, (uint64_t)i + 1);
        add(th, e, seq, 100, 100, 0);
    }
    cr_assert_eq(history_last_seq(th), 10);
    struct seen s = {0};
    cr_assert(history_replay(th, e, 4, 100, 0, collect, &s));
    cr_assert_eq(s.n, 6);
    for (size_t i = 0; i < s.n; i++)
        cr_assert_eq(s.seqs[i], 5 + i);
    s.n = 0;
    cr_assert(history_replay(th, e, 10, 100, 0, collect, &s), "up to date: complete with nothing");
    cr_assert_eq(s.n, 0);
    cr_assert_not(history_replay(th, e + 1, 4, 100, 0, collect, &s), "another epoch");
    cr_assert_not(history_replay(th, e, 11, 100, 0, collect, &s), "ahead of the topic");
    cr_assert_eq(s.n, 0);
}

Test(history, size_and_age_limits_make_old_gaps_unrecoverable)
{
    struct topic_history *th = history_get(h, "t:1", true);
    uint64_t e = history_epoch(th);
    for (uint64_t seq = 1; seq <= 10; seq++)
        add(th, e, history_next_seq(th), seq * 1000, 5, 0);
    cr_assert_eq(history_count(th), 5);
    struct seen s = {0};
    cr_assert_not(history_replay(th, e, 3, 10000, 0, collect, &s), "3..5 were evicted");
    cr_assert(history_replay(th, e, 5, 10000, 0, collect, &s));
    cr_assert_eq(s.n, 5);
    s.n = 0;
    /* ttl 2.5 s at t=10 s: only messages from t>=7.5 s stay (seq 8, 9, 10) */
    cr_assert_not(history_replay(th, e, 6, 10000, 2500, collect, &s));
    cr_assert(history_replay(th, e, 7, 10000, 2500, collect, &s));
    cr_assert_eq(s.n, 3);
}

Test(history, out_of_order_arrivals_and_gaps)
{
    struct topic_history *th = history_get(h, "t:1", true);
    uint64_t e = 42;          /* the cluster's epoch replaces the local one */
    add(th, e, 7, 1, 100, 0); /* a node joining late sees 7 first */
    cr_assert_eq(history_epoch(th), 42);
    add(th, e, 9, 1, 100, 0);
    struct seen s = {0};
    cr_assert_not(history_replay(th, e, 7, 1, 0, collect, &s), "8 is missing");
    add(th, e, 8, 1, 100, 0);
    add(th, e, 8, 1, 100, 0); /* duplicates are kept once */
    cr_assert_eq(history_count(th), 3);
    cr_assert(history_replay(th, e, 7, 1, 0, collect, &s));
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.seqs[0], 8);
    cr_assert_eq(s.seqs[1], 9);
    cr_assert_not(history_replay(th, e, 5, 1, 0, collect, &s), "from before this node saw the topic");
}

Test(history, an_unsequenced_delivery_fails_replays_across_it)
{
    struct topic_history *th = history_get(h, "t:1", true);
    uint64_t e = history_epoch(th);
    for (int i = 0; i < 3; i++)
        add(th, e, history_next_seq(th), 1, 100, 0);
    history_mark_unsequenced(th);
    add(th, e, history_next_seq(th), 1, 100, 0);
    struct seen s = {0};
    cr_assert_not(history_replay(th, e, 3, 1, 0, collect, &s));
    cr_assert(history_replay(th, e, 4, 1, 0, collect, &s));
}

Test(history, a_new_epoch_empties_the_topic)
{
    struct topic_history *th = history_get(h, "t:1", true);
    add(th, 1, 1, 1, 100, 0);
    add(th, 1, 2, 1, 100, 0);
    add(th, 2, 1, 1, 100, 0);
    cr_assert_eq(history_epoch(th), 2);
    cr_assert_eq(history_count(th), 1);
    struct seen s = {0};
    cr_assert(history_replay(th, 2, 0, 1, 0, collect, &s));
    cr_assert_eq(s.n, 1);
}
