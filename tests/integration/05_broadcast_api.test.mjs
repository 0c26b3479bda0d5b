// 05 - the backend publish API: POST /api/broadcast {topic, event, payload} -> 202 and a
// [null,null,topic,event,payload] frame at every subscriber; validation errors (400),
// body limit (413), unknown paths (404), wrong method (405).

import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';

import { useServer } from './lib/harness.mjs';
import { rawHttp } from './lib/http.mjs';
import { joinOk, waitFor } from './lib/phx.mjs';

const isEvent = (topic, event) => (f) => Array.isArray(f) && f[2] === topic && f[3] === event;

function assertJsonError(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.ok(res.json && typeof res.json === 'object', `body should be JSON: ${JSON.stringify(res.text)}`);
  assert.ok('error' in res.json, `JSON body should contain "error": ${res.text}`);
}

describe('POST /api/broadcast', { timeout: 20_000 }, () => {
  const ctx = useServer();

  test('202 with a JSON body; subscribers get [null,null,topic,event,payload]', async () => {
    const T = 'room:api';
    const a = await ctx.raw({ token: 'alice', vsn: '2.0.0' });
    const b = await ctx.raw({ token: 'bob', vsn: '2.0.0' });
    await a.joinOk(T);
    await b.joinOk(T);
    const payload = { body: 'from the backend', n: 1.25, list: [true, null, 'x'], obj: { 'ü': '☃' } };
    const res = await ctx.broadcast(T, 'news', payload);
    assert.equal(res.status, 202, res.text);
    assert.ok(res.json !== undefined, `202 body should be JSON: ${JSON.stringify(res.text)}`);
    assert.deepEqual(await a.expect(isEvent(T, 'news')), [null, null, T, 'news', payload]);
    assert.deepEqual(await b.expect(isEvent(T, 'news')), [null, null, T, 'news', payload]);
    assert.deepEqual(await a.collectFor(200), []);
  });

  test('phoenix.js receives API broadcasts as channel events', async () => {
    const socket = await ctx.phx();
    const channel = socket.channel('telemetry:api');
    await joinOk(channel);
    const got = waitFor(channel, 'metric');
    const res = await ctx.broadcast('telemetry:api', 'metric', { v: [1, 2, 3] });
    assert.equal(res.status, 202);
    assert.deepEqual(await got, { v: [1, 2, 3] });
  });

  test('only subscribers of that exact topic receive it', async () => {
    const raw = await ctx.raw();
    await raw.joinOk('room:one');
    await raw.joinOk('room:one2');
    assert.equal((await ctx.broadcast('room:one', 'e', { only: 'one' })).status, 202);
    assert.equal((await ctx.broadcast('room:two', 'e', { not: 'me' })).status, 202);
    assert.equal((await ctx.broadcast('room:on', 'e', { not: 'me' })).status, 202);
    const frames = await raw.collectFor(300);
    assert.deepEqual(frames, [[null, null, 'room:one', 'e', { only: 'one' }]]);
  });

  test('a broadcast to a topic nobody joined is still accepted', async () => {
    const res = await ctx.broadcast('room:empty_nobody_here', 'e', {});
    assert.equal(res.status, 202, res.text);
  });

  test('broadcasts to one topic arrive in publish order', async () => {
    const raw = await ctx.raw();
    await raw.joinOk('room:order');
    for (let i = 0; i < 50; i++) assert.equal((await ctx.broadcast('room:order', 'seq', { i })).status, 202);
    const frames = await raw.collectFor(300);
    assert.deepEqual(frames.map((f) => f[4].i), Array.from({ length: 50 }, (_, i) => i));
  });

  describe('400 on invalid bodies', () => {
    const bad = [
      ['malformed JSON', '{"topic": "room:x", "event": '],
      ['not JSON at all', 'hello'],
      ['a JSON array', '[1,2,3]'],
      ['a JSON string', '"room:x"'],
      ['empty body', ''],
      ['missing topic', { event: 'e', payload: {} }],
      ['numeric topic', { topic: 5, event: 'e', payload: {} }],
      ['null topic', { topic: null, event: 'e', payload: {} }],
      ['missing event', { topic: 'room:x', payload: {} }],
      ['numeric event', { topic: 'room:x', event: 5, payload: {} }],
      ['object event', { topic: 'room:x', event: {}, payload: {} }],
      ['string payload', { topic: 'room:x', event: 'e', payload: 'str' }],
      ['array payload', { topic: 'room:x', event: 'e', payload: [1, 2] }],
      ['numeric payload', { topic: 'room:x', event: 'e', payload: 3 }],
      ['null payload', { topic: 'room:x', event: 'e', payload: null }],
    ];
    for (const [name, body] of bad) {
      test(name, async () => {
        assertJsonError(await ctx.request({ body }), 400);
      });
    }

    test('a rejected body broadcasts nothing', async () => {
      const raw = await ctx.raw();
      await raw.joinOk('room:x');
      assertJsonError(await ctx.request({ body: { topic: 'room:x', event: 'e', payload: 'str' } }), 400);
      assertJsonError(await ctx.request({ body: { topic: 'room:x', event: 5, payload: {} } }), 400);
      assert.deepEqual(await raw.collectFor(300), []);
    });
  });

  test('404 for other paths, 405 for GET on /api/broadcast', async () => {
    const notFound = [
      { method: 'POST', path: '/api/other', body: { topic: 'room:x', event: 'e', payload: {} } },
      { method: 'POST', path: '/api/broadcast/extra', body: { topic: 'room:x', event: 'e', payload: {} } },
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/nope' },
    ];
    for (const req of notFound) {
      const res = await ctx.request(req);
      assert.equal(res.status, 404, `${req.method} ${req.path}: ${res.status} ${res.text}`);
    }
    const res = await ctx.request({ method: 'GET', path: '/api/broadcast' });
    assert.equal(res.status, 405, `GET /api/broadcast: ${res.status} ${res.text}`);
  });

  test('numbers outside the int64 range are accepted and delivered', async () => {
    // JSON.stringify writes 1e19 as the integer literal 10000000000000000000.
    const raw = await ctx.raw();
    await raw.joinOk('room:numbers');
    const payload = { big: 1e19, neg: -1e19, tiny: 5e-324, huge: 1.5e300 };
    const res = await ctx.request({ body: JSON.stringify({ topic: 'room:numbers', event: 'n', payload }) });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await raw.expect(isEvent('room:numbers', 'n')), [null, null, 'room:numbers', 'n', payload]);
  });

  describe('HTTP/1.1 message framing', () => {
    const body = JSON.stringify({ topic: 'room:framing', event: 'f', payload: { n: 1 } });
    const post = (extra, content) => `POST /api/broadcast HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}\r\n${content}`;

    test('sequential requests on one keep-alive connection are all answered', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < 3; i++) {
          const res = await ctx.request({ body: { topic: 'room:ka', event: 'e', payload: { i } }, agent });
          assert.equal(res.status, 202, res.text);
        }
      } finally {
        agent.destroy();
      }
    });

    test('two pipelined requests get one well-formed response each (or the first, then close)', async () => {
      const raw = await ctx.raw();
      await raw.joinOk('room:framing');
      const req = post(`Content-Length: ${Buffer.byteLength(body)}\r\n`, body);
      const { responses, raw: bytes, closed } = await rawHttp(ctx.port, req + req, 1000);
      const summary = `${responses.length} responses: ${JSON.stringify(bytes.slice(0, 400))}`;
      assert.ok(responses.length === 2 || (responses.length === 1 && closed), summary);
      for (const r of responses) {
        assert.equal(r.status, 202, summary);
        assert.ok(JSON.parse(r.body) !== undefined, `202 body should be JSON: ${summary}`);
      }
      const frames = (await raw.collectFor(300)).filter(isEvent('room:framing', 'f'));
      assert.equal(frames.length, responses.length, 'one broadcast per accepted request');
    });

    test('a chunked request body is accepted (202) or refused with 411, promptly', async () => {
      const chunked = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const { responses, raw: bytes } = await rawHttp(ctx.port, post('Transfer-Encoding: chunked\r\n', chunked), 2000);
      assert.ok(responses.length >= 1, `no response within 2 s to a chunked POST: ${JSON.stringify(bytes)}`);
      assert.ok([202, 411].includes(responses[0].status), `status ${responses[0].status}`);
    });

    test('a POST with neither Content-Length nor a body is answered (400 or 411), promptly', async () => {
      const { responses, raw: bytes } = await rawHttp(ctx.port, post('', ''), 2000);
      assert.ok(responses.length >= 1, `no response within 2 s: ${JSON.stringify(bytes)}`);
      assert.ok([400, 411].includes(responses[0].status), `status ${responses[0].status}`);
    });
  });

  test('the server keeps serving after many API requests, valid and invalid', async () => {
    for (let i = 0; i < 30; i++) {
      await ctx.request({ body: i % 2 ? '{bad' : { topic: 'room:load', event: 'e', payload: { i } } });
    }
    assert.ok(ctx.server.alive());
    assert.equal((await ctx.broadcast('room:load', 'e', {})).status, 202);
  });
});

describe('--max-body-size 1024', { timeout: 20_000 }, () => {
  const ctx = useServer(['--max-body-size', '1024']);

  test('a body over the limit is refused with 413 and not broadcast', async () => {
    const raw = await ctx.raw();
    await raw.joinOk('room:big');
    const body = JSON.stringify({ topic: 'room:big', event: 'e', payload: { pad: 'x'.repeat(2000) } });
    assert.ok(body.length > 1024);
    const res = await ctx.request({ body });
    assert.equal(res.status, 413, `${res.status} ${res.text}`);
    assert.deepEqual(await raw.collectFor(300), []);
  });

  test('a much larger body (1 MiB) is refused too', async () => {
    const raw = await ctx.raw();
    await raw.joinOk('room:big');
    const body = JSON.stringify({ topic: 'room:big', event: 'e', payload: { pad: 'x'.repeat(1 << 20) } });
    // Answering 413 and closing before the whole body is read is legitimate HTTP; the
    // client may then see the reset instead of the response.
    const res = await ctx.request({ body }).catch((err) => ({ status: null, err }));
    if (res.status === null) assert.ok(['ECONNRESET', 'EPIPE'].includes(res.err.code), String(res.err));
    else assert.equal(res.status, 413, `${res.status} ${res.text}`);
    assert.deepEqual(await raw.collectFor(300), []);
    assert.ok(ctx.server.alive());
  });

  test('a body under the limit is accepted', async () => {
    const raw = await ctx.raw();
    await raw.joinOk('room:big');
    const payload = { pad: 'y'.repeat(900) };
    const body = JSON.stringify({ topic: 'room:big', event: 'e', payload });
    assert.ok(body.length <= 1024);
    const res = await ctx.request({ body });
    assert.equal(res.status, 202, `${res.status} ${res.text}`);
    assert.deepEqual(await raw.expect(isEvent('room:big', 'e')), [null, null, 'room:big', 'e', payload]);
  });

  test('the server still serves after refusing large bodies', async () => {
    const socket = await ctx.phx();
    await joinOk(socket.channel('room:after'));
    assert.ok(ctx.server.alive());
  });
});
