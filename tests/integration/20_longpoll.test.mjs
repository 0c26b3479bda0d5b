// 20 - the long-poll transport (PROTOCOL.md 7): phoenix.js's own LongPoll against cinder,
// mixed with WebSocket clients and API broadcasts; the wire rules checked with raw HTTP
// (statuses in the JSON body, session tokens, ndjson batches, limits, CORS); session expiry
// with a 1 s window; and phoenix.js falling back from a failing WebSocket to long-poll.
// Every wait is bounded; the server runs under the sanitizers in CI and its stderr is checked.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { LongPoll } from 'phoenix';

import { useServer } from './lib/harness.mjs';
import { request } from './lib/http.mjs';
import { connect, joinOk, ping, push, waitFor } from './lib/phx.mjs';
import { sleep, waitUntil, withTimeout } from './lib/util.mjs';

const LP_PATH = '/socket/longpoll';
const isEvent = (topic, event) => (f) => Array.isArray(f) && f[2] === topic && f[3] === event;

/** A long-poll client speaking the wire protocol directly (what phoenix.js's LongPoll does). */
class RawLongPoll {
  constructor(port, params = { token: 'alice', vsn: '2.0.0' }) {
    this.port = port;
    this.params = params;
    this.token = null;
    this.ref = 0;
    this.frames = []; // every frame received by poll(), parsed
  }

  nextRef() {
    this.ref += 1;
    return String(this.ref);
  }

  /** The path with the app params and (like phoenix.js) the session token appended last. */
  path(token = this.token) {
    const qs = new URLSearchParams(this.params);
    if (token) qs.append('token', token);
    return `${LP_PATH}?${qs}`;
  }

  async get({ token = this.token, timeout = 15000 } = {}) {
    const res = await request(this.port, { method: 'GET', path: this.path(token), timeout });
    assert.equal(res.status, 200, `HTTP status of a long-poll GET: ${res.status} ${res.text}`);
    return res.json;
  }

  /** First GET: a new session. Resolves the token. */
  async open() {
    const body = await this.get({ token: null });
    assert.equal(body.status, 410, JSON.stringify(body));
    assert.deepEqual(body.messages, []);
    assert.equal(typeof body.token, 'string');
    this.token = body.token;
    return this.token;
  }

  /** One poll; remembers the renewed token and the frames. */
  async poll(opts) {
    const body = await this.get(opts);
    if (body.token) this.token = body.token;
    if (body.status === 200) for (const m of body.messages) this.frames.push(JSON.parse(m));
    return body;
  }

  /** Polls until a frame matching pred arrived (bounded); resolves it. */
  async expect(pred, ms = 5000, label = 'a matching frame') {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}; got ${JSON.stringify(this.frames)}`);
      const body = await this.poll({ timeout: ms + 2000 });
      assert.ok([200, 204].includes(body.status), `poll status ${JSON.stringify(body)}`);
    }
  }

  /** POST lines as ndjson (or a raw body with another content type). Resolves {status, json}. */
  async post(body, { contentType = 'application/x-ndjson', token = this.token, headers = {} } = {}) {
    const text = Array.isArray(body) ? body.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') : body;
    const qs = new URLSearchParams(this.params);
    if (token) qs.append('token', token);
    return request(this.port, {
      method: 'POST',
      path: `${LP_PATH}?${qs}`,
      body: text,
      headers: { 'Content-Type': contentType, ...headers },
    });
  }

  async postOk(lines, opts) {
    const res = await this.post(lines, opts);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 200 }, res.text);
  }

  /** Joins topic with a fresh join_ref and resolves it once the ok reply arrived. */
  async joinOk(topic) {
    const jr = this.nextRef();
    await this.postOk([[jr, jr, topic, 'phx_join', {}]]);
    const reply = await this.expect((f) => f[1] === jr && f[3] === 'phx_reply', 5000, `join reply ${topic}`);
    assert.deepEqual(reply, [jr, jr, topic, 'phx_reply', { status: 'ok', response: {} }]);
    return jr;
  }
}

/** The headers every long-poll answer carries. */
function assertLongPollHeaders(res) {
  assert.equal(res.headers['access-control-allow-origin'], '*');
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'no-store');
}

/** A Storage-like object: phoenix.js remembers a fallback in sessionStorage, which Node lacks. */
function memoryStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
    clear: () => m.clear(),
  };
}

/** A "WebSocket" that never connects: it errors and closes 10 ms after it is created. */
class FailingWebSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.timer = setTimeout(() => {
      this.readyState = 3;
      this.onerror?.(new Error('connection refused (test double)'));
      this.onclose?.({ code: 1006, reason: '', wasClean: false });
    }, 10);
  }
  send() {
    throw new Error('not open');
  }
  close() {
    clearTimeout(this.timer);
    this.readyState = 3;
  }
}

/** Fails the file if the sanitizers reported anything, once the server has exited. */
function checkSanitizers(ctx) {
  after(async () => {
    await ctx.server.stop();
    const err = ctx.server.stderr();
    assert.doesNotMatch(err, /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/, err.slice(-4000));
  });
}

describe('long-poll transport', { timeout: 60_000 }, () => {
  const ctx = useServer();
  checkSanitizers(ctx);

  describe('phoenix.js LongPoll', () => {
    test('joins, pings, heartbeats, and trades shouts with WebSocket clients and the API', async () => {
      const lp = await ctx.phx({ token: 'lp-alice', transport: LongPoll });
      assert.equal(lp.transport, LongPoll);
      const ws = await ctx.phx({ token: 'ws-bob' });
      const lpChan = lp.channel('room:mixed');
      const wsChan = ws.channel('room:mixed');
      await joinOk(lpChan);
      await joinOk(wsChan);

      const payload = { s: 'héllo ☃', n: 1, nested: { a: [1, 2] } };
      assert.deepEqual(await push(lpChan, 'ping', payload), { status: 'ok', response: payload });
      assert.ok((await ping(lp, 5000)) >= 0, 'socket-level heartbeat answered over long-poll');

      // WebSocket -> long-poll
      const atLp = waitFor(lpChan, 'shout', { timeout: 5000, filter: (p) => p.from === 'ws' });
      assert.deepEqual(await push(wsChan, 'shout', { from: 'ws' }), { status: 'ok', response: {} });
      assert.deepEqual(await atLp, { from: 'ws' });

      // long-poll -> WebSocket (and back to the sender)
      const atWs = waitFor(wsChan, 'shout', { timeout: 5000, filter: (p) => p.from === 'lp' });
      const atSelf = waitFor(lpChan, 'shout', { timeout: 5000, filter: (p) => p.from === 'lp' });
      assert.deepEqual(await push(lpChan, 'shout', { from: 'lp' }), { status: 'ok', response: {} });
      assert.deepEqual(await atWs, { from: 'lp' });
      assert.deepEqual(await atSelf, { from: 'lp' });

      // backend API -> both
      const apiLp = waitFor(lpChan, 'news', { timeout: 5000 });
      const apiWs = waitFor(wsChan, 'news', { timeout: 5000 });
      const res = await ctx.broadcast('room:mixed', 'news', { v: 7 });
      assert.equal(res.status, 202);
      assert.deepEqual(await apiLp, { v: 7 });
      assert.deepEqual(await apiWs, { v: 7 });
    });

    test('a burst of pushes is batched and every reply arrives in order', async () => {
      const lp = await ctx.phx({ token: 'lp-burst', transport: LongPoll });
      const chan = lp.channel('room:burst');
      await joinOk(chan);
      const replies = await Promise.all(Array.from({ length: 150 }, (_, i) => push(chan, 'ping', { i }, 8000)));
      replies.forEach((r, i) => assert.deepEqual(r, { status: 'ok', response: { i } }));
    });

    test('refused connect: phoenix.js sees 403 as an error', async () => {
      const sock = ctx.socket({ token: 'bad', transport: LongPoll });
      const errors = [];
      sock.onError((e) => errors.push(e));
      sock.connect();
      await waitUntil(() => errors.includes(403), 5000, 'onError(403)');
    });

    test('falls back from a failing WebSocket to long-poll and joins', async () => {
      const storage = memoryStorage();
      const sock = ctx.socket({
        token: 'fallback',
        transport: FailingWebSocket,
        longPollFallbackMs: 200,
        sessionStorage: storage,
      });
      await connect(sock, 5000).catch(() => {}); // the first error is the failing WebSocket's
      await waitUntil(() => sock.transport === LongPoll && sock.isConnected(), 5000, 'long-poll fallback open');
      const chan = sock.channel('room:fallback');
      await joinOk(chan);
      assert.deepEqual(await push(chan, 'ping', { via: 'lp' }), { status: 'ok', response: { via: 'lp' } });
      assert.equal(storage.getItem('phx:fallback:LongPoll'), 'true', 'the fallback is remembered');
    });
  });

  describe('wire rules', () => {
    test('first GET opens a session (410 + token), later GETs poll with it; headers on every answer', async () => {
      const res = await request(ctx.port, { method: 'GET', path: `${LP_PATH}?token=alice&vsn=2.0.0&` });
      assert.equal(res.status, 200);
      assertLongPollHeaders(res);
      assert.equal(res.json.status, 410);
      assert.match(res.json.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      assert.deepEqual(res.json.messages, []);

      const c = new RawLongPoll(ctx.port);
      c.token = res.json.token;
      const jr = c.nextRef();
      const post = await c.post([[jr, jr, 'room:wire', 'phx_join', {}], [null, 'h1', 'phoenix', 'heartbeat', {}]]);
      assert.equal(post.status, 200);
      assertLongPollHeaders(post);
      assert.deepEqual(post.json, { status: 200 });
      const reply = await c.expect((f) => f[1] === 'h1', 5000, 'heartbeat reply');
      assert.deepEqual(reply, [null, 'h1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
      assert.deepEqual(await c.expect((f) => f[1] === jr && f[3] === 'phx_reply'), [jr, jr, 'room:wire', 'phx_reply', { status: 'ok', response: {} }]);
    });

    test('messages are whole V2 frames as JSON strings; the session token is renewed', async () => {
      const c = new RawLongPoll(ctx.port);
      const first = await c.open();
      await c.postOk([[null, '7', 'phoenix', 'heartbeat', {}]]);
      const body = await c.poll();
      assert.equal(body.status, 200);
      assert.equal(typeof body.messages[0], 'string');
      assert.deepEqual(JSON.parse(body.messages[0]), [null, '7', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
      assert.notEqual(body.token, first, 'a fresh token with each answer');
      // the old token stays valid while the session lives
      await c.postOk([[null, '8', 'phoenix', 'heartbeat', {}]], { token: first });
      await c.expect((f) => f[1] === '8');
    });

    test('the connect token is the app param; the session token can also come as a header', async () => {
      const c = new RawLongPoll(ctx.port, { token: 'carol', vsn: '2.0.0' });
      await c.open();
      // header only, no query token at all: still this session
      const res = await request(ctx.port, {
        method: 'POST',
        path: LP_PATH,
        body: JSON.stringify([null, 'hdr', 'phoenix', 'heartbeat', {}]),
        headers: { 'X-Phoenix-LongPoll-Token': c.token },
      });
      assert.deepEqual(res.json, { status: 200 });
      await c.expect((f) => f[1] === 'hdr');
    });

    test('connect refused: {"status":403}; a bad vsn too', async () => {
      for (const qs of ['token=bad&vsn=2.0.0', 'vsn=2.0.0', 'token=alice&vsn=3.0.0']) {
        const res = await request(ctx.port, { method: 'GET', path: `${LP_PATH}?${qs}` });
        assert.equal(res.status, 200);
        assertLongPollHeaders(res);
        assert.deepEqual(res.json, { status: 403 }, qs);
      }
    });

    test('a forged or garbled session token is no session: POST 410, GET opens a new one', async () => {
      const c = new RawLongPoll(ctx.port);
      const real = await c.open();
      const i = real.indexOf('.') + 5;
      const forged = real.slice(0, i) + (real[i] === 'A' ? 'B' : 'A') + real.slice(i + 1);
      for (const token of [forged, 'garbage', `${real}x`]) {
        const res = await c.post([[null, '1', 'phoenix', 'heartbeat', {}]], { token });
        assert.deepEqual(res.json, { status: 410 }, token);
      }
      // GET: the forged token is just the last `token` param; connect runs and a new session opens
      const body = await c.get({ token: forged });
      assert.equal(body.status, 410);
      assert.notEqual(body.token, real);
      assert.notEqual(body.token, forged);
      // a POST with no token at all
      const none = await c.post([[null, '1', 'phoenix', 'heartbeat', {}]], { token: null });
      assert.deepEqual(none.json, { status: 410 });
    });

    test('a GET waits for messages and is answered as soon as one is queued', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      await c.joinOk('room:wait');
      const t0 = Date.now();
      const polled = c.poll();
      await sleep(300);
      await ctx.broadcast('room:wait', 'late', { x: 1 });
      const body = await polled;
      assert.equal(body.status, 200);
      assert.ok(Date.now() - t0 < 3000, 'answered on the broadcast, not at the window');
      assert.ok(c.frames.some((f) => f[3] === 'late'));
    });

    test('two GETs on one session: the older is answered 204 at once, the newer gets the messages', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      await c.joinOk('room:twice');
      const t0 = Date.now();
      const older = c.get();
      await sleep(200);
      const newer = c.get();
      const first = await withTimeout(older, 3000, 'the older GET');
      assert.equal(first.status, 204);
      assert.deepEqual(first.messages, []);
      assert.ok(Date.now() - t0 < 3000);
      await ctx.broadcast('room:twice', 'ev', { n: 2 });
      const second = await withTimeout(newer, 3000, 'the newer GET');
      assert.equal(second.status, 200);
      assert.deepEqual(JSON.parse(second.messages[0]), [null, null, 'room:twice', 'ev', { n: 2 }]);
    });

    test('a held GET whose client goes away leaves the session usable', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      await c.joinOk('room:abort');
      // abort a held poll from the client side
      await assert.rejects(request(ctx.port, { method: 'GET', path: c.path(), timeout: 300 }), /timed out/);
      await sleep(100);
      await ctx.broadcast('room:abort', 'after', { ok: true });
      await c.expect((f) => f[3] === 'after', 5000, 'broadcast after the aborted poll');
      assert.ok(ctx.server.alive());
    });

    test('ndjson: up to 100 lines are processed in order, \\r\\n accepted', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify([null, `r${i}`, 'phoenix', 'heartbeat', {}]));
      const res = await c.post(`${lines.join('\r\n')}\n`);
      assert.deepEqual(res.json, { status: 200 });
      await c.expect((f) => f[1] === 'r99', 5000, 'the 100th reply');
      const refs = c.frames.map((f) => f[1]);
      assert.deepEqual(refs, lines.slice(0, 99).map((_, i) => `r${i}`));
    });

    test('ndjson: more than 100 lines is refused with 400 and ends the session', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      const lines = Array.from({ length: 101 }, (_, i) => [null, `x${i}`, 'phoenix', 'heartbeat', {}]);
      const res = await c.post(lines);
      assert.deepEqual(res.json, { status: 400 });
      await sleep(100);
      assert.deepEqual((await c.post([[null, 'y', 'phoenix', 'heartbeat', {}]])).json, { status: 410 });
    });

    test('ndjson: a base64 line is a binary frame', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      // kind 0 push, join_ref "", ref "5", topic "room:nojoin", event "binary", payload 01 02 03
      const topic = Buffer.from('room:nojoin');
      const frame = Buffer.concat([Buffer.from([0, 0, 1, topic.length, 6]), Buffer.from('5'), topic, Buffer.from('binary'), Buffer.from([1, 2, 3])]);
      await c.postOk([frame.toString('base64')]);
      const reply = await c.expect((f) => f[1] === '5', 5000, 'reply to the binary push');
      assert.deepEqual(reply, [null, '5', 'room:nojoin', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }]);
    });

    test('binary server frames cannot travel over long-poll: dropped, the session goes on', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      const jr = await c.joinOk('room:bin');
      const topic = Buffer.from('room:bin');
      const frame = Buffer.concat([Buffer.from([0, jr.length, 2, topic.length, 6]), Buffer.from(jr), Buffer.from('b1'), topic, Buffer.from('binary'), Buffer.from([9])]);
      await c.postOk([frame.toString('base64'), [jr, 'p1', 'room:bin', 'ping', { after: 'binary' }]]);
      const reply = await c.expect((f) => f[1] === 'p1', 5000, 'the ping reply');
      assert.deepEqual(reply[4], { status: 'ok', response: { after: 'binary' } });
      assert.ok(!c.frames.some((f) => f[1] === 'b1'), 'no trace of the binary reply');
    });

    for (const [name, line] of [
      ['garbage (not base64)', 'this is not base64!'],
      ['base64 of a truncated binary frame', Buffer.from([0, 9, 9]).toString('base64')],
      ['broken JSON', '[null,"1","phoenix","heartbeat",{}'],
      ['an empty line', ''],
    ]) {
      test(`ndjson: ${name} is refused with 400 and ends the session, as a WebSocket would close`, async () => {
        const c = new RawLongPoll(ctx.port);
        await c.open();
        const res = await c.post(`${JSON.stringify([null, 'ok1', 'phoenix', 'heartbeat', {}])}\n${line}\n${JSON.stringify([null, 'never', 'phoenix', 'heartbeat', {}])}`);
        assert.deepEqual(res.json, { status: 400 });
        await sleep(100);
        assert.deepEqual((await c.post([[null, 'z', 'phoenix', 'heartbeat', {}]])).json, { status: 410 });
        assert.ok(ctx.server.alive());
      });
    }

    test('another content type: the whole body is one text frame', async () => {
      const c = new RawLongPoll(ctx.port);
      await c.open();
      const res = await c.post(JSON.stringify([null, 'plain', 'phoenix', 'heartbeat', {}]), { contentType: 'text/plain' });
      assert.deepEqual(res.json, { status: 200 });
      await c.expect((f) => f[1] === 'plain');
      // two frames in one non-ndjson body are one (malformed) frame
      const two = await c.post('[null,"a","phoenix","heartbeat",{}]\n[null,"b","phoenix","heartbeat",{}]', { contentType: 'text/plain' });
      assert.deepEqual(two.json, { status: 400 });
    });

    test('OPTIONS is a CORS preflight; other methods are HTTP 400', async () => {
      const res = await request(ctx.port, {
        method: 'OPTIONS',
        path: LP_PATH,
        headers: { 'Access-Control-Request-Headers': 'content-type, x-phoenix-authtoken', Origin: 'http://example.test' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.text, '');
      assertLongPollHeaders(res);
      assert.equal(res.headers['access-control-allow-headers'], 'content-type, x-phoenix-authtoken');
      assert.equal(res.headers['access-control-allow-methods'], 'get, post, options');
      assert.equal(res.headers['access-control-max-age'], '3600');
      for (const method of ['PUT', 'DELETE', 'PATCH']) {
        const other = await request(ctx.port, { method, path: LP_PATH, body: 'x' });
        assert.equal(other.status, 400, method);
      }
    });

    test('the disconnect broadcast on the socket id ends the session; the held GET gets 410', async () => {
      const c = new RawLongPoll(ctx.port, { token: 'kicked', vsn: '2.0.0' });
      await c.open();
      await c.joinOk('room:kick');
      const held = c.get();
      await sleep(200);
      await ctx.broadcast('users_socket:kicked', 'disconnect', {});
      assert.deepEqual(await withTimeout(held, 3000, 'the held GET'), { status: 410 });
      assert.deepEqual((await c.post([[null, 'k', 'phoenix', 'heartbeat', {}]])).json, { status: 410 });
    });
  });
});

describe('long-poll limits and expiry', { timeout: 60_000 }, () => {
  const ctx = useServer(['--longpoll-window', '1s', '--max-body-size', '4k']);
  checkSanitizers(ctx);

  test('a body over --max-body-size: 413 (or the connection cut before it is read) and the session ends', async () => {
    const c = new RawLongPoll(ctx.port);
    await c.open();
    const big = JSON.stringify([null, '1', 'room:x', 'ping', { pad: 'x'.repeat(8000) }]);
    const res = await c.post([big]).catch((err) => ({ status: null, err }));
    if (res.status === null) assert.ok(['ECONNRESET', 'EPIPE'].includes(res.err.code), String(res.err));
    else assert.deepEqual(res.json, { status: 413 });
    await sleep(100);
    assert.deepEqual((await c.post([[null, 'z', 'phoenix', 'heartbeat', {}]])).json, { status: 410 });
    // within the limit is fine on a new session
    const d = new RawLongPoll(ctx.port);
    await d.open();
    await d.postOk([[null, '1', 'phoenix', 'heartbeat', { pad: 'y'.repeat(3000) }]]);
  });

  test('the window: an idle GET is answered 204 after about 1 s', async () => {
    const c = new RawLongPoll(ctx.port);
    await c.open();
    const t0 = Date.now();
    const body = await c.poll({ timeout: 5000 });
    const took = Date.now() - t0;
    assert.equal(body.status, 204);
    assert.deepEqual(body.messages, []);
    assert.ok(took >= 900 && took < 3000, `held ${took} ms`);
  });

  test('polling keeps a session alive across several windows', async () => {
    const c = new RawLongPoll(ctx.port);
    await c.open();
    await c.joinOk('room:alive');
    for (let i = 0; i < 3; i++) assert.equal((await c.poll({ timeout: 5000 })).status, 204);
    await c.postOk([[null, 'still', 'phoenix', 'heartbeat', {}]]);
    await c.expect((f) => f[1] === 'still');
  });

  test('no poll for 1.5 windows: the session ends (410) and its channels terminate', async () => {
    const watcher = await ctx.raw({ token: 'watcher', vsn: '2.0.0' });
    await watcher.joinOk('room:expire');
    const c = new RawLongPoll(ctx.port, { token: 'sleepy', vsn: '2.0.0' });
    await c.open();
    await c.joinOk('room:expire');
    const leftDiff = (f) => isEvent('room:expire', 'presence_diff')(f) && f[4].leaves && f[4].leaves.sleepy;
    assert.ok(!watcher.log.some(leftDiff));
    await waitUntil(() => watcher.log.some(leftDiff), 5000, 'presence leave of the expired session');
    assert.deepEqual((await c.post([[null, 'late', 'phoenix', 'heartbeat', {}]])).json, { status: 410 });
    // GET with the dead session's token: a fresh session (phoenix.js then reconnects from scratch)
    const body = await c.get();
    assert.equal(body.status, 410);
    assert.notEqual(body.token, c.token);
  });

  test('phoenix.js LongPoll over a 1 s window: idle polls, then a push still works', async () => {
    const lp = await ctx.phx({ token: 'lp-window', transport: LongPoll });
    const chan = lp.channel('room:window');
    await joinOk(chan);
    await sleep(2500); // > 2 windows of 204s
    assert.deepEqual(await push(chan, 'ping', { late: true }), { status: 'ok', response: { late: true } });
  });
});
