/*
 * phx_topic.c: topic validation and the `channel "room:*"` pattern match.
 *
 * Patterns follow Phoenix's rules: no '*' (exact), or exactly one '*' as the last character (prefix).
 * Phoenix refuses any other pattern at compile time; here such a pattern simply never matches.
 */
#include "phx_topic.h"

#include "phx_internal.h"

#include <string.h>

int phx_topic_valid(const char *topic, size_t len)
{
    if (!topic || len == 0 || len > PHX_TOPIC_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)topic[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return phx_utf8_valid((const unsigned char *)topic, len);
}

int phx_topic_match(const char *pattern, const char *topic)
{
    const char *star;
    size_t prefix;

    if (!pattern || !topic)
        return 0;
    star = strchr(pattern, '*');
    if (!star)
        return strcmp(pattern, topic) == 0;
    if (star[1] != '\0')
        return 0;
    prefix = (size_t)(star - pattern);
    return strncmp(pattern, topic, prefix) == 0;
}
