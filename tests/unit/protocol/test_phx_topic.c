/* test_phx_topic.c: tests protocol/phx_topic.c, topic validation and pattern matching. */
#include "phx_topic.h"

#include <criterion/criterion.h>
#include <string.h>

Test(phx_topic, valid_topics)
{
    static const char *ok[] = {"room:lobby",         "phoenix",          "a",
                               "users_socket:alice", "room:caf\xc3\xa9", "room:\xf0\x9f\x98\x80",
                               "room:with space",    "x:~!@#$%^&*()"};

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_expect_eq(phx_topic_valid(ok[i], strlen(ok[i])), 1, "\"%s\"", ok[i]);
}

Test(phx_topic, length_limits)
{
    char t[PHX_TOPIC_MAX + 2];

    memset(t, 'a', sizeof t);
    cr_assert_eq(phx_topic_valid(t, 0), 0);
    cr_assert_eq(phx_topic_valid(t, 1), 1);
    cr_assert_eq(phx_topic_valid(t, PHX_TOPIC_MAX), 1);
    cr_assert_eq(phx_topic_valid(t, PHX_TOPIC_MAX + 1), 0);
    cr_assert_eq(phx_topic_valid(NULL, 3), 0);
}

Test(phx_topic, control_characters_and_bad_utf8_are_invalid)
{
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        {"room\0a", 6},          {"room\na", 6},  {"room\ta", 6},  {"\x1f", 1},
        {"room\x7f", 5},         {"room\xc3", 5}, {"\xc0\xaf", 2}, {"\xed\xa0\x80", 3},
        {"\xf4\x90\x80\x80", 4}, {"\x80", 1},     {"\xff", 1},
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(phx_topic_valid(bad[i].s, bad[i].n), 0, "case %zu", i);
}

Test(phx_topic, match_table)
{
    static const struct {
        const char *pattern, *topic;
        int want;
    } cases[] = {
        {"room:*", "room:lobby", 1},
        {"room:*", "room:", 1},
        {"room:*", "room:a:b", 1},
        {"room:*", "rooms", 0},
        {"room:*", "room", 0},
        {"room:*", "ROOM:lobby", 0},
        {"room:*", "xroom:lobby", 0},
        {"lobby", "lobby", 1},
        {"lobby", "lobby2", 0},
        {"lobby", "lobb", 0},
        {"lobby", "", 0},
        {"*", "anything", 1},
        {"*", "", 1},
        {"", "", 1},
        {"", "a", 0},
        /* patterns Phoenix refuses at compile time never match */
        {"room:*:x", "room:a:x", 0},
        {"room:**", "room:ab", 0},
        {"*:lobby", "room:lobby", 0},
        {"telemetry:*", "telemetry:cpu", 1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(phx_topic_match(cases[i].pattern, cases[i].topic), cases[i].want, "\"%s\" vs \"%s\"",
                     cases[i].pattern, cases[i].topic);
}

Test(phx_topic, match_null_is_no_match)
{
    cr_assert_eq(phx_topic_match(NULL, "a"), 0);
    cr_assert_eq(phx_topic_match("a", NULL), 0);
}
