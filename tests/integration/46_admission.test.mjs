// 46 - admission control and origins: the connection-rate limit answers 503 + Retry-After under a
// burst and recovers; the node and per-user limits; the Origin allow-list (403), while clients that
// send no Origin (Node, curl) pass, as with Phoenix.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import WebSocket from 'ws';

import { useServer } from './lib/harness.mjs';
import { handshakeStatus } from './lib/raw.mjs';
import { sleep, waitUntil, withTimeout } from './lib/util.mjs';

function handshake(url, headers = {}) {
  return withTimeout(
    new Promise((resolve) => {
      const ws = new WebSocket(url, { headers, perMessageDeflate: false });
      ws.once('open', () => resolve({ status: 101, ws }));
      ws.once('unexpected-response', (req, res) => {
        resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] });
        ws.terminate();
      });
      ws.on('error', (error) => resolve({ status: null, error }));
    }),
    5000,
    'handshake',
  );
}

describe('connection rate', { timeout: 30_000 }, () => {
  const ctx = useServer(['--connection-rate', '20']);

  test('a burst past the rate gets 503 + Retry-After, and the node recovers', async () => {
    await sleep(1100); // a full bucket
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => handshake(ctx.server.wsUrl({ token: `b${i}`, vsn: '2.0.0' }))));
    const ok = results.filter((r) => r.status === 101);
    const refused = results.filter((r) => r.status === 503);
    assert.equal(ok.length + refused.length, 60, JSON.stringify(results.map((r) => r.status)));
    assert.ok(ok.length >= 15 && ok.length <= 25, `about one second's worth admitted: ${ok.length}`);
    assert.ok(refused.length >= 35);
    for (const r of refused) assert.match(String(r.retryAfter), /^[1-9]\d*$/);
    for (const r of ok) r.ws.terminate();
    // a phoenix.js client retries; after the refill it gets in
    await sleep(1100);
    const later = await handshake(ctx.server.wsUrl({ token: 'later', vsn: '2.0.0' }));
    assert.equal(later.status, 101);
    later.ws.terminate();
    // phoenix.js itself, reconnecting with its backoff, ends up connected
    const socket = ctx.socket({ token: 'storm' });
    await new Promise((resolve) => {
      socket.onOpen(resolve);
      socket.connect();
    });
    assert.ok(socket.isConnected());
  });
});

describe('connection limits', { timeout: 30_000 }, () => {
  const ctx = useServer(['--max-connections', '3', '--max-connections-per-user', '2', '--connection-rate', '0']);

  test('per user 429, per node 503', async () => {
    const a1 = await handshake(ctx.server.wsUrl({ token: 'ann', vsn: '2.0.0' }));
    const a2 = await handshake(ctx.server.wsUrl({ token: 'ann', vsn: '2.0.0' }));
    assert.equal(a1.status, 101);
    assert.equal(a2.status, 101);
    const a3 = await handshake(ctx.server.wsUrl({ token: 'ann', vsn: '2.0.0' }));
    assert.equal(a3.status, 429);
    const b1 = await handshake(ctx.server.wsUrl({ token: 'bob', vsn: '2.0.0' }));
    assert.equal(b1.status, 101);
    const c1 = await handshake(ctx.server.wsUrl({ token: 'cat', vsn: '2.0.0' }));
    assert.equal(c1.status, 503);
    assert.ok(c1.retryAfter);
    a1.ws.terminate();
    await waitUntil(async () => (await handshakeStatus(ctx.server.wsUrl({ token: 'cat', vsn: '2.0.0' }))).status === 101, 3000, 'a freed slot');
    a2.ws.terminate();
    b1.ws.terminate();
  });
});

describe('seats of upgrades that fail', { timeout: 30_000 }, () => {
  const ctx = useServer(['--max-connections', '2', '--max-connections-per-user', '1', '--connection-rate', '0']);

  test('an upgrade admitted and then refused by libwebsockets gives its seat back', async () => {
    // Admission takes the seat when it lets the upgrade through; lws then finds no subprotocol it
    // speaks and drops the connection before it is established. The seat must come back.
    const url = ctx.server.wsUrl({ token: 'dan', vsn: '2.0.0' });
    for (let i = 0; i < 5; i++) {
      const r = await new Promise((resolve) => {
        const ws = new WebSocket(url, ['no-such-subprotocol'], { perMessageDeflate: false });
        ws.once('open', () => resolve('open'));
        ws.on('error', () => resolve('refused'));
        ws.once('close', () => resolve('refused'));
      });
      assert.equal(r, 'refused', `attempt ${i}`);
    }
    const first = await handshake(url);
    assert.equal(first.status, 101, 'dan still has a seat');
    assert.equal((await handshake(url)).status, 429, 'and only one');
    const other = await handshake(ctx.server.wsUrl({ token: 'eve', vsn: '2.0.0' }));
    assert.equal(other.status, 101, 'the node has its second seat');
    first.ws.terminate();
    other.ws.terminate();
  });
});

describe('origin allow-list', { timeout: 30_000 }, () => {
  const ctx = useServer(['--allowed-origins', 'https://*.example.com,http://localhost:4000']);

  test('listed origins and no origin pass; others get 403', async () => {
    const url = ctx.server.wsUrl({ token: 'o', vsn: '2.0.0' });
    for (const origin of ['https://app.example.com', 'http://localhost:4000']) {
      const r = await handshake(url, { Origin: origin });
      assert.equal(r.status, 101, origin);
      r.ws.terminate();
    }
    const none = await handshake(url);
    assert.equal(none.status, 101);
    none.ws.terminate();
    for (const origin of ['https://evil.com', 'https://example.com.evil.com', 'http://localhost:4001', 'null']) {
      const r = await handshake(url, { Origin: origin });
      assert.equal(r.status, 403, origin);
    }
  });
});
