/*
 * fuzz_api_body.c: libFuzzer target for POST /api/broadcast bodies (server/api.h).
 *
 * The whole input is the body. Before it, three connections of the demo app join so the broadcast path
 * runs for real: alice (V2) on room:lobby and telemetry:fleet, bob (V1) on room:lobby, carol (V2) on
 * room:lobby and room:x. A body naming one of those topics fans out (encoded once per serializer,
 * intercepted "tagged" events through the room's handle_out); event "disconnect" on users_socket:<user>
 * closes that user's connection.
 *
 * Properties: the answer is 202 {"ok":true} or 400/500 with a JSON {"error": string}; every frame a
 * subscriber got is a valid Phoenix frame of its serializer; and with every connection destroyed the
 * server holds nothing (plus libFuzzer's per-input leak check).
 */
#include "api.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void join(struct conn *c, const char *topic)
{
    char frame[128];
    int n = c->vsn == PHX_V2 ? snprintf(frame, sizeof(frame), "[\"1\",\"1\",\"%s\",\"phx_join\",{}]", topic)
                             : snprintf(frame, sizeof(frame),
                                        "{\"topic\":\"%s\",\"event\":\"phx_join\",\"payload\":{},"
                                        "\"ref\":\"1\",\"join_ref\":\"1\"}",
                                        topic);
    FUZZ_CHECK(conn_on_message(c, frame, (size_t)n, false) == 0, "join %s", topic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct server *s = fuzz_server(0);
    struct conn *c[3] = {fuzz_conn(s, PHX_V2, "alice"), fuzz_conn(s, PHX_V1, "bob"),
                         fuzz_conn(s, PHX_V2, "carol")};
    join(c[0], "room:lobby");
    join(c[0], "telemetry:fleet");
    join(c[1], "room:lobby");
    join(c[2], "room:lobby");
    join(c[2], "room:x");
    for (int i = 0; i < 3; i++)
        fuzz_drain(c[i]);

    struct api_response r = {0};
    FUZZ_CHECK(api_broadcast(s, (const char *)data, size, &r) == 0, "api_broadcast failed");
    FUZZ_CHECK(r.body != NULL, "no body");
    json_error_t jerr;
    json_t *answer = json_loads(r.body, 0, &jerr);
    FUZZ_CHECK(answer != NULL, "answer is not JSON: %s", r.body);
    if (r.status == 202)
        FUZZ_CHECK(strcmp(r.body, "{\"ok\":true}") == 0, "202 body %s", r.body);
    else
        FUZZ_CHECK((r.status == 400 || r.status == 500) && json_is_string(json_object_get(answer, "error")),
                   "%d %s", r.status, r.body);
    json_decref(answer);
    free(r.body);

    for (int i = 0; i < 3; i++) {
        fuzz_check_conn(c[i]);
        fuzz_drain(c[i]);
    }
    for (int i = 0; i < 3; i++)
        fuzz_end_conn(&c[i]);
    fuzz_end_server(&s);
    return 0;
}
