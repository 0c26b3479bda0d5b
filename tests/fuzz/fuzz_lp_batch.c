/*
 * fuzz_lp_batch.c: libFuzzer target for long-poll POST bodies (server/lp_batch.h).
 *
 * Input: one options byte, then the body.
 *   bit 0  ndjson (application/x-ndjson): lines of text frames and base64 binary frames; else one frame
 *   bit 1  the session speaks V1 (else V2)
 *   bit 2  small limits (fuzz_small_limits: frames of 256 bytes, queues of 2 KiB, 4 channels)
 *   bit 3  a second session "bob" is joined to room:lobby first, so broadcasts and presence fan out
 * The body is fed to a fresh session of the demo app; the status must be one lp_batch.h names and agree
 * with the connection's state (200 exactly when it is still open), every queued frame must be a valid
 * Phoenix frame, and after both sessions and the server are destroyed nothing may be left (the leak
 * check of libFuzzer runs on every input).
 */
#include "fuzz_common.h"
#include "lp_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    bool ndjson = opt & 1;
    enum phx_vsn vsn = opt & 2 ? PHX_V1 : PHX_V2;

    struct server *s = fuzz_server(opt & 4);
    struct conn *peer = NULL;
    if (opt & 8) {
        peer = fuzz_conn(s, PHX_V2, "bob");
        static const char join[] = "[\"1\",\"1\",\"room:lobby\",\"phx_join\",{}]";
        FUZZ_CHECK(conn_on_message(peer, join, sizeof(join) - 1, false) == 0, "peer join");
        fuzz_drain(peer);
    }
    struct conn *c = fuzz_conn(s, vsn, "alice");

    int status = lp_batch_feed(c, body, len, ndjson);
    FUZZ_CHECK(status == 200 || status == 400 || status == 410 || status == 413 || status == 500, "status %d",
               status);
    FUZZ_CHECK((status == 200) == !c->closing, "status %d with the session %s", status,
               c->closing ? "closing" : "open");
    FUZZ_CHECK(!c->closing || ((struct fuzz_transport *)c->transport_handle)->closes == 1,
               "a closing session was handed to its transport once");
    fuzz_check_conn(c);
    fuzz_drain(c);
    if (peer) {
        fuzz_check_conn(peer);
        fuzz_drain(peer);
    }

    fuzz_end_conn(&c);
    fuzz_end_conn(&peer);
    fuzz_end_server(&s);
    return 0;
}
