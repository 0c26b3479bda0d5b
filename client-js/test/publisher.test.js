// Publisher: delivery through a real cinder, keep-alive, retries with backoff on 5xx and network
// errors, none on 4xx, timeouts, close().

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { PublishError, Publisher, createSocket, joinChannel } from '../src/index.js';
import { Cinder, HOST, freePort, waitUntil } from './lib/cinder.js';

/** A fake API: answers each request with the next status of `script` (the last one repeats),
 * counting requests and TCP connections. status 0: never answer. */
async function fakeApi(script) {
  const seen = { requests: 0, connections: 0, bodies: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.bodies.push(body);
      const status = script[Math.min(seen.requests, script.length - 1)];
      seen.requests += 1;
      if (status === 0) return; // hang
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status < 300 ? { ok: true } : { error: `status ${status}` }));
    });
  });
  server.on('connection', () => (seen.connections += 1));
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  return {
    url: `http://${HOST}:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => server.close(resolve) && server.closeAllConnections()),
  };
}

describe('Publisher against cinder', { timeout: 30_000 }, () => {
  const server = new Cinder({ args: ['--max-body-size', '4k'] });
  let socket;
  before(async () => {
    await server.start();
    socket = createSocket(server.httpUrl, { token: 'listener', timeout: 2000 });
  });
  after(async () => {
    socket.disconnect();
    await server.stop();
  });

  test('publish reaches subscribers; 202 in one attempt', async () => {
    const ch = socket.channel('telemetry:pub');
    const got = [];
    ch.on('reading', (p) => got.push(p));
    await joinChannel(ch);
    const pub = new Publisher(server.httpUrl);
    try {
      const res = await pub.publish('telemetry:pub', 'reading', { v: 42, unit: '°C' });
      assert.equal(res.status, 202);
      assert.equal(res.attempts, 1);
      await waitUntil(() => got.length === 1, 2000, 'the broadcast');
      assert.deepEqual(got[0], { v: 42, unit: '°C' });
    } finally {
      pub.close();
    }
  });

  test('many publishes over a few kept-alive connections, in order per connection, none lost', async () => {
    const ch = socket.channel('telemetry:many');
    const got = new Set();
    ch.on('n', (p) => got.add(p.i));
    await joinChannel(ch);
    const pub = new Publisher(server.httpUrl, { maxSockets: 4 });
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publish('telemetry:many', 'n', { i })));
      await waitUntil(() => got.size === 200, 3000, '200 broadcasts');
      const sockets = Object.values(pub.agent.freeSockets).flat().length;
      assert.ok(sockets >= 1 && sockets <= 4, `${sockets} kept-alive sockets`);
      assert.equal(pub.stats.published, 200);
    } finally {
      pub.close();
    }
  });

  test('4xx is not retried: a bad topic (400), a body too big (413)', async () => {
    const pub = new Publisher(server.httpUrl, { retries: 3, backoffMs: 10 });
    try {
      const bad = await pub.publish('x'.repeat(300), 'e', {}).catch((e) => e);
      assert.ok(bad instanceof PublishError);
      assert.equal(bad.status, 400);
      assert.equal(bad.attempts, 1);
      assert.match(bad.response.error, /topic/);
      const big = await pub.publish('room:big', 'e', { blob: 'x'.repeat(8000) }).catch((e) => e);
      assert.equal(big.status, 413);
      assert.equal(big.attempts, 1);
      assert.equal(pub.stats.retries, 0);
    } finally {
      pub.close();
    }
  });

  test('arguments are checked before anything is sent', async () => {
    const pub = new Publisher(server.httpUrl);
    await assert.rejects(pub.publish('', 'e', {}), TypeError);
    await assert.rejects(pub.publish('room:x', 'e', [1]), /payload must be an object/);
    assert.throws(() => new Publisher('ws://127.0.0.1:1'), /http\(s\) URL/);
    pub.close();
  });
});

describe('Publisher retries', { timeout: 30_000 }, () => {
  test('5xx then success: retried with backoff, one kept-alive connection', async () => {
    const api = await fakeApi([503, 502, 202]);
    const pub = new Publisher(api.url, { retries: 4, backoffMs: 20 });
    try {
      const started = Date.now();
      const res = await pub.publish('room:r', 'e', { a: 1 });
      assert.equal(res.status, 202);
      assert.equal(res.attempts, 3);
      assert.equal(api.seen.requests, 3);
      assert.equal(api.seen.connections, 1, 'keep-alive');
      assert.ok(Date.now() - started >= 10 + 20, 'backed off (jittered 10-20 ms, then 20-40 ms)');
      assert.deepEqual(JSON.parse(api.seen.bodies[0]), { topic: 'room:r', event: 'e', payload: { a: 1 } });
      assert.equal(pub.stats.retries, 2);
    } finally {
      pub.close();
      await api.close();
    }
  });

  test('5xx every time: rejects after retries + 1 attempts with the last status', async () => {
    const api = await fakeApi([500]);
    const pub = new Publisher(api.url, { retries: 2, backoffMs: 5 });
    try {
      const err = await pub.publish('room:r', 'e', {}).catch((e) => e);
      assert.ok(err instanceof PublishError);
      assert.equal(err.status, 500);
      assert.equal(err.attempts, 3);
      assert.equal(api.seen.requests, 3);
      assert.match(err.message, /failed after 3 attempts: HTTP 500/);
    } finally {
      pub.close();
      await api.close();
    }
  });

  test('4xx from any server: one attempt', async () => {
    const api = await fakeApi([429, 202]);
    const pub = new Publisher(api.url, { retries: 3, backoffMs: 5 });
    try {
      const err = await pub.publish('room:r', 'e', {}).catch((e) => e);
      assert.equal(err.status, 429);
      assert.equal(api.seen.requests, 1);
    } finally {
      pub.close();
      await api.close();
    }
  });

  test('connection refused: retried, then rejects with the network error', async () => {
    const port = await freePort();
    const pub = new Publisher(`http://${HOST}:${port}`, { retries: 2, backoffMs: 5 });
    const err = await pub.publish('room:r', 'e', {}).catch((e) => e);
    assert.ok(err instanceof PublishError);
    assert.equal(err.status, undefined);
    assert.equal(err.attempts, 3);
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(err.cause.code, 'ECONNREFUSED');
    pub.close();
  });

  test('a server that does not answer: each attempt times out', async () => {
    const api = await fakeApi([0]);
    const pub = new Publisher(api.url, { retries: 1, backoffMs: 5, timeout: 150 });
    try {
      const started = Date.now();
      const err = await pub.publish('room:r', 'e', {}).catch((e) => e);
      assert.match(err.message, /no answer within 150 ms/);
      assert.equal(err.attempts, 2);
      assert.ok(Date.now() - started < 2000);
    } finally {
      pub.close();
      await api.close();
    }
  });

  test('a network error mid-way is retried (server restarted between attempts)', async () => {
    const port = await freePort();
    const pub = new Publisher(`http://${HOST}:${port}`, { retries: 6, backoffMs: 50, maxBackoffMs: 200 });
    const pending = pub.publish('room:r', 'e', {});
    const server = new Cinder({ port });
    setTimeout(() => server.start(), 150);
    try {
      const res = await pending;
      assert.equal(res.status, 202);
      assert.ok(res.attempts > 1, `attempts ${res.attempts}`);
    } finally {
      pub.close();
      await waitUntil(() => server.alive(), 5000, 'cinder up');
      await server.stop();
    }
  });

  test('close() ends a publish that is backing off', async () => {
    const api = await fakeApi([503]);
    const pub = new Publisher(api.url, { retries: 10, backoffMs: 1000 });
    try {
      const pending = pub.publish('room:r', 'e', {});
      await waitUntil(() => api.seen.requests === 1, 2000, 'first attempt');
      const started = Date.now();
      pub.close();
      await assert.rejects(pending, /publisher closed/);
      assert.ok(Date.now() - started < 500);
    } finally {
      await api.close();
    }
  });
});
