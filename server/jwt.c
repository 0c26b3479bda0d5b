/*
 * jwt.c: HS256 JSON Web Tokens (see jwt.h). No hand-written crypto: OpenSSL's HMAC() and CRYPTO_memcmp.
 *
 * Why not libjwt: Debian bookworm ships libjwt 1.10.2, which takes the algorithm from the token's own
 * header, checks no claim (its exp/nbf validation arrived in 1.12), decodes base64 leniently and hands
 * the claims back as text to parse again; every check that matters would still be ours. What is left
 * for this file is splitting, decoding and the claim rules, around two OpenSSL calls.
 */
#include "jwt.h"

#include "base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdlib.h>
#include <string.h>

#define MAC_LEN 32 /* SHA-256 */

/* base64url of {"alg":"HS256","typ":"JWT"}: the header of every token jwt_sign makes. */
static const char signed_header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

static int hmac_sha256(const void *secret, size_t secret_len, const char *data, size_t len,
                       unsigned char mac[MAC_LEN])
{
    unsigned int n = 0;
    if (secret_len > INT32_MAX)
        return JWT_E_CRYPTO;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data, len, mac, &n) ||
        n != MAC_LEN)
        return JWT_E_CRYPTO;
    return JWT_OK;
}

/* Decode one base64url segment holding a JSON object into *out (new reference). JWT_OK, JWT_E_MALFORMED
 * or JWT_E_NOMEM. */
static int decode_object(const char *seg, size_t len, json_t **out)
{
    unsigned char *buf = malloc(BASE64_DECODED_MAX(len) + 1);
    size_t n;
    json_t *j = NULL;
    *out = NULL;
    if (!buf)
        return JWT_E_NOMEM;
    if (base64_decode(seg, len, BASE64_URL, buf, &n) == 0) {
        /* Duplicate keys are refused: two "alg"s or two "sub"s must not mean one thing here and
         * another to whoever made the token. */
        json_error_t jerr;
        j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &jerr);
        if (j && !json_is_object(j)) {
            json_decref(j);
            j = NULL;
        }
    }
    free(buf);
    *out = j;
    return j ? JWT_OK : JWT_E_MALFORMED;
}

/* The header's verdict: JWT_OK only for alg "HS256" and no "crit". */
static int check_header(const char *seg, size_t len)
{
    json_t *h;
    int rc = decode_object(seg, len, &h);
    if (rc != JWT_OK)
        return rc;
    const char *alg = json_string_value(json_object_get(h, "alg"));
    rc = alg && strcmp(alg, "HS256") == 0 && !json_object_get(h, "crit") ? JWT_OK : JWT_E_ALG;
    json_decref(h);
    return rc;
}

/* A time claim: absent (1, *t untouched), a number (0), or anything else (-1). */
static int time_claim(const json_t *claims, const char *name, double *t)
{
    json_t *v = json_object_get(claims, name);
    if (!v)
        return 1;
    if (!json_is_number(v))
        return -1;
    *t = json_number_value(v);
    return 0;
}

static int check_claims(const json_t *claims, int64_t now_s, int64_t leeway_s)
{
    double exp = 0, nbf = 0, now = (double)now_s, leeway = (double)leeway_s;
    int has_exp = time_claim(claims, "exp", &exp), has_nbf = time_claim(claims, "nbf", &nbf);
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (has_exp < 0 || has_nbf < 0 || !sub || !*sub)
        return JWT_E_CLAIMS;
    if (has_exp == 0 && !(now < exp + leeway))
        return JWT_E_EXPIRED;
    if (has_nbf == 0 && now + leeway < nbf)
        return JWT_E_NOT_YET;
    return JWT_OK;
}

int jwt_verify(const char *token, size_t len, const void *secret, size_t secret_len, int64_t now_s,
               int64_t leeway_s, json_t **claims)
{
    *claims = NULL;
    if (!token || len == 0 || len > JWT_MAX_LEN || memchr(token, '\0', len))
        return JWT_E_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return JWT_E_MALFORMED; /* not exactly three segments (a JWE has five) */
    size_t hlen = (size_t)(dot1 - token), plen = (size_t)(dot2 - dot1 - 1),
           slen = len - (size_t)(dot2 + 1 - token);
    if (!hlen || !plen || !slen)
        return JWT_E_MALFORMED;

    int rc = check_header(token, hlen);
    if (rc != JWT_OK)
        return rc;

    /* The signature: exactly 32 bytes, compared in constant time with our own. */
    unsigned char sig[BASE64_DECODED_MAX(JWT_MAX_LEN)], mac[MAC_LEN];
    size_t siglen;
    if (base64_decode(dot2 + 1, slen, BASE64_URL, sig, &siglen) != 0)
        return JWT_E_MALFORMED;
    if ((rc = hmac_sha256(secret, secret_len, token, (size_t)(dot2 - token), mac)) != JWT_OK)
        return rc;
    if (siglen != MAC_LEN || CRYPTO_memcmp(sig, mac, MAC_LEN) != 0)
        return JWT_E_SIGNATURE;

    json_t *payload;
    if ((rc = decode_object(dot1 + 1, plen, &payload)) != JWT_OK)
        return rc;
    if ((rc = check_claims(payload, now_s, leeway_s)) != JWT_OK) {
        json_decref(payload);
        return rc;
    }
    *claims = payload;
    return JWT_OK;
}

char *jwt_sign(const json_t *claims, const void *secret, size_t secret_len)
{
    if (!json_is_object(claims))
        return NULL;
    char *body = json_dumps(claims, JSON_COMPACT);
    if (!body)
        return NULL;
    size_t blen = strlen(body), hlen = sizeof(signed_header) - 1;
    size_t plen = BASE64_ENCODED_LEN(blen, false), slen = BASE64_ENCODED_LEN(MAC_LEN, false);
    char *out = malloc(hlen + 1 + plen + 1 + slen + 1);
    if (!out) {
        free(body);
        return NULL;
    }
    memcpy(out, signed_header, hlen);
    out[hlen] = '.';
    size_t n = hlen + 1 + base64_encode(body, blen, BASE64_URL, out + hlen + 1);
    free(body);
    unsigned char mac[MAC_LEN];
    if (hmac_sha256(secret, secret_len, out, n, mac) != JWT_OK) {
        free(out);
        return NULL;
    }
    out[n++] = '.';
    base64_encode(mac, MAC_LEN, BASE64_URL, out + n);
    return out;
}

const char *jwt_strerror(int rc)
{
    switch (rc) {
    case JWT_OK:
        return "ok";
    case JWT_E_MALFORMED:
        return "malformed token";
    case JWT_E_ALG:
        return "algorithm is not HS256";
    case JWT_E_SIGNATURE:
        return "signature mismatch";
    case JWT_E_EXPIRED:
        return "token expired";
    case JWT_E_NOT_YET:
        return "token not yet valid (nbf)";
    case JWT_E_CLAIMS:
        return "bad claims (sub missing, or exp/nbf not a number)";
    case JWT_E_CRYPTO:
        return "crypto library failure";
    case JWT_E_NOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}
