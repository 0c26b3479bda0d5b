/*
 * presence.c: the handler-facing presence API (see presence.h): tracker changes turned into
 * presence_diff broadcasts on the channel's topic.
 */
#include "presence.h"

#include "channel.h"
#include "cluster.h"
#include "conn.h"
#include "pubsub.h"
#include "registry.h"
#include "server.h"
#include "tracker.h"

#include <string.h>
#include <time.h>

/* Broadcast diff (consumed) on ch's topic when it says anything. */
static void publish_diff(struct channel *ch, json_t *diff)
{
    if (diff && !tracker_diff_empty(diff)) {
        /* Each node tells its own subscribers; the cluster carries the diff to the others. */
        struct server *s = ch->conn->srv;
        struct broadcast b = {.topic = ch->topic, .event = "presence_diff", .json = diff};
        pubsub_deliver_local(s, &b);
        if (s->cluster)
            cluster_on_local_presence(s->cluster, ch->topic, diff);
    }
    json_decref(diff);
}

int presence_track(struct channel *ch, const char *key, json_t *meta)
{
    json_t *diff = tracker_diff_new();
    if (!diff)
        return -1;
    int rc = tracker_track(ch->conn->srv->tracker, &ch->presences, ch->topic, key, meta, diff);
    publish_diff(ch, diff);
    return rc;
}

int presence_update(struct channel *ch, const char *key, json_t *meta)
{
    json_t *diff = tracker_diff_new();
    if (!diff)
        return -1;
    int rc = tracker_update(ch->conn->srv->tracker, &ch->presences, key, meta, diff);
    publish_diff(ch, diff);
    return rc;
}

int presence_untrack(struct channel *ch, const char *key)
{
    json_t *diff = tracker_diff_new();
    if (!diff)
        return -1;
    int rc = tracker_untrack(ch->conn->srv->tracker, &ch->presences, key, diff);
    publish_diff(ch, diff);
    return rc;
}

json_t *presence_list(struct channel *ch)
{
    return tracker_list(ch->conn->srv->tracker, ch->topic);
}

int presence_join(struct channel *ch, const char *key, json_t *meta)
{
    if (presence_track(ch, key, meta) != 0)
        return -1;
    json_t *state = presence_list(ch);
    int rc = state ? channel_push(ch, "presence_state", CH_JSON(state)) : -1;
    json_decref(state);
    return rc == 0 ? 0 : -1;
}

int presence_on_after_join(struct channel *ch, const char *msg, json_t *data)
{
    (void)data;
    if (strcmp(msg, "after_join") != 0)
        return CH_OK;
    json_t *meta = json_object(); /* {"online_at": <unix seconds>}, without json_pack's format parsing */
    int rc = meta && json_object_set_new_nocheck(meta, "online_at", json_integer((json_int_t)time(NULL))) == 0
                 ? presence_join(ch, channel_user_id(ch), meta)
                 : -1;
    json_decref(meta);
    return rc == 0 ? CH_OK : CH_CRASH;
}

void presence_channel_ended(struct channel *ch)
{
    if (!ch->presences)
        return;
    struct server *s = ch->conn->srv;
    if (!s->cluster && !registry_find(s->registry, ch->topic)) {
        /* The topic's last subscriber on a lone node (ch is already unsubscribed): a diff would reach
         * nobody, so none is built. The broadcast still counts, as pubsub_deliver_local counts it. */
        tracker_untrack_all(s->tracker, &ch->presences, NULL);
        s->stats.broadcasts++;
        return;
    }
    json_t *diff = tracker_diff_new();
    tracker_untrack_all(ch->conn->srv->tracker, &ch->presences, diff);
    publish_diff(ch, diff);
}
