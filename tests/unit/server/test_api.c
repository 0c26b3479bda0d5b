/* Tests server/api.c: POST /api/broadcast bodies. */
#include "api.h"
#include "harness.h"

static int post(struct server *s, const char *body, char **resp)
{
    struct api_response r = {0};
    cr_assert_eq(api_broadcast(s, body, strlen(body), &r), 0);
    *resp = r.body;
    return r.status;
}

Test(api, broadcast_reaches_subscribers)
{
    struct server *s = mk_server(NULL, NULL);
    struct conn *c = mk_conn(s, PHX_V2, "a");
    send_text(c, "[\"1\",\"1\",\"telemetry:fleet\",\"phx_join\",{}]");
    free(next_frame(c, NULL, NULL));
    char *resp;
    cr_assert_eq(
        post(s, "{\"topic\":\"telemetry:fleet\",\"event\":\"position\",\"payload\":{\"id\":7}}", &resp), 202);
    cr_assert_str_eq(resp, "{\"ok\":true}");
    free(resp);
    expect_frame(c, "[null,null,\"telemetry:fleet\",\"position\",{\"id\":7}]");
    end_conn(&c);
    end_server(&s);
}

Test(api, bad_bodies_are_400_with_a_reason)
{
    struct server *s = mk_server(NULL, NULL);
    static const char *bad[] = {
        "",
        "nope",
        "[1]",
        "{\"event\":\"e\",\"payload\":{}}",
        "{\"topic\":5,\"event\":\"e\",\"payload\":{}}",
        "{\"topic\":\"\",\"event\":\"e\",\"payload\":{}}",
        "{\"topic\":\"t\",\"event\":7,\"payload\":{}}",
        "{\"topic\":\"t\",\"event\":\"\",\"payload\":{}}",
        "{\"topic\":\"t\",\"event\":\"e\"}",
        "{\"topic\":\"t\",\"event\":\"e\",\"payload\":[1]}",
        "{\"topic\":\"t\\u0000x\",\"event\":\"e\",\"payload\":{}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char *resp;
        cr_assert_eq(post(s, bad[i], &resp), 400, "%s", bad[i]);
        json_t *j = json_loads(resp, 0, NULL);
        cr_assert(json_is_string(json_object_get(j, "error")), "%s -> %s", bad[i], resp);
        json_decref(j);
        free(resp);
    }
    end_server(&s);
}

Test(api, integers_past_64_bits_are_accepted)
{
    struct server *s = mk_server(NULL, NULL);
    char *resp;
    cr_assert_eq(
        post(s, "{\"topic\":\"t:1\",\"event\":\"e\",\"payload\":{\"n\":10000000000000000000}}", &resp), 202);
    free(resp);
    end_server(&s);
}

static void with_api_token(struct options *o)
{
    o->api_token = strdup("s3cret-token");
}

Test(api, bearer_token_when_configured)
{
    struct server *open_server = mk_server(NULL, NULL);
    cr_assert(api_authorized(open_server, NULL), "no api_token: open");
    end_server(&open_server);
    struct server *s = mk_server(NULL, with_api_token);
    cr_assert(api_authorized(s, "Bearer s3cret-token"));
    cr_assert_not(api_authorized(s, NULL));
    cr_assert_not(api_authorized(s, "Bearer s3cret-tokeN"));
    cr_assert_not(api_authorized(s, "Bearer s3cret-token2"));
    cr_assert_not(api_authorized(s, "Bearer s3cret"));
    cr_assert_not(api_authorized(s, "Basic s3cret-token"));
    cr_assert_not(api_authorized(s, "s3cret-token"));
    end_server(&s);
}
