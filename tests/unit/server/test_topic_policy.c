/* Tests server/topic_policy.c: the `topics` setting. */
#include "topic_policy.h"

#include <criterion/criterion.h>
#include <string.h>

Test(topic_policy, parse_and_match)
{
    json_t *v = json_loads("[{\"pattern\":\"telemetry:*\",\"history\":{\"size\":100,\"ttl\":\"2m\"},"
                           "\"conflate\":\"id\",\"slow_consumer\":\"conflate\"},"
                           "{\"pattern\":\"room:*\",\"slow_consumer\":\"drop_oldest\"}]",
                           0, NULL);
    char err[200];
    cr_assert_eq(topic_policies_check(v, err, sizeof(err)), 0, "%s", err);
    struct topic_policies p;
    cr_assert_eq(topic_policies_parse(v, &p), 0);
    const struct topic_policy *t = topic_policy_find(&p, "telemetry:fleet");
    cr_assert_not_null(t);
    cr_assert_eq(t->history_size, 100);
    cr_assert_eq(t->history_ttl_ms, 120000);
    cr_assert_str_eq(t->conflate_key, "id");
    cr_assert_eq(t->slow, SLOW_CONFLATE);
    const struct topic_policy *r = topic_policy_find(&p, "room:1");
    cr_assert_eq(r->slow, SLOW_DROP_OLDEST);
    cr_assert_eq(r->history_size, 0);
    cr_assert_null(topic_policy_find(&p, "other:1"));
    topic_policies_cleanup(&p);
    json_decref(v);
    struct topic_policies none;
    cr_assert_eq(topic_policies_parse(NULL, &none), 0);
    cr_assert_eq(none.n, 0);
}

Test(topic_policy, errors_name_the_entry)
{
    static const char *bad[] = {
        "{}",
        "[1]",
        "[{\"history\":{\"size\":1}}]",
        "[{\"pattern\":\"t:*\",\"history\":{\"size\":0}}]",
        "[{\"pattern\":\"t:*\",\"history\":{\"size\":5,\"ttl\":\"soon\"}}]",
        "[{\"pattern\":\"t:*\",\"slow_consumer\":\"ignore\"}]",
        "[{\"pattern\":\"t:*\",\"slow_consumer\":\"conflate\"}]",
        "[{\"pattern\":\"t:*\",\"conflate\":\"\"}]",
        "[{\"pattern\":\"t:*\",\"colour\":\"red\"}]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *v = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        char err[200] = "";
        cr_assert_eq(topic_policies_check(v, err, sizeof(err)), -1, "%s", bad[i]);
        cr_assert(strstr(err, "topics"), "%s -> %s", bad[i], err);
        json_decref(v);
    }
}
