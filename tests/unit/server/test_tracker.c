/* Tests server/tracker.c: metas per key, phx_ref, updates, diffs, cleanup. */
#include "tracker.h"

#include <criterion/criterion.h>
#include <string.h>

static struct tracker *t;

static void setup(void)
{
    t = tracker_create(42);
    cr_assert_not_null(t);
}

static void teardown(void)
{
    cr_assert_eq(tracker_entry_count(t), 0, "every test leaves the tracker empty");
    cr_assert_eq(tracker_topic_count(t), 0);
    tracker_destroy(&t);
}

TestSuite(tracker, .init = setup, .fini = teardown);

static const char *ref_of(json_t *diff, const char *side, const char *key, size_t i)
{
    json_t *metas = json_object_get(json_object_get(json_object_get(diff, side), key), "metas");
    return json_string_value(json_object_get(json_array_get(metas, i), "phx_ref"));
}

Test(tracker, track_adds_a_stamped_copy_and_a_join)
{
    struct tracker_entry *mine = NULL;
    json_t *meta = json_pack("{si}", "online_at", 7);
    json_t *diff = tracker_diff_new();
    cr_assert(tracker_diff_empty(diff));
    cr_assert_eq(tracker_track(t, &mine, "room:1", "alice", meta, diff), 0);
    cr_assert_null(json_object_get(meta, "phx_ref"), "the caller's meta is not modified");
    const char *ref = ref_of(diff, "joins", "alice", 0);
    cr_assert_not_null(ref);
    cr_assert_eq(strlen(ref), 16);
    cr_assert_eq(strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 16);
    cr_assert_eq(json_object_size(json_object_get(diff, "leaves")), 0);
    json_t *list = tracker_list(t, "room:1");
    cr_assert_eq(json_object_size(list), 1);
    json_t *m0 = json_array_get(json_object_get(json_object_get(list, "alice"), "metas"), 0);
    cr_assert_eq(json_integer_value(json_object_get(m0, "online_at")), 7);
    cr_assert_str_eq(json_string_value(json_object_get(m0, "phx_ref")), ref);
    json_decref(list);
    json_decref(diff);

    diff = tracker_diff_new();
    tracker_untrack_all(t, &mine, diff);
    cr_assert_null(mine);
    cr_assert_str_eq(ref_of(diff, "leaves", "alice", 0), ref_of(diff, "leaves", "alice", 0));
    cr_assert_not_null(ref_of(diff, "leaves", "alice", 0));
    json_decref(diff);
    json_decref(meta);
}

Test(tracker, same_key_twice_is_one_key_with_two_metas_and_unique_refs)
{
    struct tracker_entry *tab1 = NULL, *tab2 = NULL;
    json_t *meta = json_object();
    tracker_track(t, &tab1, "room:1", "alice", meta, NULL);
    tracker_track(t, &tab2, "room:1", "alice", meta, NULL);
    json_t *list = tracker_list(t, "room:1");
    cr_assert_eq(json_object_size(list), 1);
    json_t *metas = json_object_get(json_object_get(list, "alice"), "metas");
    cr_assert_eq(json_array_size(metas), 2);
    cr_assert_str_neq(json_string_value(json_object_get(json_array_get(metas, 0), "phx_ref")),
                      json_string_value(json_object_get(json_array_get(metas, 1), "phx_ref")));
    json_decref(list);
    tracker_untrack_all(t, &tab1, NULL);
    list = tracker_list(t, "room:1");
    cr_assert_eq(json_array_size(json_object_get(json_object_get(list, "alice"), "metas")), 1);
    json_decref(list);
    tracker_untrack_all(t, &tab2, NULL);
    list = tracker_list(t, "room:1");
    cr_assert_eq(json_object_size(list), 0);
    json_decref(list);
    json_decref(meta);
}

Test(tracker, update_sets_phx_ref_prev_and_diffs_both_ways)
{
    struct tracker_entry *mine = NULL;
    json_t *m1 = json_pack("{ss}", "status", "away"), *m2 = json_pack("{ss}", "status", "busy");
    json_t *d1 = tracker_diff_new();
    tracker_track(t, &mine, "room:1", "bob", m1, d1);
    const char *old = ref_of(d1, "joins", "bob", 0);
    json_t *d2 = tracker_diff_new();
    cr_assert_eq(tracker_update(t, &mine, "bob", m2, d2), 0);
    cr_assert_str_eq(ref_of(d2, "leaves", "bob", 0), old);
    json_t *joined =
        json_array_get(json_object_get(json_object_get(json_object_get(d2, "joins"), "bob"), "metas"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(joined, "phx_ref_prev")), old);
    cr_assert_str_neq(json_string_value(json_object_get(joined, "phx_ref")), old);
    cr_assert_str_eq(json_string_value(json_object_get(joined, "status")), "busy");
    cr_assert_eq(tracker_update(t, &mine, "nobody", m2, NULL), -3);
    cr_assert_eq(tracker_update(t, &mine, "bob", NULL, NULL), -2);
    json_t *d3 = tracker_diff_new();
    cr_assert_eq(tracker_untrack(t, &mine, "bob", d3), 0);
    cr_assert_eq(tracker_untrack(t, &mine, "bob", NULL), -3);
    json_t *left =
        json_array_get(json_object_get(json_object_get(json_object_get(d3, "leaves"), "bob"), "metas"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(left, "status")), "busy");
    json_decref(d1);
    json_decref(d2);
    json_decref(d3);
    json_decref(m1);
    json_decref(m2);
}

Test(tracker, topics_are_separate_and_non_objects_refused)
{
    struct tracker_entry *a = NULL, *b = NULL;
    json_t *meta = json_object(), *arr = json_array();
    cr_assert_eq(tracker_track(t, &a, "room:1", "x", arr, NULL), -2);
    tracker_track(t, &a, "room:1", "x", meta, NULL);
    tracker_track(t, &b, "room:2", "y", meta, NULL);
    cr_assert_eq(tracker_topic_count(t), 2);
    json_t *l1 = tracker_list(t, "room:1"), *none = tracker_list(t, "room:9");
    cr_assert_not_null(json_object_get(l1, "x"));
    cr_assert_null(json_object_get(l1, "y"));
    cr_assert_eq(json_object_size(none), 0);
    json_decref(l1);
    json_decref(none);
    tracker_untrack_all(t, &a, NULL);
    tracker_untrack_all(t, &b, NULL);
    json_decref(meta);
    json_decref(arr);
}

Test(tracker, refs_unique_over_many_tracks)
{
    enum { N = 5000 };
    static struct tracker_entry *owners[N];
    json_t *meta = json_object();
    json_t *seen = json_object();
    for (int i = 0; i < N; i++) {
        json_t *d = tracker_diff_new();
        tracker_track(t, &owners[i], "room:big", "k", meta, d);
        const char *r = ref_of(d, "joins", "k", 0);
        cr_assert_null(json_object_get(seen, r), "phx_ref %s reused", r);
        json_object_set_new(seen, r, json_true());
        json_decref(d);
    }
    for (int i = 0; i < N; i++)
        tracker_untrack_all(t, &owners[i], NULL);
    json_decref(seen);
    json_decref(meta);
}
