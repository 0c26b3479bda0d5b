/* Tests server/registry.c: subscribe, O(1) unsubscribe, empty topics freed, iteration, the hash table
 * through growth, removals and shrinking. */
#include "registry.h"

#include <criterion/criterion.h>
#include <stdio.h>

static struct registry *r;

static void setup(void)
{
    r = registry_create();
    cr_assert_not_null(r);
}

static void teardown(void)
{
    cr_assert_eq(registry_topic_count(r), 0, "every test leaves the registry empty");
    cr_assert_eq(registry_sub_count(r), 0);
    registry_destroy(&r);
    cr_assert_null(r);
}

TestSuite(registry, .init = setup, .fini = teardown);

Test(registry, subscribe_find_iterate_unsubscribe)
{
    struct reg_sub a = {.kind = 1}, b = {.kind = 2}, c = {.kind = 1};
    cr_assert_eq(registry_subscribe(r, "room:1", &a), 0);
    cr_assert_eq(registry_subscribe(r, "room:1", &b), 0);
    cr_assert_eq(registry_subscribe(r, "room:2", &c), 0);
    cr_assert_eq(registry_topic_count(r), 2);
    cr_assert_eq(registry_sub_count(r), 3);
    struct reg_topic *t = registry_find(r, "room:1");
    cr_assert_eq(registry_topic_subscribers(t), 2);
    int seen = 0, kinds = 0;
    for (struct reg_sub *s = registry_first(t); s; s = s->next) {
        seen++;
        kinds += s->kind;
    }
    cr_assert_eq(seen, 2);
    cr_assert_eq(kinds, 3);
    cr_assert_str_eq(registry_sub_topic(&b), "room:1");
    cr_assert_null(registry_find(r, "room:3"));
    cr_assert_null(registry_first(NULL));

    registry_unsubscribe(r, &a);
    cr_assert_eq(registry_topic_subscribers(registry_find(r, "room:1")), 1);
    registry_unsubscribe(r, &b);
    cr_assert_null(registry_find(r, "room:1"), "the last unsubscribe frees the topic");
    cr_assert_null(registry_sub_topic(&b));
    registry_unsubscribe(r, &b); /* not subscribed: no-op */
    registry_unsubscribe(r, &c);
}

Test(registry, double_subscribe_refused)
{
    struct reg_sub a = {0};
    cr_assert_eq(registry_subscribe(r, "t", &a), 0);
    cr_assert_eq(registry_subscribe(r, "u", &a), -2);
    cr_assert_str_eq(registry_sub_topic(&a), "t");
    registry_unsubscribe(r, &a);
}

Test(registry, unsubscribe_middle_keeps_links)
{
    struct reg_sub s[5] = {{0}};
    for (int i = 0; i < 5; i++)
        registry_subscribe(r, "t", &s[i]);
    registry_unsubscribe(r, &s[2]); /* middle */
    registry_unsubscribe(r, &s[4]); /* head (newest first) */
    registry_unsubscribe(r, &s[0]); /* tail */
    int n = 0;
    for (struct reg_sub *it = registry_first(registry_find(r, "t")); it; it = it->next) {
        cr_assert(it == &s[1] || it == &s[3]);
        n++;
    }
    cr_assert_eq(n, 2);
    registry_unsubscribe(r, &s[1]);
    registry_unsubscribe(r, &s[3]);
}

Test(registry, many_topics)
{
    static struct reg_sub subs[2000];
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "room:%d", i % 500);
        cr_assert_eq(registry_subscribe(r, name, &subs[i]), 0);
    }
    cr_assert_eq(registry_topic_count(r), 500);
    cr_assert_eq(registry_topic_subscribers(registry_find(r, "room:7")), 4);
    for (int i = 0; i < 2000; i++)
        registry_unsubscribe(r, &subs[i]);
}

Test(registry, destroy_with_subscribers_left_forgets_them)
{
    struct registry *other = registry_create();
    struct reg_sub a = {0};
    registry_subscribe(other, "t", &a);
    registry_destroy(&other);
    cr_assert_null(registry_sub_topic(&a));
}

Test(registry, removals_keep_every_other_topic_findable)
{
    enum { N = 5000 };
    static struct reg_sub subs[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "users_socket:%d", i);
        cr_assert_eq(registry_subscribe(r, name, &subs[i]), 0);
    }
    /* removals in an order unrelated to the table's: every third, then the rest of the odd ones */
    for (int i = 0; i < N; i += 3)
        registry_unsubscribe(r, &subs[i]);
    for (int i = 1; i < N; i += 2)
        registry_unsubscribe(r, &subs[i]);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "users_socket:%d", i);
        bool kept = i % 3 != 0 && i % 2 == 0;
        struct reg_topic *t = registry_find(r, name);
        cr_assert_eq(t != NULL, kept, "%s", name);
        if (kept)
            cr_assert_str_eq(registry_sub_topic(&subs[i]), name);
    }
    for (int i = 0; i < N; i++)
        registry_unsubscribe(r, &subs[i]);
    cr_assert_null(registry_find(r, "users_socket:2"));
}
