/* Tests server/jwt.c: HS256 sign/verify, the claim rules (exp, nbf, sub), and every way a token can be
 * forged, downgraded or garbled. Foreign tokens are built here with OpenSSL directly, not with jwt_sign. */
#include "jwt.h"

#include "base64.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

static const char SECRET[] = "0123456789abcdef0123456789abcdef";
#define NOW 1700000000

/* base64url(header) "." base64url(payload) "." base64url(HMAC-SHA256 under secret), from raw JSON
 * text, so tests can make headers and payloads jwt_sign never would. Caller frees. */
static char *forge(const char *header, const char *payload, const char *secret)
{
    size_t hl = strlen(header), pl = strlen(payload);
    char *out = malloc(BASE64_ENCODED_LEN(hl, false) + BASE64_ENCODED_LEN(pl, false) + 64);
    size_t n = base64_encode(header, hl, BASE64_URL, out);
    out[n++] = '.';
    n += base64_encode(payload, pl, BASE64_URL, out + n);
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)out, n, mac, &len);
    out[n++] = '.';
    base64_encode(mac, sizeof(mac), BASE64_URL, out + n);
    return out;
}

static int verify_at(const char *tok, int64_t now, int64_t leeway)
{
    json_t *claims = (json_t *)1;
    int rc = jwt_verify(tok, strlen(tok), SECRET, strlen(SECRET), now, leeway, &claims);
    if (rc == JWT_OK) {
        cr_assert(json_is_object(claims));
        json_decref(claims);
    } else {
        cr_assert_null(claims, "no claims on failure");
    }
    return rc;
}

static int verify(const char *tok)
{
    return verify_at(tok, NOW, 0);
}

static const char HS256[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

Test(jwt, sign_then_verify_gives_the_claims)
{
    json_t *c =
        json_pack("{sssIs[ss]}", "sub", "alice", "exp", (json_int_t)NOW + 60, "channels", "chat:*", "room:1");
    char *tok = jwt_sign(c, SECRET, strlen(SECRET));
    cr_assert_not_null(tok);
    cr_assert(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0, "%s", tok);
    for (const char *p = tok; *p; p++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", *p), "%s", tok);
    json_t *got = NULL;
    cr_assert_eq(jwt_verify(tok, strlen(tok), SECRET, strlen(SECRET), NOW, 0, &got), JWT_OK);
    cr_assert(json_equal(got, c), "the payload comes back as signed");
    json_decref(got);
    json_decref(c);
    free(tok);
    cr_assert_null(jwt_sign(json_null(), SECRET, strlen(SECRET)), "claims must be an object");
}

Test(jwt, a_token_made_elsewhere_verifies)
{
    /* The HS256 example of RFC 7519's community (jwt.io), secret "your-256-bit-secret"; no exp. */
    static const char tok[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                              "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                              "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    json_t *c = NULL;
    cr_assert_eq(jwt_verify(tok, strlen(tok), "your-256-bit-secret", 19, NOW, 0, &c), JWT_OK);
    cr_assert_str_eq(json_string_value(json_object_get(c, "sub")), "1234567890");
    json_decref(c);
    cr_assert_eq(verify(tok), JWT_E_SIGNATURE, "another secret");
}

Test(jwt, expiry_with_and_without_leeway)
{
    char *tok = forge(HS256, "{\"sub\":\"a\",\"exp\":1700000000}", SECRET);
    cr_assert_eq(verify_at(tok, NOW - 1, 0), JWT_OK);
    cr_assert_eq(verify_at(tok, NOW, 0), JWT_E_EXPIRED, "exp is the first second it is invalid");
    cr_assert_eq(verify_at(tok, NOW + 100, 0), JWT_E_EXPIRED);
    cr_assert_eq(verify_at(tok, NOW + 4, 5), JWT_OK, "within the leeway");
    cr_assert_eq(verify_at(tok, NOW + 5, 5), JWT_E_EXPIRED);
    free(tok);
    tok = forge(HS256, "{\"sub\":\"a\",\"exp\":1699999999.5}", SECRET);
    cr_assert_eq(verify_at(tok, NOW, 0), JWT_E_EXPIRED, "fractional seconds are numbers too");
    free(tok);
    tok = forge(HS256, "{\"sub\":\"a\",\"exp\":\"tomorrow\"}", SECRET);
    cr_assert_eq(verify(tok), JWT_E_CLAIMS);
    free(tok);
    tok = forge(HS256, "{\"sub\":\"a\"}", SECRET);
    cr_assert_eq(verify_at(tok, INT64_MAX / 2, 0), JWT_OK, "no exp: no expiry (RFC 7519 4.1.4 is optional)");
    free(tok);
    cr_assert_str_eq(jwt_strerror(JWT_E_EXPIRED), "token expired");
}

Test(jwt, not_before)
{
    char *tok = forge(HS256, "{\"sub\":\"a\",\"nbf\":1700000010,\"exp\":1700000100}", SECRET);
    cr_assert_eq(verify_at(tok, NOW, 0), JWT_E_NOT_YET);
    cr_assert_eq(verify_at(tok, NOW + 9, 0), JWT_E_NOT_YET);
    cr_assert_eq(verify_at(tok, NOW + 10, 0), JWT_OK, "valid from nbf on");
    cr_assert_eq(verify_at(tok, NOW, 10), JWT_OK, "within the leeway");
    free(tok);
    tok = forge(HS256, "{\"sub\":\"a\",\"nbf\":null}", SECRET);
    cr_assert_eq(verify(tok), JWT_E_CLAIMS);
    free(tok);
}

Test(jwt, wrong_signature)
{
    char *tok = forge(HS256, "{\"sub\":\"a\"}", "another secret, also 32 bytes long");
    cr_assert_eq(verify(tok), JWT_E_SIGNATURE);
    free(tok);
    tok = forge(HS256, "{\"sub\":\"a\"}", SECRET);
    cr_assert_eq(verify(tok), JWT_OK);
    /* One flipped bit anywhere in the signature. */
    char *sig = strrchr(tok, '.') + 1;
    sig[3] = sig[3] == 'A' ? 'B' : 'A';
    cr_assert_eq(verify(tok), JWT_E_SIGNATURE);
    free(tok);
    /* A payload swapped under a valid header and signature. */
    char *a = forge(HS256, "{\"sub\":\"alice\"}", SECRET), *b = forge(HS256, "{\"sub\":\"admin\"}", SECRET);
    char *mix = malloc(strlen(a) + strlen(b));
    size_t bp = (size_t)(strrchr(b, '.') - b), as = (size_t)(strrchr(a, '.') - a);
    sprintf(mix, "%.*s%s", (int)bp, b, a + as); /* b's header and payload, a's signature */
    cr_assert_eq(verify(mix), JWT_E_SIGNATURE);
    free(a);
    free(b);
    free(mix);
    /* A truncated signature (16 bytes), correctly encoded. */
    tok = forge(HS256, "{\"sub\":\"a\"}", SECRET);
    sig = strrchr(tok, '.') + 1;
    unsigned char raw[BASE64_DECODED_MAX(43)];
    size_t rawlen;
    cr_assert_eq(base64_decode(sig, strlen(sig), BASE64_URL, raw, &rawlen), 0);
    base64_encode(raw, 16, BASE64_URL, sig);
    cr_assert_eq(verify(tok), JWT_E_SIGNATURE);
    free(tok);
}

Test(jwt, only_hs256_is_accepted)
{
    /* Each is signed with the right secret: only the header's alg is wrong. */
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS512\"}",
        "{\"alg\":\"hs256\"}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256 \"}",
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *tok = forge(headers[i], "{\"sub\":\"a\"}", SECRET);
        cr_assert_eq(verify(tok), JWT_E_ALG, "%s", headers[i]);
        free(tok);
    }
    /* alg none with the empty signature its spec prescribes: malformed before anything else. */
    char *tok = forge("{\"alg\":\"none\"}", "{\"sub\":\"a\"}", SECRET);
    *(strrchr(tok, '.') + 1) = '\0';
    cr_assert_eq(verify(tok), JWT_E_MALFORMED);
    free(tok);
    cr_assert_str_eq(jwt_strerror(JWT_E_ALG), "algorithm is not HS256");
}

Test(jwt, malformed_segments)
{
    char *good = forge(HS256, "{\"sub\":\"a\"}", SECRET);
    static const char *const bad[] = {
        "",
        "abc",
        "a.b",
        "a..c",
        ".b.c",
        "a.b.",
        "a.b.c.d",
        "a.b.c.d.e",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.%%%",
        "eyJhbGciOiJIUzI1NiJ9=.eyJzdWIiOiJhIn0.abcd", /* padding */
        "e yJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.abcd", /* whitespace */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(verify(bad[i]), JWT_E_MALFORMED, "'%s'", bad[i]);
    /* A header that is not an object, or not JSON; a payload that is not an object. */
    char *t = forge("[\"HS256\"]", "{\"sub\":\"a\"}", SECRET);
    cr_assert_eq(verify(t), JWT_E_MALFORMED);
    free(t);
    t = forge("{\"alg\":\"HS256\"", "{\"sub\":\"a\"}", SECRET);
    cr_assert_eq(verify(t), JWT_E_MALFORMED);
    free(t);
    t = forge(HS256, "\"alice\"", SECRET);
    cr_assert_eq(verify(t), JWT_E_MALFORMED);
    free(t);
    t = forge(HS256, "{\"sub\":\"a\"} trailing", SECRET);
    cr_assert_eq(verify(t), JWT_E_MALFORMED);
    free(t);
    /* Duplicate keys mean two things to two parsers: refused. */
    t = forge("{\"alg\":\"none\",\"alg\":\"HS256\"}", "{\"sub\":\"a\"}", SECRET);
    cr_assert_eq(verify(t), JWT_E_MALFORMED);
    free(t);
    t = forge(HS256, "{\"sub\":\"alice\",\"sub\":\"admin\"}", SECRET);
    cr_assert_eq(verify(t), JWT_E_MALFORMED);
    free(t);
    /* The standard alphabet's + and / are not base64url. */
    t = strdup(good);
    char *sig = strrchr(t, '.') + 1;
    sig[0] = '+';
    cr_assert_eq(verify(t), JWT_E_MALFORMED);
    free(t);
    /* A NUL inside the given length. */
    json_t *c = NULL;
    cr_assert_eq(jwt_verify(good, strlen(good) + 1, SECRET, strlen(SECRET), NOW, 0, &c), JWT_E_MALFORMED);
    cr_assert_eq(verify(good), JWT_OK);
    free(good);
}

Test(jwt, sub_is_required)
{
    static const char *const payloads[] = {
        "{}", "{\"sub\":\"\"}", "{\"sub\":42}", "{\"sub\":null}", "{\"user\":\"alice\"}", "{\"sub\":[\"a\"]}",
    };
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char *tok = forge(HS256, payloads[i], SECRET);
        cr_assert_eq(verify(tok), JWT_E_CLAIMS, "%s", payloads[i]);
        free(tok);
    }
    /* A NUL escaped inside sub is not a C string: Jansson refuses it, so the token is malformed. */
    char *tok = forge(HS256, "{\"sub\":\"ali\\u0000ce\"}", SECRET);
    cr_assert_eq(verify(tok), JWT_E_MALFORMED);
    free(tok);
}

Test(jwt, huge_tokens_are_refused_before_decoding)
{
    size_t n = JWT_MAX_LEN + 1;
    char *big = malloc(n + 1);
    memset(big, 'A', n);
    big[10] = '.';
    big[20] = '.';
    big[n] = '\0';
    cr_assert_eq(verify(big), JWT_E_MALFORMED);
    free(big);
    /* A valid token just under the limit passes; one byte of payload more and it does not. */
    size_t fill = 6000;
    char *payload = malloc(fill + 32);
    sprintf(payload, "{\"sub\":\"a\",\"x\":\"%*s\"}", (int)fill, "");
    char *tok = forge(HS256, payload, SECRET);
    cr_assert_lt(strlen(tok), JWT_MAX_LEN);
    cr_assert_eq(verify(tok), JWT_OK);
    free(tok);
    free(payload);
    fill = 7000;
    payload = malloc(fill + 32);
    sprintf(payload, "{\"sub\":\"a\",\"x\":\"%*s\"}", (int)fill, "");
    tok = forge(HS256, payload, SECRET);
    cr_assert_gt(strlen(tok), JWT_MAX_LEN);
    cr_assert_eq(verify(tok), JWT_E_MALFORMED);
    free(tok);
    free(payload);
}
