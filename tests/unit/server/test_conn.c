/*
 * Tests server/conn.c: message assembly from fragments, the frame size limit, malformed input, the
 * write queue limit (slow consumer), closing.
 */
#include "harness.h"

static void small_limits(struct options *o)
{
    o->max_frame_size = 64;
    o->max_queue_size = 100;
}

static struct server *s;
static struct conn *c;

static void setup(void)
{
    s = mk_server(NULL, small_limits);
    c = mk_conn(s, PHX_V2, "alice");
}

static void teardown(void)
{
    end_conn(&c);
    end_server(&s);
}

TestSuite(conn, .init = setup, .fini = teardown);

Test(conn, fragments_are_assembled_into_one_message)
{
    const char *msg = "[null,\"1\",\"phoenix\",\"heartbeat\",{}]";
    cr_assert_eq(conn_on_data(c, msg, 10, true, false, false, 0), 0);
    expect_none(c);
    cr_assert_eq(conn_on_data(c, msg + 10, 10, false, false, false, 0), 0);
    cr_assert_eq(conn_on_data(c, msg + 20, strlen(msg) - 20, false, true, false, 0), 0);
    expect_frame(c, "[null,\"1\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    cr_assert_null(c->rx, "assembly memory is returned after the message");
}

Test(conn, whole_message_in_one_piece)
{
    const char *msg = "[null,\"1\",\"phoenix\",\"heartbeat\",{}]";
    cr_assert_eq(conn_on_data(c, msg, strlen(msg), true, true, false, 0), 0);
    free(next_frame(c, NULL, NULL));
    cr_assert_null(c->rx, "no memory for a message in one piece");
}

Test(conn, a_drained_queue_holds_no_memory)
{
    const char *msg = "[null,\"1\",\"phoenix\",\"heartbeat\",{}]";
    cr_assert_eq(conn_on_data(c, msg, strlen(msg), true, true, false, 0), 0);
    cr_assert_eq(c->q.count, 1);
    conn_pop(c, true);
    cr_assert(outq_empty(&c->q));
    cr_assert_null(c->q.ring, "nothing is held once the queue drains");
    cr_assert_eq(c->q.cap, 0);
    cr_assert_eq(s->stats.queue_bytes, 0);
}

Test(conn, announced_size_over_limit_is_dropped_to_its_end_then_closes_1009)
{
    cr_assert_eq(conn_on_data(c, "[", 1, true, false, false, 1000), 0, "read on, keep nothing");
    cr_assert_null(c->rx->buf.mem, "nothing of it is kept");
    cr_assert_not(c->closing);
    char rest[500];
    memset(rest, ' ', sizeof(rest));
    cr_assert_eq(conn_on_data(c, rest, sizeof(rest), false, false, false, 499), 0);
    cr_assert_null(c->rx->buf.mem);
    cr_assert_eq(conn_on_data(c, rest, sizeof(rest) - 1, false, true, false, 0), -1, "its end: close");
    cr_assert(c->closing);
    cr_assert_eq(c->close_code, 1009);
    cr_assert_eq(mock_of(c)->closes, 1);
    /* a closing connection takes nothing more */
    cr_assert_eq(conn_on_data(c, "x", 1, true, true, false, 0), -1);
    cr_assert_eq(mock_of(c)->closes, 1);
}

Test(conn, accumulated_size_over_limit_closes_1009)
{
    char chunk[40];
    memset(chunk, ' ', sizeof(chunk));
    cr_assert_eq(conn_on_data(c, chunk, sizeof(chunk), true, false, false, 0), 0);
    cr_assert_eq(conn_on_data(c, chunk, sizeof(chunk), false, false, false, 0), 0, "over: dropped");
    cr_assert_null(c->rx->buf.mem, "what was assembled is freed at once");
    cr_assert_eq(conn_on_data(c, chunk, sizeof(chunk), false, true, false, 0), -1);
    cr_assert_eq(c->close_code, 1009);
}

Test(conn, an_endless_oversized_message_is_cut_without_waiting_for_its_end)
{
    static char chunk[1 << 20];
    cr_assert_eq(conn_on_data(c, chunk, sizeof(chunk), true, false, false, 0), 0);
    int rc = 0;
    for (int i = 0; i < 70 && rc == 0; i++)
        rc = conn_on_data(c, chunk, sizeof(chunk), false, false, false, 0);
    cr_assert_eq(rc, -1, "cut after 64 MiB dropped");
    cr_assert_eq(c->close_code, 1009);
}

Test(conn, malformed_frames_close_1007)
{
    static const char *bad[] = {"not json", "{\"a\":1}", "[1,2,3]", "[null,\"1\",5,\"ev\",{}]", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct conn *x = mk_conn(s, PHX_V2, "x");
        cr_assert_eq(send_text(x, bad[i]), -1, "%s", bad[i]);
        cr_assert_eq(x->close_code, 1007, "%s", bad[i]);
        cr_assert(strstr(x->close_reason, "malformed"), "%s", x->close_reason);
        end_conn(&x);
    }
    static const unsigned char bad_bin[] = {0x07, 0, 0, 0, 0};
    struct conn *x = mk_conn(s, PHX_V2, "x");
    cr_assert_eq(conn_on_message(x, bad_bin, sizeof(bad_bin), true), -1);
    cr_assert_eq(x->close_code, 1007);
    end_conn(&x);
    struct conn *v1 = mk_conn(s, PHX_V1, "y");
    cr_assert_eq(conn_on_message(v1, bad_bin, sizeof(bad_bin), true), -1, "V1 has no binary frames");
    end_conn(&v1);
    cr_assert_eq(s->stats.bad_frames, 7);
}

Test(conn, queue_limit_closes_slow_consumer_1008_and_drops_its_queue)
{
    char payload[60];
    memset(payload, 'x', sizeof(payload));
    struct frame *f = frame_create(payload, sizeof(payload), false);
    cr_assert_eq(conn_push(c, f), 0);
    cr_assert_eq(mock_of(c)->wakes, 1);
    cr_assert_eq(conn_push(c, f), -1, "120 bytes would pass the 100-byte limit");
    cr_assert(c->closing);
    cr_assert_eq(c->close_code, 1008);
    cr_assert(outq_empty(&c->q), "a closed consumer's queue is freed at once");
    cr_assert_eq(atomic_load(&f->refs), 1);
    cr_assert_eq(s->stats.slow_consumer_closes, 1);
    cr_assert_eq(conn_push(c, f), -1);
    frame_unref(&f);
}

Test(conn, one_frame_bigger_than_the_limit_still_fits_an_empty_queue)
{
    char payload[150];
    memset(payload, 'x', sizeof(payload));
    struct frame *f = frame_create(payload, sizeof(payload), false);
    cr_assert_eq(conn_push(c, f), 0);
    cr_assert_not(c->closing);
    frame_unref(&f);
}

Test(conn, close_is_idempotent_first_code_wins)
{
    conn_close(c, 1001, "disconnect");
    conn_close(c, 1008, "later");
    cr_assert_eq(c->close_code, 1001);
    cr_assert_str_eq(c->close_reason, "disconnect");
    cr_assert_eq(mock_of(c)->closes, 1);
}

Test(conn, idle_sweep_closes_silent_connections_1000)
{
    server_sweep_idle(s, c->last_rx_ms + s->opt.idle_timeout_ms);
    cr_assert_not(c->closing);
    server_sweep_idle(s, c->last_rx_ms + s->opt.idle_timeout_ms + 1);
    cr_assert(c->closing);
    cr_assert_eq(c->close_code, 1000);
}

static struct frame *bcast(size_t len, uint64_t ckey)
{
    char buf[256];
    memset(buf, 'b', sizeof(buf));
    struct frame *f = frame_create(buf, len, false);
    f->broadcast = true;
    f->ckey = ckey;
    return f;
}

Test(conn, drop_oldest_makes_room_instead_of_closing)
{
    /* limit 100 bytes: three 40-byte broadcasts do not fit */
    struct frame *f[4];
    for (int i = 0; i < 4; i++) {
        f[i] = bcast(40, 0);
        cr_assert_eq(conn_push_policy(c, f[i], SLOW_DROP_OLDEST), 0);
    }
    cr_assert_not(c->closing);
    cr_assert_leq(c->q.bytes, 100);
    cr_assert_eq(outq_peek(&c->q), f[2], "the oldest went first");
    cr_assert_eq(s->stats.slow_dropped[SLOW_DROP_OLDEST], 2);
    cr_assert_eq(s->stats.queue_bytes, c->q.bytes);
    for (int i = 0; i < 4; i++)
        frame_unref(&f[i]);
}

Test(conn, a_behind_subscriber_keeps_the_latest_message_per_key)
{
    s->opt.max_queue_size = 1 << 20;
    struct frame *keep[40];
    /* 32 distinct keys make the subscriber "behind" */
    for (int i = 0; i < 32; i++) {
        keep[i] = bcast(10, 100 + (uint64_t)i);
        conn_push_policy(c, keep[i], SLOW_CONFLATE);
    }
    cr_assert_eq(c->q.count, 32);
    struct frame *newer = bcast(12, 105);
    cr_assert_eq(conn_push_policy(c, newer, SLOW_CONFLATE), 0);
    cr_assert_eq(c->q.count, 32, "key 105 was replaced, not added");
    cr_assert_eq(s->stats.slow_conflated, 1);
    cr_assert_eq(c->q.bytes, 32 * 10 + 2);
    frame_unref(&newer);
    for (int i = 0; i < 32; i++)
        frame_unref(&keep[i]);
}

Test(conn, a_reader_that_keeps_up_sees_every_message)
{
    struct frame *a = bcast(10, 5), *b = bcast(10, 5);
    conn_push_policy(c, a, SLOW_CONFLATE);
    conn_push_policy(c, b, SLOW_CONFLATE);
    cr_assert_eq(c->q.count, 2, "not behind: no conflation");
    frame_unref(&a);
    frame_unref(&b);
}
