/* Tests server/lp_batch.c: long-poll POST bodies (ndjson lines, base64 binary lines, limits). */
#include "harness.h"
#include "lp_batch.h"

static struct server *s;
static struct conn *c;

static void setup(void)
{
    s = mk_server(NULL, NULL);
    c = mk_conn(s, PHX_V2, "alice");
}

static void teardown(void)
{
    end_conn(&c);
    end_server(&s);
}

TestSuite(lp_batch, .init = setup, .fini = teardown);

static int feed(const char *body, bool ndjson)
{
    return lp_batch_feed(c, body, strlen(body), ndjson);
}

Test(lp_batch, ndjson_lines_each_a_message_crlf_too)
{
    cr_assert_eq(
        feed("[null,\"1\",\"phoenix\",\"heartbeat\",{}]\r\n[null,\"2\",\"phoenix\",\"heartbeat\",{}]", true),
        200);
    expect_frame(c, "[null,\"1\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_frame(c, "[null,\"2\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
    expect_none(c);
}

Test(lp_batch, other_content_type_is_one_frame)
{
    cr_assert_eq(feed("[null,\"1\",\"phoenix\",\"heartbeat\",{}]", false), 200);
    expect_frame(c, "[null,\"1\",\"phoenix\",\"phx_reply\",{\"status\":\"ok\",\"response\":{}}]");
}

Test(lp_batch, base64_line_is_a_binary_frame)
{
    cr_assert_eq(feed("[\"1\",\"1\",\"room:a\",\"phx_join\",{}]\n", true), 200);
    free(next_frame(c, NULL, NULL));
    drain_presence(c);
    /* 00 01 01 06 06 "1" "2" "room:a" "binary" 01 02 03, base64 */
    cr_assert_eq(feed("AAEBBgYxMnJvb206YWJpbmFyeQECAw==\n", true), 200);
    size_t len;
    int binary;
    char *got = next_frame(c, &len, &binary);
    cr_assert(binary);
    cr_assert_eq(len, 18);
    free(got);
}

Test(lp_batch, bad_lines_close_with_the_right_status)
{
    cr_assert_eq(feed("not base64 !!\n", true), 400);
    cr_assert_eq(c->close_code, 1007);
}

Test(lp_batch, malformed_json_line_is_400)
{
    cr_assert_eq(feed("[1,2\n", true), 400);
    cr_assert(c->closing);
}

Test(lp_batch, over_100_lines_delivers_nothing)
{
    char *body = malloc(101 * 40 + 1), *p = body;
    for (int i = 0; i < 101; i++)
        p += sprintf(p, "[null,\"%d\",\"phoenix\",\"heartbeat\",{}]\n", i);
    cr_assert_eq(feed(body, true), 400);
    expect_none(c);
    free(body);
}

Test(lp_batch, exactly_100_lines_are_fine)
{
    char *body = malloc(100 * 40 + 1), *p = body;
    for (int i = 0; i < 100; i++)
        p += sprintf(p, "[null,\"%d\",\"phoenix\",\"heartbeat\",{}]\n", i);
    cr_assert_eq(feed(body, true), 200);
    int n = 0;
    char *f;
    while ((f = next_frame(c, NULL, NULL))) {
        free(f);
        n++;
    }
    cr_assert_eq(n, 100);
    free(body);
}
