// 43 - JWT auth (issue 6): with jwt_secret set, a socket connects with an HS256 JWT, from the
// `token` query parameter or, over long-poll, X-Phoenix-AuthToken (phoenix.js's `authToken`). The
// token's sub is the user id. Expired, not-yet-valid, wrongly signed and non-HS256 tokens are
// refused with 403. Tokens are signed here with Node's crypto, independently of the server's code;
// `cinder gentoken` output is accepted too. Without a secret the demo rule stays, and the authToken
// subprotocol form (Sec-WebSocket-Protocol, answered "phoenix") works for tokens libwebsockets 4.1.6
// can read there (up to 72 bytes); a JWT is longer: 431 over WebSocket, and phoenix.js's long-poll
// fallback connects with it.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';

import { LongPoll } from 'phoenix';
import WebSocket from 'ws';

import { useServer } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { connect, joinOk, push, waitFor } from './lib/phx.mjs';
import { runCinder } from './lib/server.mjs';
import { waitUntil, withTimeout } from './lib/util.mjs';

const SECRET = 'test-secret-0123456789abcdef-0123456789';
const b64url = (s) => Buffer.from(s).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 JWT of `claims` (any header may be given, to forge wrong algorithms). */
function sign(claims, { secret = SECRET, header = { alg: 'HS256', typ: 'JWT' } } = {}) {
  const head = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/**
 * A token for phoenix.js's authToken: btoa(token) goes into a subprotocol name, which `ws` (like
 * browsers) refuses when it holds '/', a character base64 may produce. A nonce claim is varied
 * until the encoding is a valid subprotocol token.
 */
function authTokenFor(claims) {
  for (let n = 0; ; n++) {
    const tok = sign({ ...claims, n });
    if (!btoa(tok).includes('/')) return tok;
  }
}

/** Resolves the HTTP status of a refused upgrade, or 101 when it opened. */
function upgradeStatus(url, protocols) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
      ws.once('open', () => {
        ws.terminate();
        resolve(101);
      });
      ws.once('unexpected-response', (req, res) => {
        ws.terminate();
        resolve(res.statusCode);
      });
      ws.once('error', reject);
    }),
    5000,
    `upgrade of ${url}`,
  );
}

describe('JWT connect', { timeout: 60_000 }, () => {
  const ctx = useServer(['--jwt-secret', SECRET]);
  const wsUrl = (token) => ctx.server.wsUrl({ token, vsn: '2.0.0' });

  test('a token in the query is accepted; sub is the user id and the socket id', async () => {
    const token = sign({ sub: 'alice', exp: now() + 60 });
    const sock = await ctx.phx({ token });
    const room = sock.channel('room:jwt');
    const state = waitFor(room, 'presence_state');
    await joinOk(room);
    assert.deepEqual(Object.keys(await state), ['alice'], 'presence is keyed by sub');
    // The socket id is users_socket:<sub>: a disconnect broadcast there closes it.
    const closed = new Promise((resolve) => sock.onClose(resolve));
    await ctx.broadcast('users_socket:alice', 'disconnect', {});
    await withTimeout(closed, 3000, 'disconnect by socket id');
  });

  test("phoenix.js's authToken with a JWT: 431 over WebSocket (libwebsockets 4.1.6), connected by the long-poll fallback", async () => {
    // lws 4.1.6 picks the subprotocol from at most 126 bytes of Sec-WebSocket-Protocol; a JWT makes it
    // longer, so the upgrade is answered 431 (lws alone would hang up without a status).
    const token = authTokenFor({ sub: 'bob', exp: now() + 60 });
    const bearer = `base64url.bearer.phx.${btoa(token).replace(/=/g, '')}`;
    assert.equal(await upgradeStatus(wsUrl(undefined), ['phoenix', bearer]), 431);
    // phoenix.js with longPollFallbackMs falls back to LongPoll, which sends X-Phoenix-AuthToken.
    const sock = ctx.socket({ params: {}, authToken: token, longPollFallbackMs: 300 });
    sock.connect();
    await waitUntil(() => sock.isConnected(), 8000, 'phoenix.js to fall back to long-poll');
    assert.equal(sock.transport, LongPoll);
    const room = sock.channel('room:auth');
    const state = waitFor(room, 'presence_state');
    await joinOk(room);
    assert.deepEqual(Object.keys(await state), ['bob']);
    assert.deepEqual((await push(room, 'ping', { x: 1 })).response, { x: 1 });
  });

  test('a garbled bearer entry is refused', async () => {
    assert.equal(await upgradeStatus(wsUrl(undefined), ['phoenix', 'base64url.bearer.phx.!!']), 403);
    assert.equal(await upgradeStatus(wsUrl(undefined), ['phoenix', 'base64url.bearer.phx.']), 403);
    assert.equal(await upgradeStatus(wsUrl(sign({ sub: 'a', exp: now() + 60 })), ['phoenix', 'base64url.bearer.phx.!!']), 403);
  });

  test('refused with 403: expired, not yet valid, wrong signature, alg none, alg RS256, no sub, junk', async () => {
    const t = now();
    const cases = {
      expired: sign({ sub: 'a', exp: t - 10 }),
      'nbf in the future': sign({ sub: 'a', nbf: t + 3600, exp: t + 7200 }),
      'wrong signature': sign({ sub: 'a', exp: t + 60 }, { secret: 'another-secret-0123456789abcdef-0123' }),
      'alg none, no signature': `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: 'a' }))}.`,
      'alg none, signed anyway': sign({ sub: 'a', exp: t + 60 }, { header: { alg: 'none', typ: 'JWT' } }),
      'alg RS256 (HMAC-signed: key confusion)': sign({ sub: 'a', exp: t + 60 }, { header: { alg: 'RS256', typ: 'JWT' } }),
      'no sub': sign({ exp: t + 60 }),
      'a plain demo token': 'alice',
      'channels claim not an array': sign({ sub: 'a', exp: t + 60, channels: 'chat:*' }),
    };
    for (const [what, token] of Object.entries(cases)) {
      assert.equal(await upgradeStatus(wsUrl(token)), 403, what);
    }
    // And the control: a good token opens.
    assert.equal(await upgradeStatus(wsUrl(sign({ sub: 'a', exp: t + 60 }))), 101);
  });

  test('cinder gentoken signs a token the server accepts', async () => {
    process.env.CINDER_JWT_SECRET = SECRET; // the secret from the environment, as an operator would
    const g = await runCinder(['gentoken', '--user', 'dave', '--ttl', '10m', '--channel', 'chat:*']).finally(() => {
      delete process.env.CINDER_JWT_SECRET;
    });
    assert.equal(g.code, 0, g.stderr);
    const token = g.stdout.trim();
    const [head, body] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
    assert.deepEqual(head, { alg: 'HS256', typ: 'JWT' });
    assert.equal(body.sub, 'dave');
    assert.deepEqual(body.channels, ['chat:*']);
    assert.ok(body.exp - body.iat === 600 && Math.abs(body.iat - now()) < 5, JSON.stringify(body));
    const sock = await ctx.phx({ token });
    const room = sock.channel('room:gen');
    const state = waitFor(room, 'presence_state');
    await joinOk(room);
    assert.deepEqual(Object.keys(await state), ['dave']);
  });

  test('long-poll: X-Phoenix-AuthToken (phoenix.js LongPoll with authToken), 403 without a good one', async () => {
    const token = authTokenFor({ sub: 'erin', exp: now() + 60 });
    const sock = await ctx.phx({ params: {}, authToken: token, transport: LongPoll });
    assert.equal(sock.transport, LongPoll);
    const room = sock.channel('room:lp');
    const state = waitFor(room, 'presence_state');
    await joinOk(room);
    assert.deepEqual(Object.keys(await state), ['erin']);
    const lp = (headers, q = 'vsn=2.0.0') => request(ctx.port, { method: 'GET', path: `/socket/longpoll?${q}`, headers });
    assert.equal((await lp({ 'X-Phoenix-AuthToken': sign({ sub: 'f', exp: now() + 60 }) })).json.status, 410, 'a session opens');
    assert.equal((await lp({ 'X-Phoenix-AuthToken': sign({ sub: 'f', exp: now() - 60 }) })).json.status, 403, 'expired');
    assert.equal((await lp({ 'X-Phoenix-AuthToken': sign({ sub: 'f' }, { header: { alg: 'none' } }) })).json.status, 403);
    assert.equal((await lp({})).json.status, 403, 'no token at all');
  });
});

describe('without jwt_secret the demo rule stays', { timeout: 30_000 }, () => {
  const ctx = useServer([]);
  const wsUrl = (token) => ctx.server.wsUrl({ token, vsn: '2.0.0' });

  test("the token is the user id, \"bad\" is refused; phoenix.js's authToken works, answered with the subprotocol phoenix", async () => {
    assert.equal(await upgradeStatus(wsUrl('bad')), 403);
    assert.equal(await upgradeStatus(wsUrl(undefined), ['phoenix', `base64url.bearer.phx.${btoa('bad').replace(/=/g, '')}`]), 403);
    // The authToken wins over a token parameter.
    const sock = await ctx.phx({ params: { token: 'query-user' }, authToken: 'zoe' });
    assert.equal(sock.conn.protocol, 'phoenix');
    const room = sock.channel('room:demo');
    const state = waitFor(room, 'presence_state');
    await joinOk(room);
    assert.deepEqual(Object.keys(await state), ['zoe']);
  });

  test('an authToken up to 72 bytes fits libwebsockets 4.1.6; a longer one is answered 431', async () => {
    const entry = (token) => `base64url.bearer.phx.${btoa(token).replace(/=/g, '')}`;
    const fits = 'u'.repeat(72);
    assert.equal(`phoenix, ${entry(fits)}`.length, 126);
    const sock = await ctx.phx({ params: {}, authToken: fits });
    assert.equal(sock.conn.protocol, 'phoenix');
    assert.equal(await upgradeStatus(wsUrl(undefined), ['phoenix', entry('u'.repeat(73))]), 431);
    await waitUntil(() => /websocket refused \(431\)/.test(ctx.server.stderr()), 3000, 'the 431 log line');
  });
});

describe('jwt_secret is checked', () => {
  test('a secret shorter than 32 bytes is refused at start (RFC 7518 3.2)', async () => {
    const r = await runCinder(['--jwt-secret', 'short']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /jwt_secret must be at least 32 bytes/);
  });
});
