/* Tests server/lp_token.c: sign/verify, expiry, and every way a token can be forged or garbled. */
#include "lp_token.h"

#include <criterion/criterion.h>
#include <string.h>

static struct lp_token_key key;

static void setup(void)
{
    cr_assert_eq(lp_token_key_init(&key), LP_TOKEN_OK);
}

static void teardown(void)
{
    lp_token_key_cleanup(&key);
    static const unsigned char zero[LP_TOKEN_SECRET_LEN];
    cr_assert_eq(memcmp(key.secret, zero, sizeof(zero)), 0, "the secret is wiped");
}

TestSuite(lp_token, .init = setup, .fini = teardown);

static int verify(const char *tok, uint64_t now, uint64_t *id)
{
    return lp_token_verify(&key, tok, strlen(tok), now, id);
}

Test(lp_token, sign_then_verify)
{
    char tok[LP_TOKEN_SIZE];
    cr_assert_eq(lp_token_sign(&key, 42, 10000, tok), LP_TOKEN_OK);
    cr_assert_eq(strlen(tok), LP_TOKEN_LEN);
    cr_assert_eq(tok[23], '.');
    for (const char *p = tok; *p; p++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", *p),
                  "URL-safe: %s", tok);
    uint64_t id = 0;
    cr_assert_eq(verify(tok, 0, &id), LP_TOKEN_OK);
    cr_assert_eq(id, 42);
    id = 0;
    cr_assert_eq(verify(tok, 10000, &id), LP_TOKEN_OK, "valid up to its expiry, inclusive");
    cr_assert_eq(id, 42);
    cr_assert_eq(lp_token_sign(&key, UINT64_MAX, UINT64_MAX, tok), LP_TOKEN_OK);
    cr_assert_eq(verify(tok, UINT64_MAX, &id), LP_TOKEN_OK);
    cr_assert_eq(id, UINT64_MAX);
}

Test(lp_token, expired_is_reported_with_its_session)
{
    char tok[LP_TOKEN_SIZE];
    lp_token_sign(&key, 7, 10000, tok);
    uint64_t id = 0;
    cr_assert_eq(verify(tok, 10001, &id), LP_TOKEN_E_EXPIRED);
    cr_assert_eq(id, 7, "authentic, only too old");
    cr_assert_str_eq(lp_token_strerror(LP_TOKEN_E_EXPIRED), "session token expired");
}

Test(lp_token, another_key_is_a_forgery)
{
    struct lp_token_key other;
    cr_assert_eq(lp_token_key_init(&other), LP_TOKEN_OK);
    cr_assert_neq(memcmp(other.secret, key.secret, LP_TOKEN_SECRET_LEN), 0, "fresh randomness");
    char tok[LP_TOKEN_SIZE];
    lp_token_sign(&other, 1, 10000, tok);
    uint64_t id = 99;
    cr_assert_eq(verify(tok, 0, &id), LP_TOKEN_E_FORGED);
    cr_assert_eq(id, 99, "untouched");
    lp_token_key_cleanup(&other);
}

Test(lp_token, any_changed_character_is_refused)
{
    char tok[LP_TOKEN_SIZE];
    lp_token_sign(&key, 5, 10000, tok);
    for (size_t i = 0; i < LP_TOKEN_LEN; i++) {
        char bad[LP_TOKEN_SIZE];
        memcpy(bad, tok, sizeof(bad));
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        uint64_t id = 99;
        int rc = verify(bad, 0, &id);
        cr_assert(rc == LP_TOKEN_E_FORGED || rc == LP_TOKEN_E_MALFORMED, "position %zu: %d", i, rc);
        cr_assert_eq(id, 99);
    }
}

Test(lp_token, a_moved_expiry_or_session_is_a_forgery)
{
    /* Re-encode the payload of a valid token with another session id, keep its MAC. */
    char a[LP_TOKEN_SIZE], b[LP_TOKEN_SIZE];
    lp_token_sign(&key, 1, 10000, a);
    lp_token_sign(&key, 2, 10000, b);
    char mixed[LP_TOKEN_SIZE];
    memcpy(mixed, b, 24);                              /* payload of b and the dot */
    memcpy(mixed + 24, a + 24, LP_TOKEN_LEN - 24 + 1); /* MAC of a */
    uint64_t id;
    cr_assert_eq(verify(mixed, 0, &id), LP_TOKEN_E_FORGED);
}

Test(lp_token, garbage_is_malformed)
{
    char tok[LP_TOKEN_SIZE];
    lp_token_sign(&key, 5, 10000, tok);
    const char *garbage[] = {"", "alice", ".", "bad", "SFMyNTY.g2gDbQAAAAA.xyz"};
    uint64_t id = 99;
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
        cr_assert_eq(verify(garbage[i], 0, &id), LP_TOKEN_E_MALFORMED, "%s", garbage[i]);
    /* Right length, wrong shape. */
    char shape[LP_TOKEN_SIZE];
    memcpy(shape, tok, sizeof(shape));
    shape[23] = 'x';
    cr_assert_eq(verify(shape, 0, &id), LP_TOKEN_E_MALFORMED);
    memcpy(shape, tok, sizeof(shape));
    shape[3] = '+'; /* standard alphabet */
    cr_assert_eq(verify(shape, 0, &id), LP_TOKEN_E_MALFORMED);
    /* Truncated and extended. */
    cr_assert_eq(lp_token_verify(&key, tok, LP_TOKEN_LEN - 1, 0, &id), LP_TOKEN_E_MALFORMED);
    char longer[LP_TOKEN_SIZE + 1];
    memcpy(longer, tok, LP_TOKEN_LEN);
    longer[LP_TOKEN_LEN] = 'A';
    cr_assert_eq(lp_token_verify(&key, longer, LP_TOKEN_LEN + 1, 0, &id), LP_TOKEN_E_MALFORMED);
    /* Only len bytes are read: a valid token followed by junk, given the right length, is fine. */
    char padded[LP_TOKEN_SIZE + 8];
    memcpy(padded, tok, LP_TOKEN_LEN);
    memcpy(padded + LP_TOKEN_LEN, "junk!!!", 8);
    cr_assert_eq(lp_token_verify(&key, padded, LP_TOKEN_LEN, 0, &id), LP_TOKEN_OK);
    cr_assert_eq(id, 5);
}

Test(lp_token, tokens_differ_per_session_and_expiry)
{
    char a[LP_TOKEN_SIZE], b[LP_TOKEN_SIZE], c[LP_TOKEN_SIZE];
    lp_token_sign(&key, 1, 10000, a);
    lp_token_sign(&key, 1, 10001, b);
    lp_token_sign(&key, 2, 10000, c);
    cr_assert_str_neq(a, b);
    cr_assert_str_neq(a, c);
    char again[LP_TOKEN_SIZE];
    lp_token_sign(&key, 1, 10000, again);
    cr_assert_str_eq(a, again, "deterministic for one key");
}

Test(lp_token, strerror_names_every_code)
{
    for (int rc = LP_TOKEN_E_CRYPTO; rc <= LP_TOKEN_OK; rc++)
        cr_assert_str_neq(lp_token_strerror(rc), "unknown error");
    cr_assert_str_eq(lp_token_strerror(-100), "unknown error");
}
