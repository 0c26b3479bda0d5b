/*
 * lp_token.c: signed long-poll session tokens (see lp_token.h). OpenSSL provides the randomness, the
 * HMAC and the constant-time comparison.
 */
#include "lp_token.h"

#include "base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <string.h>

#define LP_TOKEN_VERSION 1
#define PAYLOAD_LEN 17 /* version, session id, expiry */
#define MAC_LEN 32     /* SHA-256 */
#define PAYLOAD_B64 BASE64_ENCODED_LEN(PAYLOAD_LEN, false)
#define MAC_B64 BASE64_ENCODED_LEN(MAC_LEN, false)

_Static_assert(PAYLOAD_B64 + 1 + MAC_B64 == LP_TOKEN_LEN, "LP_TOKEN_LEN matches the format");

int lp_token_key_init(struct lp_token_key *k)
{
    return RAND_bytes(k->secret, sizeof(k->secret)) == 1 ? LP_TOKEN_OK : LP_TOKEN_E_CRYPTO;
}

void lp_token_key_cleanup(struct lp_token_key *k)
{
    OPENSSL_cleanse(k->secret, sizeof(k->secret));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int mac_of(const struct lp_token_key *k, const unsigned char payload[PAYLOAD_LEN],
                  unsigned char mac[MAC_LEN])
{
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), k->secret, (int)sizeof(k->secret), payload, PAYLOAD_LEN, mac, &n) || n != MAC_LEN)
        return LP_TOKEN_E_CRYPTO;
    return LP_TOKEN_OK;
}

int lp_token_sign(const struct lp_token_key *k, uint64_t session_id, uint64_t expires_ms,
                  char out[LP_TOKEN_SIZE])
{
    unsigned char payload[PAYLOAD_LEN], mac[MAC_LEN];
    payload[0] = LP_TOKEN_VERSION;
    put_u64(payload + 1, session_id);
    put_u64(payload + 9, expires_ms);
    if (mac_of(k, payload, mac) != LP_TOKEN_OK)
        return LP_TOKEN_E_CRYPTO;
    size_t n = base64_encode(payload, sizeof(payload), BASE64_URL, out);
    out[n++] = '.';
    base64_encode(mac, sizeof(mac), BASE64_URL, out + n);
    return LP_TOKEN_OK;
}

int lp_token_verify(const struct lp_token_key *k, const char *token, size_t len, uint64_t now_ms,
                    uint64_t *session_id)
{
    unsigned char payload[BASE64_DECODED_MAX(PAYLOAD_B64)], mac[BASE64_DECODED_MAX(MAC_B64)];
    unsigned char expected[MAC_LEN];
    size_t plen, mlen;
    if (len != LP_TOKEN_LEN || token[PAYLOAD_B64] != '.')
        return LP_TOKEN_E_MALFORMED;
    if (base64_decode(token, PAYLOAD_B64, BASE64_URL, payload, &plen) != 0 || plen != PAYLOAD_LEN ||
        base64_decode(token + PAYLOAD_B64 + 1, MAC_B64, BASE64_URL, mac, &mlen) != 0 || mlen != MAC_LEN)
        return LP_TOKEN_E_MALFORMED;
    /* Authenticate before looking at anything in the payload. */
    if (mac_of(k, payload, expected) != LP_TOKEN_OK)
        return LP_TOKEN_E_CRYPTO;
    if (CRYPTO_memcmp(expected, mac, MAC_LEN) != 0)
        return LP_TOKEN_E_FORGED;
    if (payload[0] != LP_TOKEN_VERSION)
        return LP_TOKEN_E_MALFORMED;
    *session_id = get_u64(payload + 1);
    return now_ms > get_u64(payload + 9) ? LP_TOKEN_E_EXPIRED : LP_TOKEN_OK;
}

const char *lp_token_strerror(int rc)
{
    switch (rc) {
    case LP_TOKEN_OK:
        return "ok";
    case LP_TOKEN_E_MALFORMED:
        return "not a session token";
    case LP_TOKEN_E_FORGED:
        return "session token signature mismatch";
    case LP_TOKEN_E_EXPIRED:
        return "session token expired";
    case LP_TOKEN_E_CRYPTO:
        return "crypto library failure";
    default:
        return "unknown error";
    }
}
