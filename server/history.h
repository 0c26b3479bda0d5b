/*
 * history.h: the recent broadcasts of topics whose policy keeps history, for recovery on rejoin.
 *
 * Each topic has an epoch (a random 64-bit number: a new one whenever the history was lost, e.g. a
 * restart) and numbers its broadcasts 1, 2, 3, ... A client that was away asks to replay everything
 * after the last number it saw in an epoch; the answer is all of it, in order, or "not recoverable"
 * (another epoch, older than what is kept, or a gap), never part of it.
 *
 * Numbers come from history_next_seq on a single node, or from Redis in a cluster (cluster.c); then
 * messages may arrive out of order and are kept sorted, and a number never seen is a gap.
 */
#ifndef CINDER_HISTORY_H
#define CINDER_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct history;
struct topic_history;

struct history_msg {
    uint64_t seq;
    uint64_t at_ms;
    char *event;        /* owned */
    json_t *payload;    /* owned reference (with its "_seq"), or NULL for binary */
    unsigned char *bin; /* owned copy when binary */
    size_t bin_len;
};

struct history *history_create(void);
/* The same, but a topic's first epoch is derived from seed and the topic (below 2^52): the shards of a
 * node, seeded alike, agree on it without asking each other. */
struct history *history_create_seeded(uint64_t seed);
void history_destroy(struct history **h);

/* The topic's history (borrowed), created when asked to, with a fresh random epoch. NULL when absent
 * and not created, or OOM. */
struct topic_history *history_get(struct history *h, const char *topic, bool create);
uint64_t history_epoch(const struct topic_history *th);
/* The highest number seen (0: none). */
uint64_t history_last_seq(const struct topic_history *th);
/* Single node: the number of the next broadcast. */
uint64_t history_next_seq(struct topic_history *th);

/* Keep message seq of epoch (a different epoch than the topic's empties it first and adopts the new
 * one). At most `size` are kept (the oldest numbers go first) and none older than ttl_ms (0: no limit).
 * event, payload and bin are copied / referenced. 0 or -1 (OOM). */
int history_add(struct topic_history *th, uint64_t epoch, uint64_t seq, const char *event, json_t *payload,
                const unsigned char *bin, size_t bin_len, uint64_t now_ms, size_t size, uint64_t ttl_ms);
/* Something was delivered on the topic without a number (a cluster node cut off from Redis): a client
 * that saw nothing after the current last number may have missed it, so replays from there on fail. */
void history_mark_unsequenced(struct topic_history *th);

typedef void (*history_fn)(void *arg, const struct history_msg *m);
/* Replay everything after `since` of `epoch` through fn, in order. true when it was complete (fn was
 * called for every message, possibly none); false when it cannot be (fn not called). */
bool history_replay(struct topic_history *th, uint64_t epoch, uint64_t since, uint64_t now_ms,
                    uint64_t ttl_ms, history_fn fn, void *arg);

/* Number of messages kept for the topic. */
size_t history_count(const struct topic_history *th);

#endif
