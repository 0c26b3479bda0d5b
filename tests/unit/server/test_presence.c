/*
 * Tests server/presence.c through the demo room: presence_state to the joiner, presence_diff to all,
 * leaves on leave, crash and abrupt close, one key with two metas for two sockets of one user.
 */
#include "harness.h"
#include "tracker.h"

/* The next frame as JSON (caller decrefs); fails the test when there is none. */
static json_t *next_json(struct conn *c)
{
    char *f = next_frame(c, NULL, NULL);
    cr_assert_not_null(f, "expected a frame");
    json_t *j = json_loads(f, 0, NULL);
    cr_assert_not_null(j, "%s", f);
    free(f);
    return j;
}

static void join(struct conn *c, const char *jr, const char *topic)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "[\"%s\",\"%s\",\"%s\",\"phx_join\",{}]", jr, jr, topic);
    cr_assert_eq(send_text(c, buf), 0);
    json_t *reply = next_json(c);
    cr_assert_str_eq(json_string_value(json_array_get(reply, 3)), "phx_reply");
    json_decref(reply);
}

static size_t metas_of(json_t *obj, const char *key)
{
    return json_array_size(json_object_get(json_object_get(obj, key), "metas"));
}

Test(presence, state_to_joiner_diff_to_everyone)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *a = mk_conn(s, PHX_V2, "alice"), *b = mk_conn(s, PHX_V2, "bob");
    join(a, "1", "room:p");
    json_t *diff = next_json(a); /* alice is subscribed by the time she is tracked */
    cr_assert_str_eq(json_string_value(json_array_get(diff, 3)), "presence_diff");
    cr_assert(json_is_null(json_array_get(diff, 0)), "a diff is a broadcast: join_ref null");
    cr_assert_eq(metas_of(json_object_get(json_array_get(diff, 4), "joins"), "alice"), 1);
    cr_assert_not_null(json_object_get(json_array_get(diff, 4), "leaves"), "leaves always present");
    json_decref(diff);
    json_t *state = next_json(a);
    cr_assert_str_eq(json_string_value(json_array_get(state, 3)), "presence_state");
    cr_assert_str_eq(json_string_value(json_array_get(state, 0)), "1", "a push carries the join_ref");
    cr_assert(json_is_null(json_array_get(state, 1)));
    json_t *meta =
        json_array_get(json_object_get(json_object_get(json_array_get(state, 4), "alice"), "metas"), 0);
    cr_assert(json_is_integer(json_object_get(meta, "online_at")));
    cr_assert_eq(json_string_length(json_object_get(meta, "phx_ref")), 16);
    json_decref(state);

    join(b, "1", "room:p");
    json_t *to_alice = next_json(a);
    cr_assert_eq(metas_of(json_object_get(json_array_get(to_alice, 4), "joins"), "bob"), 1);
    json_decref(to_alice);
    json_decref(next_json(b)); /* bob's own diff */
    state = next_json(b);
    cr_assert_eq(json_object_size(json_array_get(state, 4)), 2, "bob sees alice and himself");
    json_decref(state);

    /* bob leaves: alice is told, bob is not (he is unsubscribed first) */
    send_text(b, "[\"1\",\"2\",\"room:p\",\"phx_leave\",{}]");
    json_t *left = next_json(a);
    cr_assert_str_eq(json_string_value(json_array_get(left, 3)), "presence_diff");
    cr_assert_eq(metas_of(json_object_get(json_array_get(left, 4), "leaves"), "bob"), 1);
    cr_assert_eq(json_object_size(json_object_get(json_array_get(left, 4), "joins")), 0);
    json_decref(left);
    free(next_frame(b, NULL, NULL)); /* reply */
    free(next_frame(b, NULL, NULL)); /* phx_close */
    expect_none(b);
    end_conn(&a);
    end_conn(&b);
    cr_assert_eq(tracker_entry_count(s->tracker), 0);
    end_server(&s);
}

Test(presence, same_user_two_sockets_one_key_two_metas_and_abrupt_close_leaves)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *t1 = mk_conn(s, PHX_V2, "alice"), *t2 = mk_conn(s, PHX_V2, "alice"),
                *b = mk_conn(s, PHX_V2, "bob");
    join(b, "1", "room:q");
    drain_presence(b);
    join(t1, "1", "room:q");
    join(t2, "1", "room:q");
    drain_presence(t1);
    drain_presence(b);
    json_decref(next_json(t2)); /* diff */
    json_t *state = next_json(t2);
    cr_assert_eq(metas_of(json_array_get(state, 4), "alice"), 2);
    json_decref(state);
    drain_presence(t1);

    /* the transport dies without a close handshake: destroying the conn is what the transport does */
    end_conn(&t1);
    json_t *left = next_json(b);
    cr_assert_eq(metas_of(json_object_get(json_array_get(left, 4), "leaves"), "alice"), 1);
    json_decref(left);
    cr_assert_eq(tracker_entry_count(s->tracker), 2);

    send_text(t2, "[\"1\",\"5\",\"room:q\",\"crash\",{}]");
    left = next_json(b);
    cr_assert_eq(metas_of(json_object_get(json_array_get(left, 4), "leaves"), "alice"), 1,
                 "a crash leaves too");
    json_decref(left);
    end_conn(&t2);
    end_conn(&b);
    cr_assert_eq(tracker_entry_count(s->tracker), 0);
    end_server(&s);
}
