/*
 * jwt.h: JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (JWS "HS256", RFC 7515 / 7518): verify the
 * tokens clients connect with, and sign test tokens (`cinder gentoken`). OpenSSL computes the HMAC and
 * compares in constant time; Jansson parses; base64url is server/base64.c's strict decoder.
 *
 * What verification checks, in this order (the first failure is the answer):
 *   1. shape: at most JWT_MAX_LEN bytes, exactly three non-empty base64url segments (no padding, canonical
 *      encoding), the header a JSON object without duplicate keys;
 *   2. the header's "alg" is exactly "HS256" ("none", "RS256", "hs256", a missing alg: JWT_E_ALG), and it
 *      has no "crit" (no extension is understood);
 *   3. the signature: HMAC-SHA256 of "header.payload" under the secret, 32 bytes, compared in constant
 *      time. Nothing in the payload is looked at before this;
 *   4. the payload: a JSON object without duplicate keys; "exp" and "nbf", when present, are numbers
 *      (seconds since the epoch): now must be before exp + leeway and not before nbf - leeway; "sub" is
 *      a non-empty string (Cinder's user id: a token without one is refused).
 * A token without "exp" never expires (RFC 7519 makes it optional); `cinder gentoken` always sets one.
 *
 *     json_t *claims;
 *     int rc = jwt_verify(token, strlen(token), secret, strlen(secret), time(NULL), 0, &claims);
 *     if (rc == JWT_OK) { user = json_string_value(json_object_get(claims, "sub")); ...; json_decref(claims);
 * } else log("%s", jwt_strerror(rc));
 */
#ifndef CINDER_JWT_H
#define CINDER_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Tokens longer than this are refused before anything is decoded. */
#define JWT_MAX_LEN 8192
/* RFC 7518 3.2: an HS256 key must be at least as long as the hash (32 bytes). */
#define JWT_MIN_SECRET_LEN 32

enum jwt_result {
    JWT_OK = 0,
    JWT_E_MALFORMED = -1, /* not header.payload.signature of base64url JSON objects, or too long */
    JWT_E_ALG = -2,       /* alg is not HS256, or the header has "crit" */
    JWT_E_SIGNATURE = -3, /* the signature does not match */
    JWT_E_EXPIRED = -4,   /* now >= exp + leeway */
    JWT_E_NOT_YET = -5,   /* now < nbf - leeway */
    JWT_E_CLAIMS = -6,    /* sub missing or empty; exp or nbf not a number */
    JWT_E_CRYPTO = -7,    /* OpenSSL failed */
    JWT_E_NOMEM = -8,
};

/* Verify token (len bytes, borrowed; need not be NUL-terminated) with secret (secret_len bytes, borrowed)
 * at now_s (seconds since the epoch), allowing leeway_s seconds of clock skew on exp and nbf. JWT_OK with
 * *claims the payload object (new reference: the caller releases it), or a negative jwt_result with
 * *claims NULL. */
int jwt_verify(const char *token, size_t len, const void *secret, size_t secret_len, int64_t now_s,
               int64_t leeway_s, json_t **claims);

/* Sign claims (borrowed, a JSON object) with HS256: header {"alg":"HS256","typ":"JWT"}, the payload
 * compact JSON. A malloc'd NUL-terminated token (caller frees), or NULL (not an object, or out of memory). */
char *jwt_sign(const json_t *claims, const void *secret, size_t secret_len);

/* A short English description of a jwt_result (static). */
const char *jwt_strerror(int rc);

#endif
