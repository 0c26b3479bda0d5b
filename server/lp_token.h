/*
 * lp_token.h: long-poll session tokens: which session a request belongs to, signed so that a client
 * can neither forge one nor reach another client's session.
 *
 * A token is base64url(payload) "." base64url(HMAC-SHA256(secret, payload)), both without padding,
 * where payload is 17 bytes: a format version (1), the session id (u64 big-endian) and the moment the
 * token stops being accepted (u64 big-endian, milliseconds of the server's monotonic clock). The
 * secret is 32 random bytes drawn when the server starts, so a restart invalidates every token; session
 * ids are never reused within one run. The token carries no user data: it is only a handle.
 *
 *     struct lp_token_key k;
 *     lp_token_key_init(&k);                               // RAND_bytes
 *     char tok[LP_TOKEN_SIZE];
 *     lp_token_sign(&k, 42, now + 30000, tok);             // "AQAAAA...qAAA.Xk3..."
 *     uint64_t id;
 *     lp_token_verify(&k, tok, strlen(tok), now, &id);     // LP_TOKEN_OK, id == 42
 *     lp_token_key_cleanup(&k);                            // wipes the secret
 *
 * Verification compares MACs in constant time and never reads past len. Errors are returned, not
 * logged.
 */
#ifndef CINDER_LP_TOKEN_H
#define CINDER_LP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define LP_TOKEN_SECRET_LEN 32
/* Characters of a token: 23 (payload) + 1 + 43 (MAC). */
#define LP_TOKEN_LEN 67
/* A buffer for a token and its NUL. */
#define LP_TOKEN_SIZE (LP_TOKEN_LEN + 1)

struct lp_token_key {
    unsigned char secret[LP_TOKEN_SECRET_LEN];
};

enum lp_token_result {
    LP_TOKEN_OK = 0,
    LP_TOKEN_E_MALFORMED = -1, /* not a token at all (wrong length, shape or alphabet): e.g. an app param */
    LP_TOKEN_E_FORGED = -2,    /* token-shaped, but the MAC does not match: not signed by this server run */
    LP_TOKEN_E_EXPIRED = -3,   /* authentic but past its expiry (the session id is still reported) */
    LP_TOKEN_E_CRYPTO = -4,    /* the crypto library failed (no randomness, HMAC error) */
};

/* Draw a fresh secret. LP_TOKEN_OK or LP_TOKEN_E_CRYPTO. */
int lp_token_key_init(struct lp_token_key *k);
/* Wipe the secret. */
void lp_token_key_cleanup(struct lp_token_key *k);

/* Write the token for session_id, accepted until expires_ms (inclusive), into out (NUL-terminated).
 * LP_TOKEN_OK or LP_TOKEN_E_CRYPTO. */
int lp_token_sign(const struct lp_token_key *k, uint64_t session_id, uint64_t expires_ms,
                  char out[LP_TOKEN_SIZE]);

/* Check len bytes of token (borrowed, need not be NUL-terminated) at time now_ms. LP_TOKEN_OK with
 * *session_id set; LP_TOKEN_E_EXPIRED with *session_id set (the token is authentic, only too old);
 * LP_TOKEN_E_MALFORMED, LP_TOKEN_E_FORGED or LP_TOKEN_E_CRYPTO otherwise (*session_id untouched). */
int lp_token_verify(const struct lp_token_key *k, const char *token, size_t len, uint64_t now_ms,
                    uint64_t *session_id);

/* A short constant description of an lp_token_result. */
const char *lp_token_strerror(int rc);

#endif
