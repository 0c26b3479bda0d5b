/*
 * Tests server/cluster.c: two (or three) in-process nodes wired by a fake carrier that, like Redis
 * pub/sub, delivers every message to every node including the sender, in order.
 */
#include "cluster.h"
#include "envelope.h"
#include "harness.h"
#include "pubsub.h"
#include "tracker.h"

#define NODES 3

struct bus {
    struct server *nodes[NODES];
    int n;
    unsigned char *msgs[4096];
    size_t lens[4096];
    int from[4096];
    int count;
    bool down;     /* the carrier drops everything */
    int drop_next; /* drop this many messages */
};

struct link {
    struct bus *bus;
    int index;
};

static int bus_send(void *ctx, const unsigned char *bytes, size_t len)
{
    struct link *l = ctx;
    struct bus *b = l->bus;
    if (b->down)
        return -1;
    if (b->drop_next > 0) {
        b->drop_next--;
        return 0; /* lost on the way */
    }
    cr_assert_lt(b->count, 4096);
    b->msgs[b->count] = malloc(len);
    memcpy(b->msgs[b->count], bytes, len);
    b->lens[b->count] = len;
    b->from[b->count] = l->index;
    b->count++;
    return 0;
}

/* Deliver everything sent so far (and what that causes) to every node. */
static void pump(struct bus *b, uint64_t now)
{
    for (int i = 0; i < b->count; i++) {
        for (int n = 0; n < b->n; n++)
            cluster_receive(b->nodes[n]->cluster, b->msgs[i], b->lens[i], now);
        free(b->msgs[i]);
    }
    b->count = 0;
}

static struct bus bus;
static struct link links[NODES];

static void setup_nodes(int n)
{
    memset(&bus, 0, sizeof(bus));
    bus.n = n;
    for (int i = 0; i < n; i++) {
        bus.nodes[i] = mk_server(NULL, NULL);
        links[i] = (struct link){&bus, i};
        struct cluster_carrier carrier = {.send = bus_send, .ctx = &links[i]};
        bus.nodes[i]->cluster = cluster_create(bus.nodes[i], &carrier, 1000, 3000);
    }
}

static void teardown_nodes(void)
{
    for (int i = 0; i < bus.n; i++) {
        cluster_destroy(&bus.nodes[i]->cluster);
        cr_assert_eq(tracker_entry_count(bus.nodes[i]->tracker), 0);
        end_server(&bus.nodes[i]);
    }
    for (int i = 0; i < bus.count; i++)
        free(bus.msgs[i]);
}

Test(cluster, broadcast_reaches_every_node_exactly_once)
{
    setup_nodes(3);
    struct conn *a = mk_conn(bus.nodes[0], PHX_V2, "a"), *b = mk_conn(bus.nodes[1], PHX_V2, "b"),
                *c = mk_conn(bus.nodes[2], PHX_V2, "c");
    join_topic(a, "telemetry:x", NULL);
    join_topic(b, "telemetry:x", NULL);
    join_topic(c, "telemetry:x", NULL);
    json_t *p = json_pack("{si}", "seq", 1);
    struct broadcast br = {.topic = "telemetry:x", .event = "pos", .json = p};
    pubsub_broadcast(bus.nodes[1], &br);
    pump(&bus, 1);
    pump(&bus, 1); /* nothing may be sent on */
    cr_assert_eq(count_frames(a, "\"pos\""), 1);
    cr_assert_eq(count_frames(b, "\"pos\""), 1, "the origin's own echo is dropped");
    cr_assert_eq(count_frames(c, "\"pos\""), 1);
    cr_assert_eq(cluster_stats(bus.nodes[0]->cluster)->received, 1);
    json_decref(p);
    end_conn(&a);
    end_conn(&b);
    end_conn(&c);
    teardown_nodes();
}

Test(cluster, binary_broadcast_and_broadcast_from)
{
    setup_nodes(2);
    struct conn *a1 = mk_conn(bus.nodes[0], PHX_V2, "a1"), *a2 = mk_conn(bus.nodes[0], PHX_V2, "a2"),
                *b = mk_conn(bus.nodes[1], PHX_V2, "b");
    join_topic(a1, "room:r", NULL);
    join_topic(a2, "room:r", NULL);
    join_topic(b, "room:r", NULL);
    pump(&bus, 1);
    drain_presence(a1);
    drain_presence(a2);
    drain_presence(b);
    send_text(a1, "[\"1\",\"2\",\"room:r\",\"shout_others\",{\"x\":1}]");
    pump(&bus, 2);
    cr_assert_eq(count_frames(a1, "\"shout\""), 0, "the sender's channel is skipped");
    cr_assert_eq(count_frames(a2, "\"shout\""), 1);
    cr_assert_eq(count_frames(b, "\"shout\""), 1, "other nodes deliver to all");
    static const unsigned char bytes[] = {1, 2, 3};
    struct broadcast bin = {.topic = "room:r", .event = "blob", .bin = bytes, .bin_len = 3};
    pubsub_broadcast(bus.nodes[0], &bin);
    pump(&bus, 3);
    size_t len;
    int binary;
    char *f = next_frame(b, &len, &binary);
    cr_assert_not_null(f);
    cr_assert(binary);
    cr_assert_eq(len, 3 + 6 + 4 + 3);
    free(f);
    end_conn(&a1);
    end_conn(&a2);
    end_conn(&b);
    pump(&bus, 4);
    teardown_nodes();
}

/* The presence state a fresh joiner on `c` sees: number of metas under key. */
static size_t state_metas(struct conn *c, const char *topic, const char *key)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "[\"9\",\"9\",\"%s\",\"phx_join\",{}]", topic);
    send_text(c, buf);
    size_t n = 0;
    char *f;
    while ((f = next_frame(c, NULL, NULL))) {
        json_t *j = json_loads(f, 0, NULL);
        if (j && strcmp(json_string_value(json_array_get(j, 3)), "presence_state") == 0)
            n = json_array_size(json_object_get(json_object_get(json_array_get(j, 4), key), "metas"));
        json_decref(j);
        free(f);
    }
    return n;
}

Test(cluster, presence_replicates_joins_and_leaves)
{
    setup_nodes(2);
    struct server *A = bus.nodes[0], *B = bus.nodes[1];
    pump(&bus, 1);
    cluster_tick(A->cluster, 1);
    cluster_tick(B->cluster, 1);
    pump(&bus, 1); /* heartbeats -> state requests */
    pump(&bus, 1); /* states */
    struct conn *watcher = mk_conn(B, PHX_V2, "bob");
    join_topic(watcher, "room:p", NULL);
    drain_presence(watcher);
    struct conn *alice = mk_conn(A, PHX_V2, "alice");
    join_topic(alice, "room:p", NULL);
    pump(&bus, 2);
    cr_assert_eq(count_frames(watcher, "\"alice\""), 1, "bob's node tells bob that alice joined");
    cr_assert_eq(tracker_origin_count(B->tracker, A->node_id), 1);
    struct conn *late = mk_conn(B, PHX_V2, "carol");
    cr_assert_eq(state_metas(late, "room:p", "alice"), 1, "a joiner on B sees alice of A");
    end_conn(&alice);
    pump(&bus, 3);
    cr_assert_eq(tracker_origin_count(B->tracker, A->node_id), 0);
    int leaves = 0;
    char *f;
    while ((f = next_frame(watcher, NULL, NULL))) {
        leaves += strstr(f, "\"leaves\":{\"alice\"") != NULL;
        free(f);
    }
    cr_assert_eq(leaves, 1);
    end_conn(&watcher);
    end_conn(&late);
    pump(&bus, 4);
    teardown_nodes();
}

Test(cluster, a_lost_diff_is_repaired_by_the_next_heartbeat)
{
    setup_nodes(2);
    struct server *A = bus.nodes[0], *B = bus.nodes[1];
    cluster_tick(A->cluster, 1);
    pump(&bus, 1);
    pump(&bus, 1);
    struct conn *alice = mk_conn(A, PHX_V2, "alice");
    bus.drop_next = 1; /* alice's join diff is lost */
    join_topic(alice, "room:q", NULL);
    pump(&bus, 2);
    cr_assert_eq(tracker_origin_count(B->tracker, A->node_id), 0);
    cluster_tick(A->cluster, 1000); /* heartbeat says seq 1; B has 0 */
    pump(&bus, 1000);               /* B asks */
    pump(&bus, 1000);               /* A answers with its state */
    cr_assert_eq(tracker_origin_count(B->tracker, A->node_id), 1);
    cr_assert_geq(cluster_stats(B->cluster)->state_syncs, 1);
    end_conn(&alice);
    pump(&bus, 1001);
    cr_assert_eq(tracker_origin_count(B->tracker, A->node_id), 0);
    teardown_nodes();
}

Test(cluster, a_silent_node_expires_and_its_users_leave)
{
    setup_nodes(2);
    struct server *A = bus.nodes[0], *B = bus.nodes[1];
    cluster_tick(A->cluster, 1);
    pump(&bus, 1);
    pump(&bus, 1);
    struct conn *alice = mk_conn(A, PHX_V2, "alice"), *bob = mk_conn(B, PHX_V2, "bob");
    join_topic(bob, "room:e", NULL);
    join_topic(alice, "room:e", NULL);
    pump(&bus, 2);
    drain_presence(bob);
    cr_assert_eq(tracker_origin_count(B->tracker, A->node_id), 1);
    bus.down = true; /* A is cut off (killed, or its Redis link is gone) */
    cluster_tick(A->cluster, 2000);
    cluster_tick(B->cluster, 2000);
    cr_assert_eq(cluster_peer_count(B->cluster), 1, "not yet expired");
    cluster_tick(B->cluster, 3003);
    cr_assert_eq(cluster_peer_count(B->cluster), 0);
    cr_assert_eq(tracker_origin_count(B->tracker, A->node_id), 0);
    char *f = next_frame(bob, NULL, NULL);
    cr_assert(f && strstr(f, "\"leaves\":{\"alice\""), "%s", f ? f : "nothing");
    free(f);
    cr_assert_geq(cluster_stats(A->cluster)->dropped, 1, "A's sends were counted as dropped");
    bus.down = false;
    end_conn(&alice);
    end_conn(&bob);
    teardown_nodes();
}

Test(cluster, own_heartbeat_echo_is_the_probe_and_garbage_is_counted)
{
    setup_nodes(1);
    struct server *A = bus.nodes[0];
    cr_assert_eq(cluster_stats(A->cluster)->last_probe_ms, 0);
    cluster_tick(A->cluster, 5);
    pump(&bus, 7);
    cr_assert_eq(cluster_stats(A->cluster)->last_probe_ms, 7);
    cr_assert_lt(cluster_receive(A->cluster, (const unsigned char *)"garbage", 7, 8), 0);
    unsigned char bad[ENVELOPE_HEADER + 8] = {'C', 9, 'B'};
    cr_assert_eq(cluster_receive(A->cluster, bad, sizeof(bad), 8), ENV_E_VERSION);
    /* a valid envelope whose JSON body is not JSON */
    struct envelope e = {
        .kind = ENV_BROADCAST, .origin = 42, .body = (const unsigned char *)"{nope", .body_len = 5};
    strcpy(e.topic, "t:1");
    strcpy(e.event, "e");
    struct phx_buf b;
    phx_buf_init(&b, 0);
    envelope_encode(&e, &b);
    cr_assert_lt(cluster_receive(A->cluster, (const unsigned char *)phx_buf_data(&b), b.len, 9), 0);
    phx_buf_cleanup(&b);
    cr_assert_eq(cluster_stats(A->cluster)->bad, 3);
    teardown_nodes();
}

Test(cluster, backend_publish_is_delivered_locally)
{
    setup_nodes(1);
    struct conn *a = mk_conn(bus.nodes[0], PHX_V2, "a");
    join_topic(a, "telemetry:fleet", NULL);
    const char *problem = NULL;
    const char *msg = "{\"topic\":\"telemetry:fleet\",\"event\":\"position\",\"payload\":{\"id\":3}}";
    cr_assert_eq(cluster_receive_publish(bus.nodes[0]->cluster, msg, strlen(msg), &problem), 0);
    expect_frame(a, "[null,null,\"telemetry:fleet\",\"position\",{\"id\":3}]");
    cr_assert_eq(bus.count, 0, "a backend publish is not sent on");
    cr_assert_eq(cluster_receive_publish(bus.nodes[0]->cluster, "{}", 2, &problem), -1);
    cr_assert_not_null(problem);
    end_conn(&a);
    teardown_nodes();
}
