/*
 * phx_topic.h: topic validation and handler pattern matching.
 *
 * A valid topic is 1..PHX_TOPIC_MAX bytes of UTF-8 with no control characters (< 0x20, 0x7f).
 * A pattern is either exact ("lobby") or a prefix ending in one '*' ("room:*"), as Phoenix's
 * `channel "room:*"`: the star matches any rest, including the empty one, so "room:" matches.
 *
 *     phx_topic_match("room:*", "room:lobby") == 1
 *     phx_topic_match("room:*", "rooms")      == 0
 *     phx_topic_match("lobby", "lobby")       == 1
 */
#ifndef PHX_TOPIC_H
#define PHX_TOPIC_H

#include <stddef.h>

#define PHX_TOPIC_MAX 255

int phx_topic_valid(const char *topic, size_t len);
int phx_topic_match(const char *pattern, const char *topic);

#endif
